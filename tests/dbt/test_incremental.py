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
