"""The raw zone's load index: the warehouse finds new loads without reading old ones, and rebuilds the same."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ingestion import raw_zone
from ingestion.config import Settings
from ingestion.pipeline import RAW_PIPELINE, RunSummary, ingest, load_warehouse, raw_pipeline
from ingestion.spotify import tables
from tests.support import other_settings, reset_stats, source_for, stats

# Two loads on one UTC day, one the next day: the rebuild groups the first two in one dlt run.
OCT_1_MORNING, OCT_1_EVENING, OCT_2 = (
    f"{datetime(2026, 10, day, hour, tzinfo=UTC).timestamp():.6f}" for day, hour in ((1, 8), (1, 20), (2, 9))
)


def write_load(raw: Path, load_id: str, rows: dict[str, list[dict]]) -> None:
    """One completed load as dlt's raw pipeline leaves it: gzipped JSON lines per table, a `_dlt_loads` record."""
    day = raw_zone.day_of(load_id).isoformat()
    for table, table_rows in rows.items():
        folder = raw / "spotify" / table / f"load_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / f"{load_id}.5e1f0c.jsonl.gz", "wt") as file:
            file.writelines(json.dumps(row) + "\n" for row in table_rows)
    loads = raw / "spotify" / "_dlt_loads"
    loads.mkdir(parents=True, exist_ok=True)
    # dlt's mark of a raw zone it created (its storage version).
    (raw / "spotify" / "init").write_text(json.dumps({"initial_version": 2, "current_version": 2}))
    record = {"load_id": load_id, "schema_name": "spotify", "status": 0, "inserted_at": "2026-10-01T00:00:00+00:00"}
    (loads / f"spotify__{load_id}.jsonl").write_text(json.dumps(record) + "\n")


def track(track_id: str, name: str, observed: str) -> dict:
    return {"track_id": track_id, "name": name, "duration_ms": 1000, "observed_at": f"{observed}T08:00:00+00:00"}


def observation(track_id: str, day: str, popularity: int) -> dict:
    return {"track_id": track_id, "observed_date": day, "popularity": popularity, "observed_at": f"{day}T08:00:00Z"}


LOADS = {
    OCT_1_MORNING: {
        "tracks": [track("t1", "first title", "2026-10-01"), track("t2", "kept", "2026-10-01")],
        "track_observations": [observation("t1", "2026-10-01", 10), observation("t2", "2026-10-01", 20)],
    },
    # The same day again: t1 renamed, t1's observation of the day corrected.
    OCT_1_EVENING: {
        "tracks": [track("t1", "second title", "2026-10-01")],
        "track_observations": [observation("t1", "2026-10-01", 11)],
    },
    OCT_2: {
        "tracks": [track("t1", "third title", "2026-10-02"), track("t3", "new", "2026-10-02")],
        "track_observations": [observation("t1", "2026-10-02", 12)],
    },
}


def warehouse_rows(settings: Settings) -> dict[str, list[tuple]]:
    """Every declared column of every raw table in the warehouse, sorted (dlt's own columns left out)."""
    with duckdb.connect(settings.duckdb_path) as con:
        present = {
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'spotify'"
            ).fetchall()
        }
        return {
            table: sorted(con.sql(f"select {', '.join(spec['columns'])} from spotify.{table}").fetchall(), key=repr)
            for table, spec in tables.TABLES.items()
            if table in present
        }


def warehouse_runs(settings: Settings) -> int:
    """dlt runs that loaded the warehouse (its `_dlt_loads` rows)."""
    with duckdb.connect(settings.duckdb_path) as con:
        return con.sql("select count(*) from spotify._dlt_loads").fetchone()[0]


def entry_files(raw: Path) -> list[str]:
    return sorted(str(p.relative_to(raw)) for p in (raw / "spotify" / raw_zone.INDEX).glob("load_date=*/*.json"))


