"""When each entity was fetched: kept in a per-day index in the raw zone, not in the pipeline state."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import dlt
import duckdb
import fsspec
import pyarrow.parquet as pq
import pytest
from dlt.common.versioned_state import decompress_state
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.config import Settings
from ingestion.pipeline import ingest, raw_pipeline
from ingestion.spotify.freshness import FOLDER, Freshness, FreshnessIndex
from ingestion.spotify.state import ENTITY_KINDS as KINDS
from ingestion.spotify.state import EPOCH
from sandbox import SandboxServer
from tests.conftest import START
from tests.support import reset_stats, source_for, stats, tracked_for

ENTITY_ENDPOINTS = ("GET /v1/albums/{id}", "GET /v1/tracks/{id}", "GET /v1/artists/{id}")
DEVELOPMENT_WINDOW = 7
WINDOWS = {"album": DEVELOPMENT_WINDOW, "track": DEVELOPMENT_WINDOW, "artist": DEVELOPMENT_WINDOW}


def entity_requests(server: SandboxServer) -> int:
    return sum(n for (endpoint, _), n in stats(server).items() if endpoint in ENTITY_ENDPOINTS)


def index_of(settings: Settings) -> FreshnessIndex:
    return FreshnessIndex(fsspec.filesystem("file"), f"{settings.raw_zone_url}/spotify/{FOLDER}")


def fetched_count(settings: Settings, day: date) -> int:
    """How many entities the index says were fetched on `day` (its files read as stored)."""
    folders = Path(settings.raw_zone_url, "spotify", FOLDER).glob(f"*/fetched_day={day_number_of(day)}")
    return sum(pq.read_metadata(path).num_rows for folder in folders for path in folder.glob("*.parquet"))


def warehouse_entities(settings: Settings) -> dict[str, set[str]]:
    """The ids of the albums, tracks and artists the warehouse holds."""
    with duckdb.connect(settings.duckdb_path) as con:
        return {
            kind: {row[0] for row in con.sql(f"select {kind}_id from spotify.{kind}s").fetchall()} for kind in KINDS
        }


def day_number_of(day: date) -> int:
    return (day - EPOCH).days


def stored_states(settings: Settings) -> list[Path]:
    """The raw pipeline's state files as dlt stores them in the raw zone, oldest first."""
    files = Path(settings.raw_zone_url, "spotify", "_dlt_pipeline_state").glob("*.jsonl")
    return sorted(files, key=lambda p: float(p.name.split("__")[1]))


def crawler_state(path: Path) -> dict:
    stored = json.loads(path.read_text().splitlines()[-1])
    return decompress_state(stored["state"])["sources"]["spotify"]["crawler"]


def run_on(server: SandboxServer, settings: Settings, day: date, lambda_start: bool = True, **options) -> None:
    """One `ingest` on `day`; a Lambda start has an empty working folder."""
    if lambda_start:
        shutil.rmtree(settings.pipelines_dir, ignore_errors=True)
    server.api.clock.set_date(day)
    reset_stats(server)
    ingest(settings, source_for(server, **options))


@pytest.mark.e2e
def test_an_entity_fetched_within_its_window_is_not_asked_again_from_an_empty_working_folder_and_is_after_it(
    sandbox, settings
):
    run_on(sandbox, settings, START)
    first_requests = entity_requests(sandbox)
    assert fetched_count(settings, START) > 200

    # Only entities the day's playlists newly name are asked (a handful), nothing fetched six days before.
    run_on(sandbox, settings, START + timedelta(days=DEVELOPMENT_WINDOW - 1))
    assert entity_requests(sandbox) < 0.05 * first_requests

    run_on(sandbox, settings, START + timedelta(days=DEVELOPMENT_WINDOW))
    assert entity_requests(sandbox) > 0.9 * first_requests


@pytest.mark.e2e
def test_the_raw_pipeline_state_does_not_grow_with_the_entities_fetched(sandbox, settings):
    run_on(sandbox, settings, START)
    run_on(sandbox, settings, START + timedelta(days=1), lambda_start=False)
    tracked = tracked_for(sandbox.api.catalog).by_kind()
    # What is tracked is named in the state (its once-a-day units); nothing else the crawl met is.
    met = {i for kind, ids in warehouse_entities(settings).items() for i in ids if i not in tracked.get(kind, ())}
    assert len(met) > 200
    latest = stored_states(settings)[-1]
    state = crawler_state(latest)
    assert "fetched" not in state
    assert not met & set(json.dumps(state).replace('"', " ").replace(":", " ").split())
    # What stays is the once-a-day units of what is tracked: a few dozen entries, not one per entity.
    assert latest.stat().st_size < 2_000


def write_old_state(settings: Settings, fetched: dict[str, dict[str, int]]) -> None:
    """Put `fetched` into the raw pipeline's state as code before the freshness index kept it, through dlt."""
    raw = raw_pipeline(settings)
    raw.sync_destination()

    @dlt.resource(name="tracks", write_disposition="append")
    def remember() -> list[dict]:
        dlt.current.source_state().setdefault("crawler", {})["fetched"] = fetched
        return []

    @dlt.source(name="spotify", max_table_nesting=0)
    def old_spotify() -> list:
        return [remember]

    raw.run(old_spotify(), loader_file_format="jsonl")


