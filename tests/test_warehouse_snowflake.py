"""The Snowflake warehouse load, against a fakesnow server process on 127.0.0.1.

dlt's own Snowflake destination runs, with the statement rewrites fakesnow needs
(tests/standins/fakesnow/dlt_compat.py); what only a real account shows is listed in the
README ("What the offline tests prove").
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.pipeline import RunSummary, ingest, load_warehouse
from ingestion.spotify.tables import TABLES
from sandbox import export as exports
from tests.standins.fakesnow import fakesnow_server
from tests.standins.fakesnow.dlt_compat import fakesnow_destination
from tests.support import DAY, comparable_rows, source_for

DATABASE = "LOAD_TEST"
STREAMS, ACCOUNT_PLAYS = 40, 12


@pytest.fixture(scope="module")
def fakesnow():
    with fakesnow_server() as server:
        yield server


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_snowflake_load_merges_as_duckdb_does_and_restores_its_state(fakesnow, start_sandbox, tmp_path):
    sandbox = start_sandbox()
    snowflake = Settings(
        raw_zone_url=str(tmp_path / "raw"),
        warehouse="snowflake",
        pipelines_dir=str(tmp_path / "pipelines"),
        destination=fakesnow_destination(fakesnow.port, DATABASE),
    )
    for day in (DAY, DAY + timedelta(days=1)):
        sandbox.api.clock.set_date(day)
        summary = ingest(snowflake, source_for(sandbox, user=True))
        assert summary.warehouse_rows["tracks"] > 0
    # And a privacy export of both formats, through the same raw zone.
    export = exports.write_zip(
        tmp_path / "export.zip",
        {
            "endsong_0.json": exports.extended(STREAMS),
            "StreamingHistory_music_0.json": exports.account_music(ACCOUNT_PLAYS),
        },
    )
    assert import_history(snowflake, [export]).complete

    # The same raw zone loaded into DuckDB: every table holds the same rows after two days of merges.
    duck = Settings(
        raw_zone_url=snowflake.raw_zone_url,
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "duckdb-pipelines"),
    )
    load_warehouse(duck, RunSummary())
    with duckdb.connect(duck.duckdb_path) as con, fakesnow.connect(DATABASE) as snow:
        for table, spec in TABLES.items():
            columns = ", ".join(f'"{c}"' for c in spec["columns"])
            in_duckdb = con.sql(f"select {columns} from spotify.{table}").fetchall()
            # dlt folds Snowflake identifiers to upper case.
            in_snowflake = snow.cursor().execute(f"select {columns.upper()} from SPOTIFY.{table.upper()}").fetchall()
            assert comparable_rows(in_snowflake) == comparable_rows(in_duckdb), table
        assert con.sql("select count(distinct observed_date) from spotify.track_observations").fetchone()[0] == 2
        assert con.sql("select count(*) from spotify.history_streams").fetchone()[0] == STREAMS
        assert con.sql("select count(*) from spotify.history_account_plays").fetchone()[0] == ACCOUNT_PLAYS

    # A machine with an empty working folder: the state comes back from Snowflake, nothing reloads.
    shutil.rmtree(snowflake.pipelines_dir)
    again = RunSummary()
    load_warehouse(snowflake, again)
    assert again.warehouse_rows == {}