def test_a_rebuild_from_the_raw_zone_groups_loads_by_day_and_equals_the_incremental_warehouse(settings, tmp_path):
    raw = Path(settings.raw_zone_url)
    for load_id, rows in LOADS.items():
        write_load(raw, load_id, rows)
        raw_zone.index_load(settings.raw_zone_url, load_id)
        load_warehouse(settings, RunSummary())
    incremental = warehouse_rows(settings)
    assert warehouse_runs(settings) == 3

    rebuilt = other_settings(tmp_path, "rebuilt")
    rebuilt = Settings(
        raw_zone_url=settings.raw_zone_url, duckdb_path=rebuilt.duckdb_path, pipelines_dir=rebuilt.pipelines_dir
    )
    load_warehouse(rebuilt, RunSummary())

    assert warehouse_runs(rebuilt) == 2, "one dlt run per UTC day"
    assert warehouse_rows(rebuilt) == incremental
    names = {row[0]: row[2] for row in incremental["tracks"]}
    assert names == {"t1": "third title", "t2": "kept", "t3": "new"}
    # Within the grouped day, the evening's correction wins over the morning's row of the same key.
    popularity = {(row[0], row[1].isoformat()): row[2] for row in incremental["track_observations"]}
    assert popularity == {("t1", "2026-10-01"): 11, ("t2", "2026-10-01"): 20, ("t1", "2026-10-02"): 12}


def test_a_raw_zone_written_before_the_index_is_indexed_once_and_loads(settings):
    raw = Path(settings.raw_zone_url)
    for load_id, rows in LOADS.items():
        write_load(raw, load_id, rows)
    # A load dlt had not completed (no `_dlt_loads` record): not indexed, not loaded.
    unfinished = f"{datetime(2026, 10, 2, 10, tzinfo=UTC).timestamp():.6f}"
    write_load(raw, unfinished, {"tracks": [track("t9", "half written", "2026-10-02")]})
    (raw / "spotify" / "_dlt_loads" / f"spotify__{unfinished}.jsonl").unlink()

    load_warehouse(settings, RunSummary())

    assert [e.load_id for e in raw_zone.pending(settings.raw_zone_url, None)] == list(LOADS)
    assert len(entry_files(raw)) == 3
    entry = raw_zone.pending(settings.raw_zone_url, OCT_1_EVENING)[0]
    assert entry.load_id == OCT_2
    assert entry.files == {
        "tracks": [f"spotify/tracks/load_date=2026-10-02/{OCT_2}.5e1f0c.jsonl.gz"],
        "track_observations": [f"spotify/track_observations/load_date=2026-10-02/{OCT_2}.5e1f0c.jsonl.gz"],
    }
    names = {row[0]: row[2] for row in warehouse_rows(settings)["tracks"]}
    assert names == {"t1": "third title", "t2": "kept", "t3": "new"}


def test_a_day_compacted_to_parquet_is_read_once_and_rebuilds_the_same_warehouse(settings, tmp_path):
    raw = Path(settings.raw_zone_url)
    for load_id in LOADS:
        write_load(raw, load_id, LOADS[load_id])
        raw_zone.index_load(settings.raw_zone_url, load_id)
        load_warehouse(settings, RunSummary())
    incremental = warehouse_rows(settings)

    # October 1st compacted into one parquet file per table, its columns in another order; the
    # compaction stopped before deleting the morning's entry.
    day = raw_zone.pending(settings.raw_zone_url, None)[:2]
    files = {}
    for table in ("tracks", "track_observations"):
        batches = (b for e in day for b in raw_zone.read_batches(settings.raw_zone_url, table, e.files[table]))
        latest = raw_zone.latest_per_key(table, batches)
        files[table] = [f"spotify/{table}/load_date=2026-10-01/{OCT_1_EVENING}.compacted.parquet"]
        pq.write_table(latest.select(list(reversed(latest.column_names))), raw / files[table][0])
        for entry in day:
            (raw / entry.files[table][0]).unlink()
    compacted = raw_zone.Entry(OCT_1_EVENING, files, (OCT_1_MORNING, OCT_1_EVENING))
    raw_zone.write_entry(settings.raw_zone_url, compacted)
    assert [e.load_id for e in raw_zone.pending(settings.raw_zone_url, None)] == [OCT_1_EVENING, OCT_2]

    rebuilt = other_settings(tmp_path, "rebuilt")
    rebuilt = Settings(
        raw_zone_url=settings.raw_zone_url, duckdb_path=rebuilt.duckdb_path, pipelines_dir=rebuilt.pipelines_dir
    )
    load_warehouse(rebuilt, RunSummary())
    assert warehouse_rows(rebuilt) == incremental


