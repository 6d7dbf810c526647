"""`dbt build --target trino` on the Trino stand-in (tests/standins/trino.py), over the trino engine's raw tables.

The loader writes three sandbox days as Iceberg tables registered in moto's Glue (the `trino`
engine: dlt and pyiceberg), and dbt-trino builds the project on them with profiles.example.yml's
`trino` target: every model, data test and unit test executed by Trino, a fourth day merged into
the incremental marts, and every mart equal to DuckDB's, row for row, built from the same raw zone.

dbt runs in a subprocess with a timeout, as on the Snowflake stand-in. The stand-in is shared by
the session; this module works in the production target's schemas (`spotify`, `staging`,
`marts`, `test_failures`) and drops them before and after.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dashboard.queries import SQL, render
from dashboard.warehouse import configured_target, fetch, normalized
from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.spotify.tables import TABLES
from ingestion.transform import MARTS, PROFILES_TEMPLATE, run_dbt
from tests.dbt.builds import dbt_results, incremental_models, kinds, not_passed
from tests.dbt.parity import COMPARED, assert_same_mart, project_copy, reference_marts
from tests.support import comparable_rows, ingest_days

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
FOURTH_DAY = date(2026, 11, 4)
BUILD_SECONDS = 600
SCHEMAS = ("marts", "test_failures", "staging", "spotify")
# A model written for DuckDB alone: DuckDB's list functions, which Trino does not have.
DUCKDB_ONLY_MODEL = """\
-- DuckDB only, on purpose: list_value and list_sum are DuckDB's, not Trino's.
select list_sum(list_value(1, 2, 3)) as total
"""


def drop_schemas(trino) -> None:
    for schema in SCHEMAS:
        trino.sql(f"drop schema if exists {schema} cascade")


@pytest.fixture(scope="module")
def trino(trino_standin):
    """The stand-in, with the environment a user of the trino engine sets (pyiceberg's catalog, TRINO_*)."""
    drop_schemas(trino_standin)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in trino_standin.environment().items():
            patch.setenv(name, value)
        yield trino_standin
    drop_schemas(trino_standin)


@pytest.fixture(scope="module")
def lake(trino, tmp_path_factory) -> Settings:
    """Three sandbox days, with the user's listening and privacy export, in Trino's Iceberg tables."""
    settings = Settings(
        raw_zone_url=f"s3://{trino.bucket}/trino-build",
        warehouse="trino",
        pipelines_dir=str(tmp_path_factory.mktemp("trino_lake") / "pipelines"),
    )
    export = Path(settings.pipelines_dir).parent / "my_spotify_data.zip"
    ingest_days(settings, DAYS, export_to=export)
    assert import_history(settings, [export]).complete
    return settings


def trino_project(root: Path) -> Path:
    project = project_copy(root)
    (project / "profiles.yml").write_text(PROFILES_TEMPLATE.read_text())
    return project


def dbt(project: Path, *args: str) -> tuple[int, list[dict]]:
    return dbt_results(project, "trino", *args, timeout=BUILD_SECONDS)


def mart_counts(trino) -> dict[str, int]:
    return {mart: trino.sql(f"select count(*) from marts.{mart}")[0][0] for mart in MARTS}


@pytest.fixture(scope="module")
def project(lake, tmp_path_factory) -> Path:
    return trino_project(tmp_path_factory.mktemp("trino_build"))


@pytest.fixture(scope="module")
def first_build(project, trino):
    code, results = dbt(project, "build")
    return code, results, mart_counts(trino)


@pytest.fixture(scope="module")
def second_build(first_build, project, lake, trino):
    """A fourth day loaded, then the project built again: the incremental marts merge it in."""
    ingest_days(lake, [FOURTH_DAY])
    code, results = dbt(project, "build")
    return code, results, mart_counts(trino)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_build_passes_every_model_data_test_and_unit_test_on_trino(first_build, trino):
    code, results, counts = first_build
    assert not_passed(results) == []
    assert code == 0
    found = kinds(results)
    assert found["model"] >= 25
    assert found["test"] >= 60
    assert found["unit_test"] >= 10
    assert all(counts[mart] > 0 for mart in MARTS), counts
    # The raw tables: every declared one, its timestamps without zone (UTC by convention) as on Athena.
    columns = trino.sql(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = 'spotify'"
    )
    assert {table for table, _, _ in columns} == set(TABLES)
    assert {kind for _, name, kind in columns if name.endswith("_at")} == {"timestamp(6)"}
    # The daily facts are Iceberg tables partitioned by day, as on Athena.
    (ddl,) = trino.sql("show create table marts.fct_track_popularity_daily")[0]
    assert "partitioning = ARRAY['day(observed_date)']" in ddl


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_a_second_build_after_a_fourth_day_merges_it_into_the_incremental_marts(second_build, first_build, project):
    code, results, counts = second_build
    assert not_passed(results) == []
    assert code == 0
    incremental = incremental_models(project)
    assert len(incremental) >= 5
    # Trino names the statement it ran in its answer (dbt's adapter response): MERGE, not a rebuild.
    answers = {
        r["unique_id"]: r["adapter_response"].get("_message", "") for r in results if r["unique_id"] in incremental
    }
    assert set(answers) == incremental
    assert all(message.startswith("MERGE") for message in answers.values()), answers
    fct_plays = project / "target" / "run" / "tunelake" / "models" / "marts" / "fct_plays.sql"
    assert "merge into" in fct_plays.read_text().lower()
    _, _, before = first_build
    assert counts["fct_track_popularity_daily"] > before["fct_track_popularity_daily"]


@pytest.fixture(scope="module")
def duckdb_reference(second_build, lake, tmp_path_factory) -> Path:
    """DuckDB's marts from the same raw zone (all four days), built in one full run."""
    return reference_marts(lake.raw_zone_url, tmp_path_factory.mktemp("trino_duckdb_reference"))


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.parametrize("mart", COMPARED)
def test_every_mart_built_on_trino_equals_duckdbs(duckdb_reference, trino, mart):
    connection = trino.connect("marts")
    try:
        cursor = connection.cursor()
        rows = cursor.execute(f"select * from {mart}").fetchall()
        columns = [column[0] for column in cursor.description]
    finally:
        connection.close()
    assert_same_mart(duckdb_reference, mart, "Trino", columns, rows)


def dashboard_rows(frame: pd.DataFrame) -> list[tuple]:
    return comparable_rows(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_dashboard_shows_the_same_on_trino_through_the_engines_reader_as_on_duckdb(duckdb_reference, trino):
    target = configured_target({**trino.environment(), "TUNELAKE_TARGET": "trino"})
    with duckdb.connect(str(duckdb_reference)) as con:
        [track_id] = con.sql("select min(track_id) from marts.dim_tracks where not is_unavailable").fetchone()
        shown = 0
        for name in SQL:
            sql = render(name, DAYS[0], FOURTH_DAY, ids=[track_id])
            # What fetch does with a reader's connection, on the DuckDB reference.
            cursor = con.execute(sql)
            columns = [column[0].lower() for column in cursor.description]
            expected = normalized(pd.DataFrame.from_records(cursor.fetchall(), columns=columns))
            on_trino = fetch(target, sql)
            assert list(on_trino.columns) == columns, name
            assert dashboard_rows(on_trino) == dashboard_rows(expected), name
            shown += len(on_trino)
    assert shown > 0


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_column_type_that_breaks_the_contract_fails_that_model_on_trino(second_build, tmp_path):
    broken = trino_project(tmp_path)
    models_file = broken / "models" / "marts" / "_marts__models.yml"
    models = yaml.safe_load(models_file.read_text())
    dim_tracks = next(m for m in models["models"] if m["name"] == "dim_tracks")
    duration = next(c for c in dim_tracks["columns"] if c["name"] == "duration_ms")
    assert duration["data_type"] == "bigint"
    duration["data_type"] = "varchar"
    models_file.write_text(yaml.safe_dump(models, sort_keys=False))

    # Its upstream views are the build's; the check fails before the table is replaced.
    code, results = dbt(broken, "run", "--select", "dim_tracks")
    assert code != 0
    [result] = results
    assert (result["unique_id"], result["status"]) == ("model.tunelake.dim_tracks", "error")
    assert "contract" in result["message"]
    assert "duration_ms" in result["message"]


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_model_written_for_duckdb_only_fails_when_dbt_runs_it_on_trino(trino, tmp_path):
    project = trino_project(tmp_path)
    (project / "models" / "staging" / "duckdb_only.sql").write_text(DUCKDB_ONLY_MODEL)
    # It is a valid model: DuckDB builds it.
    run_dbt(
        ["run", "--select", "duckdb_only"],
        duckdb_path=str(tmp_path / "check.duckdb"),
        target="duckdb",
        project_dir=project,
    )

    code, results = dbt(project, "run", "--select", "duckdb_only")
    assert code != 0
    [result] = results
    assert result["unique_id"] == "model.tunelake.duckdb_only"
    assert result["status"] == "error"
    # Trino's own answer, from executing the statement: not a dbt compilation error.
    assert "FUNCTION_NOT_FOUND" in result["message"], result["message"]
