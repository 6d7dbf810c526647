"""Raw zone compaction on raw zones written by real runs against the sandbox (and on moto's S3).

Real loads get real load ids, so every load of a test lands on today's UTC date: the tests
compact with `today` set to tomorrow (the day the scheduled compaction would close today), and
check that the default (today) leaves today's loads alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion import compaction, raw_zone, run_lock
from ingestion.config import Settings
from ingestion.exits import EXIT_LOCKED
from ingestion.history.importer import import_history
from ingestion.pipeline import DATASET, RunSummary, ingest, load_warehouse
from ingestion.project import PROJECT_VARIABLE
from ingestion.spotify import tables
from sandbox import export as exports
from tests.standins import moto
from tests.standins.moto import aws_environment, moto_server
from tests.support import comparable_rows, ingest_days, source_for

SIMULATED_DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
BUCKET = "tunelake-raw"


def tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A raw zone of three simulated days of runs (the user's listening too) and a privacy-export import.

    Built once; each test works on its own copy (`zone`).
    """
    root = tmp_path_factory.mktemp("written")
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "tunelake.duckdb"), pipelines_dir=str(root / "pipes")
    )
    ingest_days(settings, SIMULATED_DAYS, tracks=500)
    export = exports.write_zip(root / "export.zip", {"endsong_0.json": exports.extended(40)})
    assert import_history(settings, [export]).complete
    return root / "raw"


@pytest.fixture
def zone(written, tmp_path) -> Settings:
    """A copy of the written raw zone, with a warehouse and dlt folder of its own (both empty)."""
    shutil.copytree(written, tmp_path / "raw")
    return Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def rebuilt(settings: Settings, name: str) -> dict[str, list[tuple]]:
    """Every raw table of a new DuckDB warehouse loaded from the raw zone alone, rows sorted."""
    folder = Path(settings.pipelines_dir).parent / name
    fresh = Settings(
        raw_zone_url=settings.raw_zone_url,
        duckdb_path=str(folder / "tunelake.duckdb"),
        pipelines_dir=str(folder / "pipelines"),
    )
    load_warehouse(fresh, RunSummary())
    with duckdb.connect(fresh.duckdb_path, read_only=True) as con:
        return {
            table: comparable_rows(con.sql(f"select {', '.join(spec['columns'])} from {DATASET}.{table}").fetchall())
            for table, spec in tables.TABLES.items()
        }


def files(root: Path) -> dict[str, int]:
    """Every file under a local raw zone and its size (the lock file aside)."""
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file() and path.name != run_lock.LOCK_NAME
    }