@pytest.mark.e2e
def test_a_rerun_reads_only_the_index_folders_of_the_cursors_day_and_after(start_sandbox, settings):
    raw = Path(settings.raw_zone_url)
    for load_id, rows in LOADS.items():
        write_load(raw, load_id, rows)
    sandbox = start_sandbox(tracks=300)
    first = ingest(settings, source_for(sandbox))
    assert len(entry_files(raw)) == 4, "October's three loads backfilled, today's indexed"
    before = warehouse_rows(settings)
    assert {row[0] for row in before["tracks"]} >= {"t1", "t2", "t3"}

    # Whatever a re-run would read of October now fails loudly: its index entries, its data
    # files, and dlt's `_dlt_loads` records (the whole history of loads).
    garbage = b"not what was written\n"
    for old in [*(raw / "spotify").glob("*/load_date=2026-10-0*/*"), *(raw / "spotify" / "_dlt_loads").iterdir()]:
        old.write_bytes(garbage)

    second = ingest(settings, source_for(sandbox))

    assert second.raw_load_ids != first.raw_load_ids
    today = raw_zone.day_of(second.raw_load_ids[0]).isoformat()
    assert f"spotify/{raw_zone.INDEX}/load_date={today}/{second.raw_load_ids[0]}.json" in entry_files(raw)
    after = warehouse_rows(settings)
    assert {row[0] for row in after["tracks"]} >= {row[0] for row in before["tracks"]}


@pytest.mark.e2e
def test_a_load_a_killed_run_completed_but_did_not_index_is_indexed_and_loaded_by_the_next_run(start_sandbox, settings):
    sandbox = start_sandbox(tracks=300)
    ingest(settings, source_for(sandbox))
    # The killed run: dlt completed its load, the process died before the index entry and the
    # warehouse load. A new day on Spotify's side, so the load brings rows the warehouse lacks.
    sandbox.api.clock.set_date(sandbox.api.clock.today().replace(day=2))
    raw = raw_pipeline(settings)
    raw.sync_destination()
    killed = raw.run(source_for(sandbox), loader_file_format="jsonl").loads_ids[0]
    assert not (Path(settings.raw_zone_url) / raw_zone.entry_path(killed)).exists()

    ingest(settings, source_for(sandbox))

    assert (Path(settings.raw_zone_url) / raw_zone.entry_path(killed)).exists()
    raw_tracks = set()
    for file in (Path(settings.raw_zone_url) / "spotify" / "tracks").glob("load_date=*/*.jsonl.gz"):
        with gzip.open(file, "rt") as lines:
            raw_tracks |= {json.loads(line)["track_id"] for line in lines}
    assert {row[0] for row in warehouse_rows(settings)["tracks"]} == raw_tracks


@pytest.mark.e2e
def test_the_raw_pipeline_keeps_its_newest_state_files_and_an_empty_working_folder_restores_the_state(
    start_sandbox, settings
):
    sandbox = start_sandbox(tracks=300)
    first = ingest(settings, source_for(sandbox))
    for _ in range(raw_zone.STATE_FILES + 1):
        ingest(settings, source_for(sandbox))
    states = sorted((Path(settings.raw_zone_url) / "spotify" / raw_zone.STATE).glob(f"{RAW_PIPELINE}__*"))
    assert len(states) == raw_zone.STATE_FILES
    newest = max(states, key=lambda p: float(p.name.split("__")[1]))
    assert newest.name.split("__")[1] == max(e.load_id for e in raw_zone.pending(settings.raw_zone_url, None))

    # A machine with an empty working folder (a Lambda's /tmp): the crawler's state comes back.
    shutil.rmtree(settings.pipelines_dir)
    reset_stats(sandbox)
    again = ingest(settings, source_for(sandbox))
    assert sum(again.requests.values()) <= 0.05 * sum(first.requests.values())
    assert sum(stats(sandbox).values()) == sum(again.requests.values())
