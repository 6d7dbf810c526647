"""`tunelake demo` lives apart: its own raw zone, warehouse and dbt artifacts, whatever is configured.

One demo run (a day, in a process of its own, in a throwaway working folder that holds a real
configuration) serves the tests of this module: it must build its marts under `data/demo/`,
leave every configured place untouched, show dbt's progress and results, and its warehouse must
pass `dbt source freshness`. Then what points at the demo or at real data: the dashboard,
`make clean`, `make docs`, and `tunelake clean-raw-zone`, which deletes a raw zone only when
told to, after saying what is lost.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests

from ingestion.cli import EXIT_CONFIGURATION
from ingestion.spotify import tables
from ingestion.transform import DBT_PROJECT_DIR, MARTS, REPO_ROOT
from tests.dashboard_server import free_port, stop

TUNELAKE = [sys.executable, "-m", "ingestion.cli"]
MAKEFILE = REPO_ROOT / "Makefile"
DEMO = Path("data") / "demo"


def real_configuration(real: Path) -> dict[str, str]:
    """A user's real configuration in the environment: every place it names is under `real`.

    Read by the demo, the workers setting would stop it (not a number), the target and the raw
    schema would fail its dbt build, and the rest would write under `real`.
    """
    return {
        "TUNELAKE__WAREHOUSE": "snowflake",
        "TUNELAKE__RAW_ZONE_URL": str(real / "raw"),
        "DESTINATION__DUCKDB__CREDENTIALS": str(real / "destination.duckdb"),
        "DESTINATION__FILESYSTEM__BUCKET_URL": str(real / "filesystem"),
        "SOURCES__SPOTIFY__WORKERS": "not a number",
        "DBT_TARGET": "snowflake",
        "DBT_TARGET_PATH": str(real / "dbt-target"),
        "DBT_LOG_PATH": str(real / "dbt-logs"),
        "TUNELAKE_RAW_SCHEMA": "not_the_demo",
    }


@dataclass(frozen=True)
class DemoRun:
    project: Path
    real: Path
    environment: dict[str, str]
    config_toml: str
    started: float
    returncode: int
    output: str

    @property
    def warehouse(self) -> Path:
        return self.project / DEMO / "tunelake.duckdb"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> DemoRun:
    """`tunelake demo --days 1` run as a user runs it, in a folder whose `.dlt/config.toml` and environment are real."""
    root = tmp_path_factory.mktemp("demo")
    project, real = root / "project", root / "real"
    (project / ".dlt").mkdir(parents=True)
    config_toml = (
        f'[tunelake]\nduckdb_path = "{real / "toml.duckdb"}"\npipelines_dir = "{real / "pipelines"}"\n'
        '\n[sources.spotify]\ntier = "extended"\nmarket = "not a market"\n'
    )
    (project / ".dlt" / "config.toml").write_text(config_toml)
    environment = {**os.environ, **real_configuration(real)}
    started = time.time()
    finished = subprocess.run(
        [*TUNELAKE, "demo", "--days", "1"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return DemoRun(
        project, real, environment, config_toml, started, finished.returncode, finished.stdout + finished.stderr
    )


def written_since(folder: Path, moment: float) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime >= moment] if folder.exists() else []


@pytest.mark.e2e
def test_the_demo_builds_its_marts_apart_from_the_configured_warehouse_and_raw_zone(demo_run):
    assert demo_run.returncode == 0, demo_run.output[-3000:]
    assert "Traceback" not in demo_run.output
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = {mart: con.sql(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MARTS}
    assert rows["dim_tracks"] > 0
    assert rows["fct_listens"] > 0
    assert (demo_run.project / DEMO / "raw" / "spotify" / "plays").is_dir()
    assert (demo_run.project / DEMO / "dbt-target" / "catalog.json").is_file()
    # Nothing the real configuration names exists, nor any other data folder; it was not rewritten.
    assert not demo_run.real.exists()
    assert sorted(p.name for p in (demo_run.project / "data").iterdir()) == ["demo"]
    assert sorted(p.name for p in (demo_run.project / ".dlt").iterdir()) == ["config.toml"]
    assert (demo_run.project / ".dlt" / "config.toml").read_text() == demo_run.config_toml
    # The project's own dbt artifacts, logs and profile are a real project's: untouched.
    for folder in ("target", "logs"):
        assert written_since(DBT_PROJECT_DIR / folder, demo_run.started) == []
    assert written_since(DBT_PROJECT_DIR, demo_run.started) == []
    assert str(demo_run.warehouse.resolve()) in demo_run.output


@pytest.mark.e2e
def test_the_demo_shows_dbt_progress_and_ends_the_build_with_its_test_results(demo_run):
    assert demo_run.returncode == 0, demo_run.output[-3000:]
    lines = demo_run.output.splitlines()
    manifest = json.loads((demo_run.project / DEMO / "dbt-target" / "manifest.json").read_text())
    built = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"
    }
    progress = [re.match(r"  \[ *(\d+)/(\d+)\] OK +\w+\.(\w+) \(", line) for line in lines]
    shown = {match.group(3) for match in progress if match}
    assert shown == built
    totals = {match.group(2) for match in progress if match}
    assert len(totals) == 1
    results = [re.fullmatch(r"dbt build: (\d+) passed, (\d+) warnings, (\d+) errors, (\d+) skipped, (\d+) no-op", line)
               for line in lines]  # fmt: skip
    summary = [match for match in results if match]
    assert len(summary) == 1
    passed, warnings, errors, skipped, no_op = (int(n) for n in summary[0].groups())
    assert (errors, skipped) == (0, 0)
    assert passed + warnings + no_op == int(totals.pop())
    assert passed > len(built)  # the tests and unit tests passed too
    # Progress first, the results line after the last node, then the docs.
    last_node = max(i for i, match in enumerate(progress) if match)
    at = lines.index(summary[0].group(0))
    assert last_node < at < next(i for i, line in enumerate(lines) if "dbt docs generate" in line and i > at)


@pytest.mark.e2e
def test_dbt_source_freshness_passes_on_the_demo_warehouse(demo_run):
    """Every raw table with a load time is checked and fresh; the others declare that freshness means nothing."""
    assert demo_run.returncode == 0, demo_run.output[-3000:]
    sources = demo_run.project / DEMO / "dbt-target" / "sources.json"
    started = time.time()
    finished = subprocess.run(
        [*TUNELAKE, "dbt", "--demo", "source", "freshness"],
        cwd=demo_run.project,
        env=demo_run.environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:]
    checked = {
        result["unique_id"].split(".")[-1]: result["status"] for result in json.loads(sources.read_text())["results"]
    }
    with_load_time = {table.name for table in tables.DECLARED if table.loaded_at_field is not None}
    assert checked == dict.fromkeys(with_load_time, "pass")
    assert written_since(DBT_PROJECT_DIR, started) == []
    assert not demo_run.real.exists()


@pytest.mark.e2e
def test_the_dashboard_reads_the_demo_only_when_asked(demo_run):
    assert demo_run.returncode == 0, demo_run.output[-3000:]
    mine = demo_run.real / "tunelake.duckdb"
    environment = {**os.environ, "TUNELAKE__DUCKDB_PATH": str(mine)}
    refused = subprocess.run(
        [*TUNELAKE, "dashboard"], cwd=demo_run.project, env=environment, capture_output=True, text=True, check=False
    )
    assert refused.returncode == EXIT_CONFIGURATION
    assert f"No warehouse at {mine}" in refused.stderr
    assert "make dashboard-demo" in refused.stderr
    assert str(demo_run.warehouse.resolve()) in refused.stderr
    assert "Traceback" not in refused.stderr

    port = free_port()
    process = subprocess.Popen(
        [*TUNELAKE, "dashboard", "--demo", "--port", str(port)],
        cwd=demo_run.project,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or warming up
                time.sleep(0.2)
        assert process.poll() is None, "tunelake dashboard --demo exited instead of serving the demo's marts"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        stop(process)


@pytest.mark.parametrize("command", [["dashboard", "--demo"], ["dbt", "--demo", "docs", "serve"]])
def test_the_dashboard_or_docs_over_a_missing_demo_say_to_run_make_demo(tmp_path, command):
    (tmp_path / ".dlt").mkdir()  # a clone, before `make demo`
    finished = subprocess.run([*TUNELAKE, *command], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert finished.returncode == EXIT_CONFIGURATION
    assert f"No demo warehouse at {(tmp_path / DEMO / 'tunelake.duckdb').resolve()}" in finished.stderr
    assert "make demo" in finished.stderr
    assert not (tmp_path / "data").exists()


# -- make clean, make docs --------------------------------------------------------------------------


def make(target: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`make TARGET` of the project's Makefile in `cwd`, taking `install` as done."""
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(MAKEFILE), "-o", "install", target],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_make_clean_removes_the_demo_and_dbt_artifacts_but_never_real_data(tmp_path):
    kept = ["data/raw/spotify/plays/load_date=2026-12-01/1.jsonl.gz", "data/tunelake.duckdb"]
    removed = [
        "data/demo/raw/spotify/plays/load_date=2026-12-01/1.jsonl.gz",
        "data/demo/tunelake.duckdb",
        "dbt_project/target/manifest.json",
        "dbt_project/logs/dbt.log",
        "logs/dbt.log",
    ]
    for name in kept + removed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert make("clean", tmp_path).returncode == 0
    assert all((tmp_path / name).is_file() for name in kept)
    assert not any((tmp_path / name).exists() for name in removed)