def data_files(root: Path) -> dict[tuple[str, str], list[str]]:
    """Per table and day partition, the data files."""
    found: dict[tuple[str, str], list[str]] = {}
    for table in tables.TABLES:
        for path in sorted((root / DATASET / table).glob("load_date=*/*")):
            found.setdefault((table, path.parent.name), []).append(path.name)
    return found


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_compacted_day_holds_one_file_per_table_and_rebuilds_the_same_warehouse_rows(zone):
    root = Path(zone.raw_zone_url)
    loads = [entry.load_id for entry in raw_zone.pending(zone.raw_zone_url, None)]
    assert len(loads) == len(SIMULATED_DAYS) + 1, "a load a day and the import"
    before = rebuilt(zone, "before")
    assert sum(map(len, before.values())) > 1000
    assert before["history_streams"], "the import's rows are compacted too"

    summary = compaction.compact(zone.raw_zone_url, today=tomorrow())

    assert [day.day for day in summary.days] == [datetime.now(UTC).date()]
    assert summary.days[0].loads == len(loads)
    assert summary.files_after < summary.files_before
    by_table = data_files(root)
    assert by_table, "the rows are still there"
    assert {where: names for where, names in by_table.items() if len(names) > 1} == {}
    assert all(names[0].endswith(compaction.COMPACTED_SUFFIX) for names in by_table.values())
    (entry,) = raw_zone.pending(zone.raw_zone_url, None)
    assert entry.load_id == max(loads, key=float)
    assert sorted(entry.replaces, key=float) == sorted(loads, key=float)
    assert not list((root / DATASET / "_dlt_loads").glob("*.jsonl")), "records of compacted loads pruned"
    assert rebuilt(zone, "after") == before


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_second_compaction_changes_nothing_and_todays_loads_are_left_alone(zone):
    root = Path(zone.raw_zone_url)
    written = files(root)

    today = compaction.compact(zone.raw_zone_url)
    assert today.days == []
    assert today.open_days == 1
    assert files(root) == written, "today's loads are never compacted by default"

    compaction.compact(zone.raw_zone_url, today=tomorrow())
    compacted = files(root)
    again = compaction.compact(zone.raw_zone_url, today=tomorrow())
    assert again.days == []
    assert again.already_compacted == 1
    assert files(root) == compacted


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_compaction_stopped_before_deleting_reads_each_row_once_and_the_next_one_finishes(zone):
    root = Path(zone.raw_zone_url)
    before = rebuilt(zone, "before")
    raw = raw_zone.open_zone(zone.raw_zone_url)
    (day,), _ = compaction.plan(raw, tomorrow())
    # Steps 1 and 2 only: the compacted files and entry written, nothing deleted (a crash here).
    compaction.write_compacted(raw, day)
    assert len(list((root / DATASET / raw_zone.INDEX).rglob("*.json"))) == len(day.entries)
    assert rebuilt(zone, "stopped") == before

    finished = compaction.compact(zone.raw_zone_url, today=tomorrow())
    assert [d.day for d in finished.days] == [day.day]
    assert all(len(names) == 1 for names in data_files(root).values())
    assert len(list((root / DATASET / raw_zone.INDEX).rglob("*.json"))) == 1
    assert rebuilt(zone, "finished") == before


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_a_load_arriving_on_a_compacted_day_is_folded_in_by_the_next_compaction(zone, sandbox):
    root = Path(zone.raw_zone_url)
    compaction.compact(zone.raw_zone_url, today=tomorrow())
    # A load on the day already compacted (a scheduled run whose clock is behind does this).
    ingest(zone, source_for(sandbox))
    before = rebuilt(zone, "before")
    assert len(raw_zone.pending(zone.raw_zone_url, None)) == 2

    assert compaction.compact(zone.raw_zone_url).days == [], "the day is still open"
    summary = compaction.compact(zone.raw_zone_url, today=tomorrow())

    assert len(summary.days) == 1
    assert all(len(names) == 1 for names in data_files(root).values())
    (entry,) = raw_zone.pending(zone.raw_zone_url, None)
    assert len(entry.replaces) == len(SIMULATED_DAYS) + 2
    assert rebuilt(zone, "after") == before


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_tunelake_compact_exits_6_while_another_run_holds_the_raw_zone_and_then_compacts(zone, tmp_path):
    root = Path(zone.raw_zone_url)
    written = files(root)
    env = {
        **os.environ,
        "TUNELAKE__RAW_ZONE_URL": zone.raw_zone_url,
        "TUNELAKE__DUCKDB_PATH": zone.duckdb_path,
        "TUNELAKE__PIPELINES_DIR": zone.pipelines_dir,
        PROJECT_VARIABLE: str(tmp_path),
    }
    command = [sys.executable, "-m", "ingestion.cli", "compact", "--before", tomorrow().isoformat()]
    # What `tunelake clean-raw-zone` says the raw zone holds, before it asks (no terminal: it refuses).
    clean = [sys.executable, "-m", "ingestion.cli", "clean-raw-zone"]
    said = subprocess.run(
        clean, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    holds = said.stdout.split("; ", 1)[1].split(".", 1)[0]
    assert holds.startswith("plays from "), said.stdout

    with run_lock.hold(zone.raw_zone_url, "ingest"):
        locked = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert locked.returncode == EXIT_LOCKED, locked.stderr
    assert f"`tunelake ingest` on host {os.uname().nodename}, pid {os.getpid()}," in locked.stderr
    assert "Traceback" not in locked.stderr
    assert files(root) == written

    dry = subprocess.run([*command, "--dry-run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert f"1 closed day(s) of {zone.raw_zone_url} to compact" in dry.stdout
    assert f"{datetime.now(UTC).date()}     {len(SIMULATED_DAYS) + 1} loads" in dry.stdout
    assert files(root) == written

    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Compacted 1 day(s) ({len(SIMULATED_DAYS) + 1} loads) of {zone.raw_zone_url}" in done.stdout
    assert "  files " in done.stdout
    assert "  bytes " in done.stdout
    assert all(len(names) == 1 for names in data_files(root).values())
    said = subprocess.run(
        clean, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert f"; {holds}." in said.stdout, "the compacted plays are counted too"


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server with an empty bucket; dlt's destination and source pointed at it."""
    with moto_server() as endpoint:
        for name, value in aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        s3_client = moto.client("s3", endpoint)
        s3_client.create_bucket(Bucket=BUCKET)
        yield s3_client


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_an_s3_raw_zone_is_compacted_to_one_object_per_table_with_the_same_rows(s3, sandbox, tmp_path):
    settings = Settings(
        raw_zone_url=f"s3://{BUCKET}/zone",
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    for day in SIMULATED_DAYS[:2]:
        sandbox.api.clock.set_date(day)
        ingest(settings, source_for(sandbox, user=True))
    before = rebuilt(settings, "before")

    summary = compaction.compact(settings.raw_zone_url, today=tomorrow())

    assert summary.days[0].loads == 2
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="zone/spotify/")["Contents"]]
    # zone/spotify/<table>/load_date=<day>/<file>: dlt's own tables start with an underscore.
    data = [k for k in keys if len(k.split("/")) == 5 and not k.split("/")[2].startswith("_")]
    per_table: dict[str, list[str]] = {}
    for key in data:
        per_table.setdefault(key.split("/")[2], []).append(key)
    assert per_table, keys
    assert all(len(found) == 1 for found in per_table.values()), per_table
    assert all(key.endswith(compaction.COMPACTED_SUFFIX) for key in data)
    assert len([k for k in keys if f"/{raw_zone.INDEX}/" in k]) == 1
    assert rebuilt(settings, "after") == before
    assert compaction.compact(settings.raw_zone_url, today=tomorrow()).days == []
