"""The Lambda artifact (lambda/build.py): size, layout, bytecode, and an import that sees nothing else.

The import checks run on a build for this machine's architecture (native modules of another
architecture do not load here); the shipped architecture is built too, which proves its wheels
exist and load on Amazon Linux 2 (the build checks every library against glibc 2.26).
Installs come from uv's cache, so a build takes seconds once the wheels are there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def load_build_module():
    spec = importlib.util.spec_from_file_location("tunelake_lambda_build", ROOT / "lambda" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = load_build_module()
HOST_ARCH = build.host_arch()


def isolated(folder: Path, code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in an interpreter that sees `folder` and the standard library only."""
    return subprocess.run(
        build.isolated_import_command(folder, code),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), "RUNTIME__DLTHUB_TELEMETRY": "false", **environment},
    )


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    if HOST_ARCH is None:
        pytest.skip("no Lambda architecture matches this machine")
    return build.build(tmp_path_factory.mktemp("lambda"), HOST_ARCH, build.Flavor("athena"))


def test_the_zip_fits_lambdas_limit_and_matches_the_folder(artifact):
    assert artifact.size_bytes < build.LIMIT_BYTES
    with zipfile.ZipFile(artifact.zip_path) as archive:
        entries = archive.infolist()
    assert sum(entry.file_size for entry in entries) == artifact.size_bytes
    names = [entry.filename for entry in entries]
    assert names == sorted(names)
    assert {entry.date_time for entry in entries} == {build.ZIP_DATE}
    assert "handler.py" in names
    assert "handler.py" in os.listdir(artifact.folder)
    assert "ingestion/pipeline.py" in names
    assert not any(name.startswith("sandbox/") for name in names)


def test_every_module_ships_unchecked_hash_bytecode(artifact):
    sources = list(artifact.folder.rglob("*.py"))
    assert len(sources) > 1000
    missing = [str(p) for p in sources if not Path(importlib.util.cache_from_source(str(p))).exists()]
    assert missing == []
    # PEP 552 header: flags 0b01 = hash-based, source never checked.
    flags = {int.from_bytes(p.read_bytes()[4:8], "little") for p in artifact.folder.rglob("*.pyc")}
    assert flags == {0b01}
    # Paths inside are Lambda's (/var/task), not the build folder's: the zip is reproducible.
    code = marshal.loads((artifact.folder / "__pycache__" / "handler.cpython-311.pyc").read_bytes()[16:])  # noqa: S302 (our build)
    assert code.co_filename == "/var/task/handler.py"


def test_no_test_or_development_tools_ship(artifact):
    top_level = {path.name.lower() for path in artifact.folder.iterdir()}
    for tool in ("pytest", "_pytest", "moto", "ruff", "sqlfluff", "selenium", "cfnlint", "samtranslator"):
        assert tool not in top_level
        assert not any(name.startswith(f"{tool}-") and name.endswith(".dist-info") for name in top_level)
    assert not (artifact.folder / "pyarrow" / "tests").exists()
    assert not (artifact.folder / "bin").exists()


def test_handler_imports_from_the_artifact_alone(artifact):
    code = (
        "import handler, sys, sysconfig; stdlib = sysconfig.get_paths()['stdlib']; "
        "print(sys.flags.no_site, sys.flags.isolated); "
        "print(sorted(m.__file__ for m in list(sys.modules.values()) "
        f"if getattr(m, '__file__', None) and not m.__file__.startswith(({str(artifact.folder)!r}, stdlib))))"
    )
    result = isolated(artifact.folder, code)
    assert result.returncode == 0, result.stderr
    # No site-packages, nothing from the environment, every module from the artifact or the stdlib.
    assert result.stdout.splitlines() == ["1 1", "[]"]


