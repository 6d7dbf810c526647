"""End to end: sandbox API -> dlt -> raw zone + DuckDB -> dbt build."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dlt
import duckdb
import pytest
import requests

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.pipeline import RunSummary, ingest, load_warehouse, warehouse_pipeline
from ingestion.spotify import spotify, tables
from ingestion.spotify.helpers import ConfigurationError
from ingestion.transform import run_dbt
from sandbox import Catalog, SandboxServer
from sandbox import export as exports

DAY_1, DAY_2 = date(2026, 11, 1), date(2026, 11, 2)
MART_KEYS = {
    "dim_tracks": ["track_id"],
    "dim_albums": ["album_id"],
    "dim_artists": ["artist_id"],
    "fct_track_popularity_daily": ["track_id", "observed_date"],
}
STREAM_COLUMNS = ", ".join(tables.TABLES["history_streams"]["columns"])


def tracked_indexes(catalog: Catalog) -> tuple[list[int], list[int]]:
    """Every playlist (readable or not) and four artists."""
    return list(range(catalog.playlist_count)), [0, 3, 8, 13]


def playlist_tracks(catalog: Catalog, day: date) -> set[int]:
    """Tracks a development-mode app sees in the tracked playlists on `day` (from the catalog)."""
    playlists, _ = tracked_indexes(catalog)
    return {
        entry.index
        for playlist in playlists
        if playlist in catalog.owned_playlists()
        for entry in catalog.playlist_entries(playlist, day)
        if entry.kind == "track"
    }


def playlist_ghosts(catalog: Catalog, day: date) -> set[str]:
    """Ids of the "ghost" tracks (listed, no longer served) in the readable tracked playlists on `day`."""
    playlists, _ = tracked_indexes(catalog)
    return {
        catalog.encode_id("ghost", entry.index)
        for playlist in playlists
        if playlist in catalog.owned_playlists()
        for entry in catalog.playlist_entries(playlist, day)
        if entry.kind == "ghost"
    }


def discography_tracks(catalog: Catalog) -> set[int]:
    _, artists = tracked_indexes(catalog)
    return {
        track for artist in artists for album in catalog.artist_albums(artist) for track in catalog.album_tracks(album)
    }


def run_day(server: SandboxServer, settings: Settings, day: date) -> None:
    server.api.clock.set_date(day)
    catalog = server.api.catalog
    playlists, artists = tracked_indexes(catalog)
    source = spotify(
        playlists=[catalog.encode_id("playlist", p) for p in playlists],
        artists=[catalog.encode_id("artist", a) for a in artists],
        client_id="test-client",
        client_secret="test-secret",
        api_url=server.api_url,
        token_url=server.token_url,
        requests_per_second=2_000,
        retry_base=0.05,
    )
    ingest(settings, source)


def sandbox_requests(server: SandboxServer) -> int:
    return requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["total"]


def mart_counts(settings: Settings) -> dict[str, int]:
    with duckdb.connect(settings.duckdb_path) as con:
        return {mart: con.sql(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MART_KEYS}


def duplicate_keys(settings: Settings) -> dict[str, int]:
    with duckdb.connect(settings.duckdb_path) as con:
        return {
            mart: con.sql(
                f"select count(*) from (select {', '.join(keys)} from marts.{mart} group by all having count(*) > 1)"
            ).fetchone()[0]
            for mart, keys in MART_KEYS.items()
        }


@pytest.mark.e2e
def test_two_days_load_every_reachable_track_and_a_rerun_adds_no_duplicates(sandbox, settings):
    catalog = sandbox.api.catalog
    run_day(sandbox, settings, DAY_1)
    run_day(sandbox, settings, DAY_2)
    run_dbt(["build"], duckdb_path=settings.duckdb_path)
    counts = mart_counts(settings)

    day_1 = playlist_tracks(catalog, DAY_1) | discography_tracks(catalog)
    day_2 = playlist_tracks(catalog, DAY_2)
    ghosts_1, ghosts_2 = playlist_ghosts(catalog, DAY_1), playlist_ghosts(catalog, DAY_2)
    # Ghost tracks are members too, flagged `is_ghost`.
    assert counts["dim_tracks"] == len(day_1 | day_2) + len(ghosts_1 | ghosts_2)
    # A track is observed on a day when the app sees it: in a tracked playlist every day, and
    # through its metadata when first fetched (not again within the refresh window); a track
    # only its album's listing named, which Spotify then withholds, never is.
    fetched_by_id = discography_tracks(catalog) - playlist_tracks(catalog, DAY_1)
    withheld = {t for t in fetched_by_id if catalog.is_withheld("track", t)}
    assert counts["fct_track_popularity_daily"] == len(day_1 - withheld) + len(day_2) + len(ghosts_1) + len(ghosts_2)
    with duckdb.connect(settings.duckdb_path) as con:
        loaded = {row[0] for row in con.sql("select track_id from marts.dim_tracks").fetchall()}
        dates = con.sql("select distinct observed_date from marts.fct_track_popularity_daily order by 1").fetchall()
    assert loaded == {catalog.encode_id("track", t) for t in day_1 | day_2} | ghosts_1 | ghosts_2
    assert [row[0] for row in dates] == [DAY_1, DAY_2]

    run_day(sandbox, settings, DAY_2)
    run_dbt(["build"], duckdb_path=settings.duckdb_path)
    assert mart_counts(settings) == counts
    assert duplicate_keys(settings) == dict.fromkeys(MART_KEYS, 0)


@pytest.mark.e2e
def test_a_run_after_one_killed_as_its_warehouse_load_began_loads_the_new_day(sandbox, settings):
    run_day(sandbox, settings, DAY_1)
    # What a run killed as the warehouse load began extracting leaves: a package with no rows,
    # which dlt loads as nothing (its `run` answers None).
    warehouse = warehouse_pipeline(settings)
    warehouse.extract(dlt.resource([], name="tracks"))
    assert warehouse.has_pending_data

    run_day(sandbox, settings, DAY_2)
    assert not warehouse_pipeline(settings).has_pending_data
    with duckdb.connect(settings.duckdb_path) as con:
        days = con.sql("select distinct observed_date from spotify.track_observations order by 1")
        assert [row[0] for row in days.fetchall()] == [DAY_1, DAY_2]


@pytest.mark.e2e
def test_raw_zone_holds_every_load_partitioned_by_table_and_load_date(sandbox, settings):
    run_day(sandbox, settings, DAY_1)
    run_day(sandbox, settings, DAY_2)
    dataset = Path(settings.raw_zone_url) / "spotify"
    track_files = sorted(dataset.glob("tracks/load_date=*/*.jsonl.gz"))
    assert len(track_files) == 2, "the raw zone keeps every load, the warehouse merges"
    for file in track_files:
        load_id = ".".join(file.name.split(".")[:2])
        load_date = datetime.fromtimestamp(float(load_id), UTC).date()
        assert file.parent.name == f"load_date={load_date.isoformat()}"
    assert len(list((dataset / "_dlt_loads").iterdir())) == 2


@pytest.mark.e2e
def test_a_deleted_warehouse_is_rebuilt_from_the_raw_zone_without_calling_the_api(sandbox, settings):
    run_day(sandbox, settings, DAY_1)
    run_day(sandbox, settings, DAY_2)
    export = exports.write_zip(
        Path(settings.raw_zone_url).parent / "export.zip", {"endsong_0.json": exports.extended(30)}
    )
    assert import_history(settings, [export]).complete
    with duckdb.connect(settings.duckdb_path) as con:
        before = con.sql("select count(*) from spotify.track_observations").fetchone()[0]
        streams_before = con.sql(f"select {STREAM_COLUMNS} from spotify.history_streams order by ended_at").fetchall()
    assert len(streams_before) == 30
    Path(settings.duckdb_path).unlink()
    shutil.rmtree(settings.pipelines_dir)
    requests_before = sandbox_requests(sandbox)

    load_warehouse(settings, RunSummary())
    assert sandbox_requests(sandbox) == requests_before
    with duckdb.connect(settings.duckdb_path) as con:
        assert con.sql("select count(*) from spotify.track_observations").fetchone()[0] == before
        # The privacy export's streams too, the same rows.
        streams = con.sql(f"select {STREAM_COLUMNS} from spotify.history_streams order by ended_at").fetchall()
    assert streams == streams_before


def test_each_warehouse_stages_its_parquet_where_it_can_read_it():
    # DuckDB loads directly; Snowflake copies from S3 only when the raw zone is there (a local
    # raw zone goes through its table stages); Athena's tables live in the lake.
    assert Settings(raw_zone_url="s3://lake/raw").warehouse_staging_url is None
    assert Settings(raw_zone_url="data/raw", warehouse="snowflake").warehouse_staging_url is None
    # dlt names staged files relative to the stage's URL, which must end in a slash.
    assert Settings(raw_zone_url="s3://lake/raw/", warehouse="snowflake").warehouse_staging_url == (
        "s3://lake/raw/_warehouse/"
    )
    assert (
        Settings(raw_zone_url="s3://lake/raw", warehouse="athena").warehouse_staging_url == "s3://lake/raw/_warehouse"
    )
    assert (
        Settings(
            raw_zone_url="s3://lake/raw", warehouse="athena", staging_url="s3://other/tables/"
        ).warehouse_staging_url
        == "s3://other/tables"
    )


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"warehouse": "bigquery"}, "tunelake.warehouse"),
        ({"warehouse": "athena", "raw_zone_url": "data/raw"}, "tunelake.raw_zone_url"),
        ({"warehouse": "trino", "raw_zone_url": "data/raw"}, "tunelake.raw_zone_url"),
    ],
)
def test_a_warehouse_that_cannot_work_is_refused_naming_the_setting(options, named):
    with pytest.raises(ConfigurationError, match=named):
        Settings(**options)


def test_the_trino_load_refuses_without_the_iceberg_catalog_trino_reads(monkeypatch, tmp_path):
    # Without one, dlt would register the tables in an in-memory catalog and Trino would see nothing.
    for name in [n for n in os.environ if n.startswith("PYICEBERG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYICEBERG_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    settings = Settings(raw_zone_url="s3://lake/raw", warehouse="trino")
    with pytest.raises(ConfigurationError, match="PYICEBERG_CATALOG__DEFAULT__TYPE"):
        settings.warehouse_destination()
    monkeypatch.setenv("PYICEBERG_CATALOG__DEFAULT__TYPE", "glue")
    assert settings.warehouse_destination().destination_name == "filesystem"
