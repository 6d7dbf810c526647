"""The models compiled for Athena, transpiled to DuckDB by sqlglot, build the same marts as dbt on DuckDB.

No Athena runs here (see shared/LOCAL-STACK.md): the Athena SQL is translated by sqlglot and run by
DuckDB over the same raw tables, so this proves column names and logic, not Athena itself.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot

from ingestion.config import Settings
from ingestion.transform import run_dbt
from tests.dbt.parity import COMPARED, differences, duckdb_marts, mart_rows, mart_types, project_copy
from tests.support import ATHENA_OFFLINE_ENVIRONMENT, OFFLINE_COMPILE, ingest_days

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DAYS = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]


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
    return duckdb_marts(raw_warehouse, tmp_path_factory.mktemp("duckdb_build"))


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


@pytest.mark.parametrize("mart", COMPARED)
def test_the_athena_sql_builds_the_same_mart_as_duckdb(athena_build, duckdb_build, mart):
    # dbt-duckdb keeps its warehouse open in this process, so connect to it as dbt does (DuckDB
    # shares the open database) and attach the Athena build, closed by now, to it.
    with duckdb.connect(str(duckdb_build)) as con:
        con.execute("set session TimeZone = 'UTC'")  # a timestamp without zone is UTC, as Athena writes them
        con.execute(f"attach '{athena_build}' as athena_build (read_only)")
        try:
            types = mart_types(con, f"marts.{mart}")
            athena_columns = [name for name, _ in mart_types(con, f"athena_build.marts.{mart}")]
            assert athena_columns == [name for name, _ in types]
            athena = mart_rows(con, f"athena_build.marts.{mart}", types)
            built = mart_rows(con, f"marts.{mart}", types)
        finally:
            con.execute("detach athena_build")
    assert built, f"{mart} is empty"
    assert athena == built, differences("the Athena SQL", athena, built, athena_columns)