def test_a_dependency_missing_from_the_artifact_fails_the_import(artifact, tmp_path):
    # The same artifact without spotipy (links, not copies): the import must not find it elsewhere.
    for entry in artifact.folder.iterdir():
        if not entry.name.startswith("spotipy"):
            (tmp_path / entry.name).symlink_to(entry)
    result = isolated(tmp_path, "import handler")
    assert result.returncode != 0
    assert "No module named 'spotipy'" in result.stderr


def test_the_warehouse_load_writes_parquet_with_the_shipped_pyarrow(artifact, tmp_path):
    # Trimmed pyarrow, the version the lock holds for Amazon Linux 2, still serves dlt's parquet writer.
    code = f"""
import handler, dlt, pyarrow, pyarrow.parquet as pq
import dlt.destinations.impl.athena.athena
pipeline = dlt.pipeline("smoke", destination=dlt.destinations.filesystem(bucket_url={str(tmp_path / "lake")!r}),
                        dataset_name="spotify", pipelines_dir={str(tmp_path / "pipelines")!r})
rows = [{{"id": i, "name": f"track {{i}}", "album": {{"popularity": i / 2}}}} for i in range(3)]
info = pipeline.run(rows, table_name="tracks", loader_file_format="parquet")
assert not info.has_failed_jobs
import pathlib
[file] = pathlib.Path({str(tmp_path / "lake")!r}).glob("spotify/tracks/*.parquet")
print(pyarrow.__version__, pq.read_table(file).num_rows)
"""
    result = isolated(artifact.folder, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [importlib.metadata.version("pyarrow"), "3"]


@pytest.mark.parametrize("warehouse", ["athena", "snowflake"])
def test_the_shipped_architecture_builds_from_the_lock(tmp_path, warehouse):
    assert build.DEFAULT_ARCH == "arm64"  # lambda/template.yaml's Architectures
    shipped = build.build(tmp_path, build.DEFAULT_ARCH, build.Flavor(warehouse), make_zip=False)
    assert shipped.size_bytes < build.LIMIT_BYTES
    # The one version the lock cannot give (no wheel that loads on Amazon Linux 2).
    assert {name: shipped for name, (_, shipped) in shipped.deviations.items()} == build.RUNTIME_OVERRIDES
    machine = build.ARCHES[build.DEFAULT_ARCH]
    assert list((shipped.folder / "pyarrow").glob(f"lib.cpython-311-{machine}-linux-gnu.so"))


def test_the_container_folder_runs_dbt_without_writing_to_its_code_folder(tmp_path):
    # The dbt flavor is the folder lambda/Dockerfile copies (the image itself needs Docker). Its
    # profile defaults to the shipped adapter's target; dbt writes under /tmp-like paths only.
    if HOST_ARCH is None:
        pytest.skip("no Lambda architecture matches this machine")
    image = build.build(tmp_path, HOST_ARCH, build.Flavor("athena", dbt=True), make_zip=False, name="lambda-dbt")
    assert (image.folder / "dbt_project" / "profiles.yml").exists()
    assert not (image.folder / "dbt_project" / "target").exists()
    before = sorted(image.folder.rglob("*"))
    code = (
        "import handler; from ingestion.transform import run_dbt; "
        "result = run_dbt(['compile', '--quiet', '--no-populate-cache', '--vars', '{offline_compile: true}']); "
        "print(len(result.result.results))"
    )
    result = isolated(
        image.folder,
        code,
        HOME=str(tmp_path / "home"),
        DBT_TARGET_PATH=str(tmp_path / "dbt" / "target"),
        DBT_LOG_PATH=str(tmp_path / "dbt" / "logs"),
        DO_NOT_TRACK="1",
        AWS_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="example",
        AWS_SECRET_ACCESS_KEY="example",
        ATHENA_S3_STAGING_DIR="s3://example/athena-results/",
        ATHENA_S3_DATA_DIR="s3://example/athena-data/",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) > 50
    assert (tmp_path / "dbt" / "target" / "manifest.json").exists()
    assert sorted(image.folder.rglob("*")) == before
