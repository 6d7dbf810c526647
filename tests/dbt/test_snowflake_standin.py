"""`dbt build --target snowflake` against a fakesnow server process on 127.0.0.1.

dlt loads three sandbox days into the server (Snowflake destination, tests/standins/fakesnow/
dlt_compat.py); a copy of the dbt project with the fakesnow compatibility macros
(tests/standins/fakesnow/macros/fakesnow_compat.sql) builds on them. fakesnow runs the SQL on
DuckDB: this proves the models, tests, unit tests, incremental runs and contract checks work
through dbt-snowflake and give DuckDB's marts, not Snowflake's own typing or strictness (see the
README). The server's sessions run in America/Los_Angeles, the zone of an account that sets no
TIMEZONE, so a day taken in the session's zone instead of UTC shows.

dbt runs in a subprocess with a timeout: a statement fakesnow cannot run hangs the Snowflake
connector in retries (see tests/standins/fakesnow).
"""

from __future__ import annotations

import shutil
from datetime import UTC, date
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.config import Settings
from ingestion.pipeline import RunSummary, load_warehouse
from ingestion.transform import DBT_PROJECT_DIR, MARTS, run_dbt
from tests.dbt.builds import dbt_results, kinds, not_passed
from tests.standins.fakesnow import ACCOUNT_DEFAULT_TIME_ZONE, DATABASE, fakesnow_server, prepare_dbt_project
from tests.standins.fakesnow.dlt_compat import fakesnow_destination
from tests.support import comparable_rows, ingest_days

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
BUILD_SECONDS = 300


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory):
    log = tmp_path_factory.mktemp("fakesnow") / "server.log"
    with fakesnow_server(log=log, time_zone=ACCOUNT_DEFAULT_TIME_ZONE) as server:
        yield server


@pytest.fixture(scope="module")
def raw_tables(fakesnow, tmp_path_factory):
    """Three days from a development-tier sandbox, with the user's listening, loaded by dlt."""
    root = tmp_path_factory.mktemp("load")
    settings = Settings(
        raw_zone_url=str(root / "raw"),
        warehouse="snowflake",
        pipelines_dir=str(root / "pipelines"),
        destination=fakesnow_destination(fakesnow.port, DATABASE),
    )
    ingest_days(settings, DAYS)
    return settings


@pytest.fixture(scope="module")
def project(fakesnow, raw_tables, tmp_path_factory):
    return prepare_dbt_project(tmp_path_factory.mktemp("snowflake") / "dbt_project", fakesnow)


def dbt(project: Path, *args: str) -> tuple[int, list[dict]]:
    """Run one dbt command on the copy; its exit code and the per-node results it wrote."""
    return dbt_results(project, "snowflake", *args, timeout=BUILD_SECONDS)


def mart_counts(server) -> dict[str, int]:
    with server.connect() as con:
        cursor = con.cursor()
        return {mart: cursor.execute(f"select count(*) from marts.{mart}").fetchone()[0] for mart in MARTS}


@pytest.fixture(scope="module")
def first_build(project, fakesnow):
    code, results = dbt(project, "build")
    return code, results, mart_counts(fakesnow)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_build_passes_every_model_data_test_and_unit_test(first_build):
    code, results, counts = first_build
    assert not_passed(results) == []
    assert code == 0
    found = kinds(results)
    assert found["model"] >= 25
    assert found["test"] >= 60
    assert found["unit_test"] >= 10
    assert all(counts[mart] > 0 for mart in MARTS), counts


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_play_dates_are_utc_days_though_the_session_runs_in_los_angeles(first_build, fakesnow):
    with fakesnow.connect() as snow:
        cursor = snow.cursor()
        # Some plays fall between midnight UTC and midnight in Los Angeles: their day in the
        # session's zone is the day before their UTC day.
        (near_midnight,) = cursor.execute(
            "select count(*) from spotify.plays "
            "where cast(played_at as date) <> cast(convert_timezone('UTC', played_at) as date)"
        ).fetchone()
        plays = cursor.execute("select played_at, played_date from marts.fct_plays").fetchall()
    assert near_midnight > 0
    assert plays
    wrong = [(at, day) for at, day in plays if at.astimezone(UTC).date() != day]
    assert wrong == []


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_second_build_runs_the_incrementals_and_keeps_every_mart_count(first_build, project, fakesnow):
    _, _, before = first_build
    code, results = dbt(project, "build")
    assert not_passed(results) == []
    assert code == 0
    assert mart_counts(fakesnow) == before
    # The incremental models replaced their window (delete+insert) rather than being rebuilt.
    run_sql = (project / "target" / "run" / "tunelake" / "models" / "marts" / "fct_plays.sql").read_text()
    assert "delete from" in run_sql.lower()


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_column_type_that_breaks_the_contract_fails_that_model(first_build, fakesnow, tmp_path):
    broken = prepare_dbt_project(tmp_path / "dbt_project", fakesnow)
    models_file = broken / "models" / "marts" / "_marts__models.yml"
    models = yaml.safe_load(models_file.read_text())
    dim_tracks = next(m for m in models["models"] if m["name"] == "dim_tracks")
    duration = next(c for c in dim_tracks["columns"] if c["name"] == "duration_ms")
    assert duration["data_type"] == "bigint"
    duration["data_type"] = "varchar"
    models_file.write_text(yaml.safe_dump(models, sort_keys=False))

    code, results = dbt(broken, "build", "--select", "+dim_tracks")
    assert code != 0
    failed = {r["unique_id"]: r for r in results if r["status"] == "error"}
    assert list(failed) == ["model.tunelake.dim_tracks"]
    message = failed["model.tunelake.dim_tracks"]["message"]
    assert "contract" in message
    assert "DURATION_MS" in message
    assert all(r["status"] in ("success", "pass", "skipped") for r in results if r["unique_id"] not in failed)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_marts_equal_duckdbs_built_from_the_same_raw_zone(first_build, raw_tables, fakesnow, tmp_path):
    duck = Settings(
        raw_zone_url=raw_tables.raw_zone_url,
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    load_warehouse(duck, RunSummary())
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    run_dbt(["build", "--quiet"], duckdb_path=duck.duckdb_path, target="duckdb", project_dir=project)
    with duckdb.connect(duck.duckdb_path) as con, fakesnow.connect() as snow:
        cursor = snow.cursor()
        for mart in MARTS:
            in_duckdb = con.sql(f"select * from marts.{mart}").fetchall()
            in_snowflake = cursor.execute(f"select * from marts.{mart}").fetchall()
            assert comparable_rows(in_snowflake) == comparable_rows(in_duckdb), mart
