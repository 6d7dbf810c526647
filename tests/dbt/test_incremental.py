"""Incremental builds over more history than the sandbox tests cover: five weeks of generated raw data.

The 28-day trend change and the lookback window only show up with a month of days, so this
module writes the raw schema with the benchmark's generator (`benchmarks.rawgen`, small scale)
instead of ingesting that many sandbox days.
"""

from __future__ import annotations

import duckdb
import pytest

from benchmarks import rawgen
from ingestion.transform import MARTS, run_dbt

SCALE = rawgen.Scale(tracks=400, days=33, playlists=4, playlist_size=25, queries=3, top_depth=10, plays_per_day=5)


def marts(path: str) -> dict[str, list[tuple]]:
    with duckdb.connect(path) as con:
        return {mart: sorted(con.sql(f"select * from marts.{mart}").fetchall(), key=repr) for mart in MARTS}


@pytest.mark.e2e
def test_two_incremental_days_after_five_weeks_equal_a_full_refresh(tmp_path):
    path = str(tmp_path / "tunelake.duckdb")
    with rawgen.Generator(path, SCALE) as generator:
        generator.create()
        generator.load_days(1, SCALE.days)
    run_dbt(["run", "--quiet"], duckdb_path=path)
    for day in (SCALE.days + 1, SCALE.days + 2):
        with rawgen.Generator(path, SCALE) as generator:
            generator.load_days(day, day)
        run_dbt(["run", "--quiet"], duckdb_path=path)
    incremental = marts(path)
    run_dbt(["run", "--quiet", "--full-refresh"], duckdb_path=path)
    full = marts(path)

    # track_id, trend, signal_score, change_1d, change_7d, change_28d, daily_rank, observed_date, ...
    last = SCALE.day(SCALE.days + 2)
    last_day = [row for row in full["fct_track_trends_daily"] if row[7] == last]
    # The incremental days compare with four weeks before, which they did not rebuild.
    assert sum(row[5] is not None for row in last_day) > len(last_day) / 2
    for mart in MARTS:
        assert len(incremental[mart]) == len(full[mart]), mart
        assert incremental[mart] == full[mart], mart


DIMENSIONS = ("dim_tracks", "dim_albums", "dim_artists")


def dimension_rows(path: str) -> dict[str, list[tuple]]:
    with duckdb.connect(path) as con:
        return {dim: sorted(con.sql(f"select * from marts.{dim}").fetchall(), key=repr) for dim in DIMENSIONS}


@pytest.mark.e2e
def test_a_new_day_that_renames_an_artist_and_an_album_gives_the_dimensions_a_full_refresh_gives(tmp_path):
    """The incremental dimensions after a day that changes names their rows repeat, row for row.

    The day fetches artist 0 and album 0 again under new names, as a load merges a re-fetched
    entity: tracks and albums crediting that artist, and the tracks of that album, carry the new
    names though none of their own rows changed.
    """
    path = str(tmp_path / "tunelake.duckdb")
    with rawgen.Generator(path, SCALE) as generator:
        generator.create()
        generator.load_days(1, SCALE.days)
    run_dbt(["run", "--quiet"], duckdb_path=path)
    day = SCALE.days + 1
    with rawgen.Generator(path, SCALE) as generator:
        generator.load_days(day, day)
    renamed_at = f"timestamp '{SCALE.day(day).isoformat()} 12:00:00+00'"
    with duckdb.connect(path) as con:
        artist_id, album_id = con.sql(
            "select (select min(artist_id) from spotify.artists), (select min(album_id) from spotify.albums)"
        ).fetchone()
        con.execute(
            f"update spotify.artists set name = 'Renamed Artist', observed_at = {renamed_at} where artist_id = ?",
            [artist_id],
        )
        con.execute(
            f"update spotify.albums set name = 'Renamed Album', observed_at = {renamed_at} where album_id = ?",
            [album_id],
        )
    run_dbt(["run", "--quiet"], duckdb_path=path)
    incremental = dimension_rows(path)
    run_dbt(["run", "--quiet", "--full-refresh"], duckdb_path=path)
    full = dimension_rows(path)

    with duckdb.connect(path) as con:
        renamed_tracks = con.sql(
            "select count(*) from marts.dim_tracks "
            "where album_name = 'Renamed Album' or artist_names like '%Renamed Artist%'"
        ).fetchone()[0]
        materialized = con.sql(
            "select count(*) from marts.dim_albums where primary_artist_name = 'Renamed Artist'"
        ).fetchone()[0]
    assert renamed_tracks > 1
    assert materialized >= 1
    for dim in DIMENSIONS:
        assert len(incremental[dim]) == len(full[dim]), dim
        assert incremental[dim] == full[dim], dim
    # Every entity's last day seen is the new day's, in both builds.
    assert {row[-1] for row in incremental["dim_artists"]} == {SCALE.day(day)}


@pytest.mark.e2e
def test_the_dimensions_are_incremental_and_a_rerun_without_new_rows_changes_none(tmp_path):
    """A second run over the same raw rows leaves every dimension row where it was (DuckDB's rowid)."""
    path = str(tmp_path / "tunelake.duckdb")
    with rawgen.Generator(path, SCALE) as generator:
        generator.create()
        generator.load_days(1, 3)
    run_dbt(["run", "--quiet", "--select", "+dim_tracks", "+dim_albums", "+dim_artists"], duckdb_path=path)
    with duckdb.connect(path) as con:
        # Delete one stored row: an incremental run writes it back, and only it.
        con.execute("delete from marts.dim_albums where album_id = (select min(album_id) from marts.dim_albums)")
        before = {dim: con.sql(f"select rowid, * from marts.{dim}").fetchall() for dim in DIMENSIONS}
    result = run_dbt(["run", "--quiet", "--select", "dim_tracks", "dim_albums", "dim_artists"], duckdb_path=path)
    with duckdb.connect(path) as con:
        after = {dim: con.sql(f"select rowid, * from marts.{dim}").fetchall() for dim in DIMENSIONS}

    assert {r.node.name: r.node.config.materialized for r in result.result.results} == dict.fromkeys(
        DIMENSIONS, "incremental"
    )
    assert after["dim_tracks"] == before["dim_tracks"]
    assert after["dim_artists"] == before["dim_artists"]
    written = set(after["dim_albums"]) - set(before["dim_albums"])
    assert len(written) == 1
    assert len(after["dim_albums"]) == len(before["dim_albums"]) + 1