def test_make_docs_without_docs_of_your_own_points_at_the_demos(tmp_path):
    (tmp_path / DEMO / "dbt-target").mkdir(parents=True)
    (tmp_path / DEMO / "dbt-target" / "catalog.json").write_text("{}")
    finished = make("docs", tmp_path)
    assert finished.returncode != 0
    assert "No docs of your warehouse yet" in finished.stdout
    assert "make docs-demo" in finished.stdout
    (tmp_path / DEMO / "dbt-target" / "catalog.json").unlink()
    finished = make("docs-demo", tmp_path)
    assert finished.returncode != 0
    assert "run 'make demo' first" in finished.stdout


# -- tunelake clean-raw-zone ------------------------------------------------------------------------


@pytest.fixture
def raw_zone(demo_run, tmp_path) -> Path:
    """A copy of the demo's raw zone, as a user's real one: years of plays from an export, then the API's."""
    assert demo_run.returncode == 0, demo_run.output[-3000:]
    copy = tmp_path / "my-raw-zone"
    shutil.copytree(demo_run.project / DEMO / "raw", copy)
    (tmp_path / ".dlt").mkdir()  # the project it belongs to
    return copy


def play_days(demo_run: DemoRun) -> tuple[str, str]:
    """The first and last day of the plays, as the warehouse built from that raw zone says."""
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        first, last = con.sql("select min(ended_date), max(ended_date) from marts.fct_listens").fetchone()
    return str(first), str(last)


