"""Every error a person can cause, through the real command line: a message, not a traceback.

Each case runs `python -m ingestion.cli` in a project that already holds one ingestion, and
checks the documented exit code, that the culprit (setting, file, port) is named, that no
traceback is printed, that Spotify got no request, and that the data already collected is intact.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from ingestion.exits import EXIT_CONFIGURATION, EXIT_PARTIAL
from ingestion.project import PROJECT_VARIABLE
from sandbox import Catalog, SandboxApi, SandboxServer
from tests.conftest import START
from tests.standins.moto import aws_environment, signing_moto_server
from tests.support import cli_environment, reset_stats, stats

REPOSITORY = Path(__file__).resolve().parents[1]
BUCKET = "tunelake-raw"


@dataclass
class Project:
    """A project folder (with `.dlt/`) that has run one ingestion against `server`."""

    root: Path
    server: SandboxServer
    environment: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, cwd: Path | None = None, **changes: str | None) -> subprocess.CompletedProcess[str]:
        environment = {**self.environment, **changes}
        return subprocess.run(
            [sys.executable, "-m", "ingestion.cli", *args],
            cwd=cwd or self.root,
            env={name: value for name, value in environment.items() if value is not None},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def collected(self) -> dict[str, str]:
        """Every file of the raw zone and the warehouse, with its content's digest."""
        files = sorted(p for p in (self.root / "data" / "raw").rglob("*") if p.is_file())
        digests = {str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        with duckdb.connect(str(self.root / "data" / "tunelake.duckdb"), read_only=True) as con:
            for (table,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'spotify'"
            ).fetchall():
                digests[f"warehouse {table}"] = str(con.sql(f"select count(*) from spotify.{table}").fetchone()[0])
        return digests


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Iterator[Project]:
    """The repository's own `.dlt/config.toml` in a new folder, and one ingestion done with it."""
    root = tmp_path_factory.mktemp("project")
    (root / ".dlt").mkdir()
    shutil.copy(REPOSITORY / ".dlt" / "config.toml", root / ".dlt" / "config.toml")
    catalog = Catalog(seed=7, tracks=2_000)
    with SandboxServer(SandboxApi(catalog, today=START)) as server:
        environment = os.environ | cli_environment(
            server, root, playlists=[catalog.encode_id("playlist", p) for p in catalog.owned_playlists()[:2]]
        )
        # The project's own `.dlt/config.toml` says where the data goes, as a user's does.
        for name in ("TUNELAKE__RAW_ZONE_URL", "TUNELAKE__DUCKDB_PATH", "TUNELAKE__PIPELINES_DIR", PROJECT_VARIABLE):
            environment.pop(name)
        done = Project(root, server, environment)
        first = done.run("ingest")
        assert first.returncode == 0, first.stdout + first.stderr
        yield done


@pytest.fixture
def case(project) -> Iterator[Project]:
    """The project with Spotify's request count reset; its `.dlt/` files are restored afterwards."""
    config = (project.root / ".dlt" / "config.toml").read_text()
    reset_stats(project.server)
    yield project
    (project.root / ".dlt" / "config.toml").write_text(config)
    (project.root / ".dlt" / "secrets.toml").unlink(missing_ok=True)


@pytest.fixture
def refused(case) -> Iterator[Project]:
    """A case that must change nothing: no request spent, what was collected intact."""
    before = case.collected()
    yield case
    assert sum(stats(case.server).values()) == 0, "a request was spent"
    assert case.collected() == before, "what was already collected changed"


def write(name: str, text: str, append: bool = False) -> Callable[[Project], None]:
    def edit(project: Project) -> None:
        path = project.root / ".dlt" / name
        path.write_text((path.read_text() if append else "") + text)

    return edit


def nothing(_: Project) -> None:
    return None


def file_in_the_way(project: Project) -> None:
    (project.root / "a-file").write_text("not a folder")


@dataclass(frozen=True)
class Mistake:
    """A command line, the environment it runs with, an edit of the project, and what must come out."""

    args: tuple[str, ...]
    code: int
    named: tuple[str, ...]
    changes: dict[str, str] = field(default_factory=dict)
    edit: Callable[[Project], None] = nothing


def ingest_with(setting: str, value: str, *named: str) -> Mistake:
    return Mistake(("ingest",), 3, named, {setting: value})


CASES = {
    "config.toml syntax": Mistake(("ingest",), 3, ("config.toml", "line"), edit=write("config.toml", "\n[x\n", True)),
    "secrets.toml syntax": Mistake(("ingest",), 3, ("secrets.toml", "line"), edit=write("secrets.toml", 'id = "a\n')),
    "list given a number": ingest_with("SOURCES__SPOTIFY__PLAYLISTS", "5", "sources.spotify.playlists", "a list"),
    "workers given text": ingest_with("SOURCES__SPOTIFY__WORKERS", "many", "sources.spotify.workers", "'many'"),
    "max_retry_after given text": ingest_with(
        "SOURCES__SPOTIFY__MAX_RETRY_AFTER", "x", "sources.spotify.max_retry_after"
    ),
    "requests_per_second given text": ingest_with(
        "SOURCES__SPOTIFY__REQUESTS_PER_SECOND", "fast", "sources.spotify.requests_per_second"
    ),
    "unknown warehouse (ingest)": ingest_with("TUNELAKE__WAREHOUSE", "postgres", "tunelake.warehouse", "'postgres'"),
    "unknown warehouse (query)": Mistake(
        ("query", "select 1"), 3, ("tunelake.warehouse",), {"TUNELAKE__WAREHOUSE": "postgres"}
    ),
    "raw zone not writable": Mistake(
        ("ingest",),
        3,
        ("tunelake.raw_zone_url", "a-file/raw"),
        {"TUNELAKE__RAW_ZONE_URL": "a-file/raw"},
        file_in_the_way,
    ),
    "query typo": Mistake(("query", "selec * from marts.dim_tracks"), 2, ("Query failed", "selec")),
    "query unknown table": Mistake(("query", "select * from marts.no_such_mart"), 2, ("no_such_mart",)),
    "query empty": Mistake(("query", "  "), 2, ("SQL is empty",)),
    "query before any warehouse": Mistake(
        ("query", "select 1"), 3, ("tunelake.duckdb_path", "none.duckdb"), {"TUNELAKE__DUCKDB_PATH": "data/none.duckdb"}
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(CASES))
def test_an_error_a_person_causes_is_a_message_with_its_exit_code(refused, name):
    mistake = CASES[name]
    mistake.edit(refused)
    result = refused.run(*mistake.args, **mistake.changes)
    output = result.stdout + result.stderr
    assert result.returncode == mistake.code, output
    for culprit in mistake.named:
        assert culprit in output, output
    assert "Traceback" not in output


@pytest.mark.e2e
def test_with_debug_the_traceback_is_shown(refused):
    write("config.toml", "\n[broken\n", append=True)(refused)
    assert "Traceback" in refused.run("ingest", TUNELAKE_DEBUG="1").stderr
    assert "Traceback" in refused.run("--debug", "ingest").stderr


@pytest.mark.e2e
def test_a_warehouse_held_by_another_process_stops_ingest_and_query_before_a_request(refused):
    with duckdb.connect(str(refused.root / "data" / "tunelake.duckdb")):
        for args in (["ingest"], ["query", "select count(*) from spotify.tracks"]):
            result = refused.run(*args)
            assert result.returncode == EXIT_CONFIGURATION, result.stderr
            assert "tunelake.duckdb_path" in result.stderr
            assert f"held by process {os.getpid()}" in result.stderr
            assert "Traceback" not in result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("secret", "reason"),
    [("wrong-secret", "S3 refused the credentials (SignatureDoesNotMatch)"), (None, "no AWS credentials")],
)
def test_s3_refusing_the_credentials_stops_before_a_request(refused, secret, reason):
    with signing_moto_server(BUCKET) as (endpoint, key_id, _):
        s3: dict[str, str | None] = dict(aws_environment(endpoint, key_id, secret or ""))
        if secret is None:
            s3 = {name: None if "ACCESS_KEY" in name else value for name, value in s3.items()}
        result = refused.run("ingest", TUNELAKE__RAW_ZONE_URL=f"s3://{BUCKET}/zone", HOME=str(refused.root), **s3)
    assert result.returncode == EXIT_CONFIGURATION, result.stderr
    assert f"tunelake.raw_zone_url: cannot write to s3://{BUCKET}/zone" in result.stderr
    assert reason in result.stderr
    assert len(result.stderr) < 600
    assert "Traceback" not in result.stderr


def test_the_sandbox_on_a_busy_port_names_the_port(sandbox):
    port = sandbox.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", "sandbox", "--port", port, "--tracks", "200"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == EXIT_CONFIGURATION
    assert f"--port {port}" in result.stderr
    assert "Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_a_subdirectory_uses_the_project_and_outside_any_project_it_refuses(refused, tmp_path):
    case = refused
    deeper = case.root / "notebooks" / "2026"
    deeper.mkdir(parents=True)
    inside = case.run("query", "select count(*) as tracks from spotify.tracks", cwd=deeper)
    assert inside.returncode == 0, inside.stderr
    with duckdb.connect(str(case.root / "data" / "tunelake.duckdb"), read_only=True) as con:
        assert str(con.sql("select count(*) from spotify.tracks").fetchone()[0]) in inside.stdout
    assert not (deeper / "data").exists()

    outside = case.run("ingest", cwd=tmp_path)
    assert outside.returncode == EXIT_CONFIGURATION
    assert f"neither {tmp_path} nor a folder above it holds .dlt/" in outside.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_a_run_that_loaded_nothing_it_was_asked_for_exits_non_zero_with_the_reason(case):
    catalog = case.server.api.catalog
    editorial = next(p for p in range(catalog.playlist_count) if catalog.playlist_is_editorial(p))
    result = case.run("ingest", "--playlist", catalog.encode_id("playlist", editorial))
    assert result.returncode == EXIT_PARTIAL, result.stdout + result.stderr
    assert "Nothing you asked for was loaded: all 1 tracked ids were skipped" in result.stderr
    assert "editorial and algorithmic playlists answer 404 to development-mode apps" in result.stderr


@pytest.mark.e2e
def test_dry_run_needs_no_credentials_and_sends_nothing(refused):
    result = refused.run("ingest", "--dry-run", SOURCES__SPOTIFY__CLIENT_ID=None, SOURCES__SPOTIFY__CLIENT_SECRET=None)
    assert result.returncode == 0, result.stderr
    assert "Dry run: nothing is requested" in result.stdout
    assert "playlists to snapshot today" in result.stdout


@pytest.mark.e2e
def test_albums_and_queries_from_the_command_line_replace_the_configured_lists(case):
    catalog = case.server.api.catalog
    album = catalog.encode_id("album", 5)
    result = case.run("ingest", "--album", album, "--query", "golden hour")
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(case.root / "data" / "tunelake.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from spotify.albums where album_id = ?", params=[album]).fetchone()[0] == 1
        queries = {q for (q,) in con.sql("select distinct query from spotify.search_results").fetchall()}
    assert queries == {"golden hour"}
