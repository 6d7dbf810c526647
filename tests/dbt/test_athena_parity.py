"""The models compiled for Athena, transpiled to DuckDB by sqlglot, build the same marts as dbt on DuckDB.

No Athena runs here (see shared/LOCAL-STACK.md): the Athena SQL is translated by sqlglot and run by
DuckDB over the same raw tables, so this proves column names and logic, not Athena itself.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml

from ingestion.config import Settings
from ingestion.transform import DBT_PROJECT_DIR, MARTS, PROFILES_TEMPLATE, run_dbt
from tests.support import ATHENA_OFFLINE_ENVIRONMENT, OFFLINE_COMPILE, ingest_days

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
# Athena sessions run in UTC; the DuckDB build runs as on a laptop far from it, so a model whose
# result depends on the session's time zone (a "UTC day" cast in local time) differs here.
DUCKDB_TIME_ZONE = "America/Los_Angeles"
# The marts and the time spine MetricFlow reads beside them in the marts schema (models/utilities).
COMPARED = (*MARTS, "time_spine_daily")


def project_copy(root: Path) -> Path:
    """The dbt project copied to `root`, so dbt's target/ folder is this test's own."""
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    return project


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory) -> Path:
    """Three days loaded from a development-tier sandbox with the user's listening: raw tables only."""
    root = tmp_path_factory.mktemp("raw")
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "raw.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    ingest_days(settings, DAYS)
    return Path(settings.duckdb_path)


@pytest.fixture(scope="module")
def duckdb_build(raw_warehouse, tmp_path_factory) -> Path:
    """The marts as `dbt run` builds them on DuckDB, in a copy of the raw warehouse."""
    root = tmp_path_factory.mktemp("duckdb_build")
    project = project_copy(root)
    profile = yaml.safe_load(PROFILES_TEMPLATE.read_text())
    profile["tunelake"]["outputs"]["duckdb"]["settings"] = {"TimeZone": DUCKDB_TIME_ZONE}
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse, warehouse)
    run_dbt(["run", "--quiet"], duckdb_path=str(warehouse), target="duckdb", project_dir=project)
    return warehouse


@pytest.fixture(scope="module")
def athena_manifest(tmp_path_factory) -> dict:
    """dbt's manifest after compiling for Athena offline (full-refresh SQL for the incremental models)."""
    project = project_copy(tmp_path_factory.mktemp("athena_compile"))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ATHENA_OFFLINE_ENVIRONMENT.items():
            patch.setenv(name, value)
        run_dbt(
            OFFLINE_COMPILE,
            target="athena",
            project_dir=project,
        )
    return json.loads((project / "target" / "manifest.json").read_text())


def in_dependency_order(manifest: dict) -> list[dict]:
    """The models that become relations, each after the models it reads (ephemeral ones are inlined as CTEs)."""
    models = {key: node for key, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    ordered: list[str] = []

    def visit(key: str) -> None:
        if key in ordered or key not in models:
            return
        for parent in models[key]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(key)

    for key in sorted(models):
        visit(key)
    return [models[key] for key in ordered if models[key]["config"]["materialized"] != "ephemeral"]


@pytest.fixture(scope="module")
def athena_build(raw_warehouse, athena_manifest, tmp_path_factory) -> Path:
    """Every model's Athena SQL, transpiled by sqlglot, run in a copy of the raw warehouse.

    The copy is named `awsdatacatalog.duckdb`: DuckDB names a database after its file, so the
    compiled three-part names (`"awsdatacatalog"."spotify"."tracks"`, `"awsdatacatalog"."marts"...`)
    resolve as they are, with no rewriting of the SQL.
    """
    database = tmp_path_factory.mktemp("athena_build") / "awsdatacatalog.duckdb"
    shutil.copyfile(raw_warehouse, database)
    models = in_dependency_order(athena_manifest)
    with duckdb.connect(str(database)) as con:
        con.execute("set TimeZone = 'UTC'")  # Athena's session time zone
        # sqlglot keeps `/` as it is, not knowing the operands' types: Trino divides integers as
        # integers (7 / 2 = 3), DuckDB in double unless told to.
        con.execute("set integer_division = true")
        for schema in sorted({node["schema"] for node in models}):
            con.execute(f'create schema if not exists "{schema}"')
        for node in models:
            statements = sqlglot.transpile(node["compiled_code"], read="athena", write="duckdb")
            assert len(statements) == 1, node["name"]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create {kind} {node['relation_name']} as {statements[0]}")
    return database


def test_every_mart_is_compared(athena_manifest):
    marts = {node["name"] for node in in_dependency_order(athena_manifest) if node["schema"] == "marts"}
    assert marts == set(COMPARED)


def mart_rows(con: duckdb.DuckDBPyConnection, relation: str, types: list[tuple[str, str]]) -> list[tuple]:
    """The rows of a mart, each column cast to the type of the DuckDB-built mart.

    That cast is the whole type normalisation, and it is what the enforced contract does on DuckDB:
    the transpiled SQL runs without contract, so an exact decimal (Trino's type for `1.5`) arrives
    as DECIMAL where the contract says double, a timestamp without zone where it says with. Doubles
    are then rounded to 9 places, since sums of doubles may add up in a different order.
    """
    columns = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in types)
    rows = con.sql(f"select {columns} from {relation}").fetchall()
    return sorted(
        (tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows),
        key=repr,
    )


def differences(athena: list[tuple], built: list[tuple], columns: list[str], limit: int = 5) -> str:
    """The first rows only one side has, one per line."""
    only_athena = list((Counter(athena) - Counter(built)).elements())[:limit]
    only_duckdb = list((Counter(built) - Counter(athena)).elements())[:limit]
    lines = [f"{len(athena)} rows from the Athena SQL, {len(built)} from the DuckDB build; columns {columns}"]
    lines += [f"  only Athena SQL: {row}" for row in only_athena]
    lines += [f"  only DuckDB:     {row}" for row in only_duckdb]
    return "\n".join(lines)


@pytest.mark.parametrize("mart", COMPARED)
def test_the_athena_sql_builds_the_same_mart_as_duckdb(athena_build, duckdb_build, mart):
    # dbt-duckdb keeps its warehouse open in this process, so connect to it as dbt does (DuckDB
    # shares the open database) and attach the Athena build, closed by now, to it.
    with duckdb.connect(str(duckdb_build)) as con:
        con.execute("set session TimeZone = 'UTC'")  # a timestamp without zone is UTC, as Athena writes them
        con.execute(f"attach '{athena_build}' as athena_build (read_only)")
        try:
            types = [(row[0], row[1]) for row in con.sql(f"describe marts.{mart}").fetchall()]
            athena_columns = [row[0] for row in con.sql(f"describe athena_build.marts.{mart}").fetchall()]
            assert athena_columns == [name for name, _ in types]
            athena = mart_rows(con, f"athena_build.marts.{mart}", types)
            built = mart_rows(con, f"marts.{mart}", types)
        finally:
            con.execute("detach athena_build")
    assert built, f"{mart} is empty"
    assert athena == built, differences(athena, built, athena_columns)