def clean_raw_zone(raw_zone: Path, *options: str, answer: str | None = None) -> tuple[int, str]:
    """`tunelake clean-raw-zone` on `raw_zone`: without a terminal, or in one that types `answer`."""
    environment = {**os.environ, "TUNELAKE__RAW_ZONE_URL": str(raw_zone)}
    command = [*TUNELAKE, "clean-raw-zone", *options]
    if answer is None:
        finished = subprocess.run(
            command, env=environment, cwd=raw_zone.parent, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        return finished.returncode, finished.stdout + finished.stderr
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            command, env=environment, cwd=raw_zone.parent, stdin=terminal,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        os.write(controller, f"{answer}\n".encode())
        output, _ = process.communicate(timeout=120)
    finally:
        os.close(terminal)
        os.close(controller)
    return process.returncode, output


def test_deleting_a_raw_zone_without_a_terminal_is_refused_after_saying_what_it_holds(demo_run, raw_zone):
    files = sorted(p for p in raw_zone.rglob("*") if p.is_file())
    code, output = clean_raw_zone(raw_zone)
    assert code == EXIT_CONFIGURATION
    first, last = play_days(demo_run)
    assert f"Raw zone {raw_zone.resolve()}" in output
    assert f"{len(files):,} files" in output
    assert f"plays from {first} to {last}" in output
    assert "only copy" in output
    assert "--yes" in output
    assert "Traceback" not in output
    assert sorted(p for p in raw_zone.rglob("*") if p.is_file()) == files


def test_a_raw_zone_is_deleted_only_when_the_person_confirms(raw_zone):
    code, output = clean_raw_zone(raw_zone, answer="n")
    assert code == 0
    assert "Delete" in output
    assert "Nothing deleted." in output
    assert (raw_zone / "spotify" / "plays").is_dir()

    code, output = clean_raw_zone(raw_zone, answer="y")
    assert code == 0, output
    assert f"Deleted {raw_zone.resolve()}." in output
    assert not raw_zone.exists()


def test_yes_deletes_a_raw_zone_without_asking(raw_zone):
    code, output = clean_raw_zone(raw_zone, "--yes")
    assert code == 0, output
    assert not raw_zone.exists()
    code, output = clean_raw_zone(raw_zone, "--yes")
    assert code == 0
    assert "nothing to delete" in output
