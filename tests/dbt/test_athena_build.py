"""`dbt build --target athena` with dbt-athena itself, through the Athena-API front on the Trino stand-in.

The raw tables are loaded as the athena engine loads them (dlt's athena destination, through the
same front), three sandbox days, and dbt-athena builds the project with profiles.example.yml's
`athena` target, unchanged: every statement it sends to Athena is executed by Trino after the
front's documented rewrites (tests/standins/athena.py), and every Glue call it makes is moto's.
A fourth day then goes through the incremental marts' MERGE, and every mart, read back through
the Athena API by the engine's own reader (pyathena), equals DuckDB's built from the same raw zone.

The stand-in is shared by the session; this module works in the production target's schemas
(`spotify`, `spotify_staging`, `staging`, `marts`, `test_failures`) and drops them before and after.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingestion.config import Settings
from ingestion.engines.athena import ENGINE
from ingestion.history.importer import import_history
from ingestion.transform import MARTS, PROFILES_TEMPLATE
from tests.dbt.builds import dbt_results, incremental_models, kinds, not_passed
from tests.dbt.parity import COMPARED, assert_same_mart, project_copy, reference_marts
from tests.support import ingest_days

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
FOURTH_DAY = date(2026, 11, 4)
BUILD_SECONDS = 1500
SCHEMAS = ("marts", "test_failures", "staging", "spotify", "spotify_staging")


@pytest.fixture(scope="module")
def athena(athena_standin):
    """The front, with the environment a user of the athena engine and dbt target sets."""
    athena_standin.drop_schemas(*SCHEMAS)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in athena_standin.environment().items():
            patch.setenv(name, value)
        yield athena_standin
    athena_standin.drop_schemas(*SCHEMAS)


@pytest.fixture(scope="module")
def lake(athena, tmp_path_factory) -> Settings:
    """Three sandbox days and the user's privacy export, loaded by dlt's athena destination through the front."""
    settings = Settings(
        raw_zone_url=f"s3://{athena.trino.bucket}/athena-build",
        warehouse="athena",
        pipelines_dir=str(tmp_path_factory.mktemp("athena_lake") / "pipelines"),
    )
    export = Path(settings.pipelines_dir).parent / "my_spotify_data.zip"
    ingest_days(settings, DAYS, export_to=export)
    assert import_history(settings, [export]).complete
    return settings


def dbt(project: Path, *args: str) -> tuple[int, list[dict]]:
    # moto is not safe for concurrent writers: one dbt thread (the target's own is 4).
    return dbt_results(project, "athena", *args, "--threads", "1", timeout=BUILD_SECONDS)


def mart_counts(front) -> dict[str, int]:
    return {mart: front.trino.sql(f"select count(*) from marts.{mart}")[0][0] for mart in MARTS}


@pytest.fixture(scope="module")
def project(lake, tmp_path_factory) -> Path:
    project = project_copy(tmp_path_factory.mktemp("athena_build"))
    (project / "profiles.yml").write_text(PROFILES_TEMPLATE.read_text())
    return project


@pytest.fixture(scope="module")
def first_build(project, athena):
    code, results = dbt(project, "build")
    return code, results, mart_counts(athena)


@pytest.fixture(scope="module")
def second_build(first_build, project, lake, athena):
    """A fourth day loaded, then the project built again: the incremental marts merge it in."""
    ingest_days(lake, [FOURTH_DAY])
    merges_before = len(athena.executed("merge"))
    code, results = dbt(project, "build")
    return code, results, mart_counts(athena), athena.executed("merge")[merges_before:]


@pytest.mark.e2e
@pytest.mark.timeout(3000)
def test_dbt_athena_builds_every_model_data_test_and_unit_test_through_the_front(first_build, athena):
    code, results, counts = first_build
    assert not_passed(results) == []
    assert code == 0
    found = kinds(results)
    assert found["model"] >= 25
    assert found["test"] >= 60
    assert found["unit_test"] >= 10
    assert all(counts[mart] > 0 for mart in MARTS), counts
    # The daily facts are Iceberg tables partitioned by day, as dbt-athena asked Athena for them.
    (ddl,) = athena.trino.sql("show create table marts.fct_track_popularity_daily")[0]
    assert "partitioning = ARRAY['day(observed_date)']" in ddl


@pytest.mark.e2e
@pytest.mark.timeout(3000)
def test_a_second_athena_build_after_a_fourth_day_merges_it_into_the_incremental_marts(
    second_build, first_build, project
):
    code, results, counts, merges = second_build
    assert not_passed(results) == []
    assert code == 0
    incremental = {unique_id.split(".")[-1] for unique_id in incremental_models(project)}
    assert len(incremental) >= 5
    # dbt-athena's MERGE for each incremental mart, executed by Trino.
    merged = {statement.split('"marts"."', 1)[1].split('"', 1)[0] for statement in merges if '"marts"."' in statement}
    assert merged == incremental
    _, _, before = first_build
    assert counts["fct_track_popularity_daily"] > before["fct_track_popularity_daily"]


@pytest.fixture(scope="module")
def duckdb_reference(second_build, lake, tmp_path_factory) -> Path:
    """DuckDB's marts from the same raw zone (all four days), built in one full run."""
    return reference_marts(lake.raw_zone_url, tmp_path_factory.mktemp("athena_duckdb_reference"))


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.parametrize("mart", COMPARED)
def test_every_mart_dbt_athena_built_equals_duckdbs(duckdb_reference, athena, mart):
    # Read back as the dashboard reads Athena: the engine's reader, pyathena, GetQueryResults.
    reader = ENGINE.reader(athena.environment())
    connection = reader.connect()
    try:
        cursor = connection.cursor()
        rows = cursor.execute(f"select * from {mart}").fetchall()
        columns = [column[0] for column in cursor.description]
    finally:
        connection.close()
    assert_same_mart(duckdb_reference, mart, "dbt-athena", columns, rows)