@pytest.mark.e2e
def test_a_state_holding_fetch_dates_moves_them_into_the_index_on_the_first_run(sandbox, settings):
    run_on(sandbox, settings, START)
    first_requests = entity_requests(sandbox)
    legacy = {kind: dict.fromkeys(ids, day_number_of(START)) for kind, ids in warehouse_entities(settings).items()}
    # A raw zone as the code before the index left it: the dates in the state, no index.
    shutil.rmtree(Path(settings.raw_zone_url, "spotify", FOLDER))
    write_old_state(settings, legacy)
    old_state = stored_states(settings)[-1]
    assert crawler_state(old_state)["fetched"] == legacy

    next_day = START + timedelta(days=1)
    run_on(sandbox, settings, next_day)
    new_state = stored_states(settings)[-1]
    assert "fetched" not in crawler_state(new_state)
    assert new_state.stat().st_size < old_state.stat().st_size / 3
    # The dates came through: what was fetched on the first day is not asked again on the next.
    assert entity_requests(sandbox) < 0.05 * first_requests
    migrated = index_of(settings).load(day_number_of(next_day), WINDOWS)
    days = {migrated.fetched_on(kind, i) for kind, ids in legacy.items() for i in ids}
    # On the first day's file, or on today's for what today's answers brought whole.
    assert days == {day_number_of(START), day_number_of(next_day)}


@pytest.mark.e2e
def test_a_failed_raw_load_marks_nothing_fresh(sandbox, settings):
    run_on(sandbox, settings, START)
    after_window = START + timedelta(days=DEVELOPMENT_WINDOW)
    albums = Path(settings.raw_zone_url, "spotify", "albums")

    def block_albums(*_: object, **__: object) -> None:
        # Mid-crawl, a file where the load writes the albums' folder: the raw load fails.
        if albums.is_dir():
            albums.rename(albums.with_name("albums.away"))
            albums.touch()

    with pytest.raises(PipelineStepFailed):
        run_on(sandbox, settings, after_window, on_response=block_albums)
    asked = entity_requests(sandbox)
    assert asked > 200
    assert fetched_count(settings, after_window) == 0

    albums.unlink()
    albums.with_name("albums.away").rename(albums)
    # A Lambda's next start: the state and the index of the last load that landed, the entities asked again.
    run_on(sandbox, settings, after_window)
    assert entity_requests(sandbox) == asked
    assert fetched_count(settings, after_window) > 200


def test_a_day_is_one_file_whatever_the_runs_and_days_past_every_window_are_deleted(tmp_path):
    index = FreshnessIndex(fsspec.filesystem("file"), str(tmp_path / FOLDER))
    today = 20_000
    for run, ids in enumerate((["a", "b"], ["c"], ["b", "d"])):
        freshness = index.load(today, WINDOWS)
        for entity_id in ids:
            freshness.mark_fetched("track", entity_id, today)
        index.save(freshness, today, WINDOWS, f"run-{run}")
    assert os.listdir(tmp_path / FOLDER / "track" / f"fetched_day={today}") == ["run-2.parquet"]
    assert {i: index.load(today, WINDOWS).fetched_on("track", i) for i in "abcde"} == dict.fromkeys("abcd", today) | {
        "e": None
    }

    later = today + DEVELOPMENT_WINDOW - 1
    freshness = index.load(later, WINDOWS)
    assert freshness.fetched_on("track", "a") == today
    freshness.mark_fetched("track", "a", later)
    index.save(freshness, later, WINDOWS, "run-3")
    reloaded = index.load(later, WINDOWS)
    assert {i: reloaded.fetched_on("track", i) for i in "abcd"} == {"a": later} | dict.fromkeys("bcd", today)

    gone = later + 1
    freshness = index.load(gone, WINDOWS)
    assert {i: freshness.fetched_on("track", i) for i in "abcd"} == {"a": later, "b": None, "c": None, "d": None}
    index.save(freshness, gone, WINDOWS, "run-4")
    assert sorted(p.relative_to(tmp_path / FOLDER).as_posix() for p in (tmp_path / FOLDER).rglob("*")) == [
        "track",
        "track/fetched_day=20006",
        "track/fetched_day=20006/run-3.parquet",
    ]


def test_two_files_of_one_day_left_by_a_stopped_save_are_read_as_their_union(tmp_path):
    index = FreshnessIndex(fsspec.filesystem("file"), str(tmp_path / FOLDER))
    today = 20_000
    for run, ids in enumerate((["a"], ["b"])):
        freshness = Freshness()
        for entity_id in ids:
            freshness.mark_fetched("album", entity_id, today)
        index.save(freshness, today, WINDOWS, f"run-{run}")
    assert len(os.listdir(tmp_path / FOLDER / "album" / f"fetched_day={today}")) == 2
    freshness = index.load(today, WINDOWS)
    assert {i: freshness.fetched_on("album", i) for i in "abc"} == {"a": today, "b": today, "c": None}
    freshness.mark_fetched("album", "c", today)
    index.save(freshness, today, WINDOWS, "run-2")
    assert os.listdir(tmp_path / FOLDER / "album" / f"fetched_day={today}") == ["run-2.parquet"]
