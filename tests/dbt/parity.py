"""Comparing an engine's marts with DuckDB's, row for row, after normalising types.

The DuckDB build is the reference: `duckdb_marts` runs the project on a copy of a raw warehouse,
as a laptop far from UTC would. Another engine's mart, brought into DuckDB (`mart_rows` reads any
relation DuckDB can see, `arrow_relation` turns DB-API rows into one), is cast column by column to
the types of the DuckDB-built mart, and the two sorted row lists must be equal.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from ingestion.config import Settings
from ingestion.pipeline import RunSummary, load_warehouse
from ingestion.transform import DBT_PROJECT_DIR, MARTS, PROFILES_TEMPLATE, run_dbt

# Athena and Trino sessions run in UTC; the DuckDB build runs as on a laptop far from it, so a
# model whose result depends on the session's time zone (a "UTC day" cast in local time) differs.
DUCKDB_TIME_ZONE = "America/Los_Angeles"
# The marts and the time spine MetricFlow reads beside them in the marts schema (models/utilities).
COMPARED = (*MARTS, "time_spine_daily")


def project_copy(root: Path) -> Path:
    """The dbt project copied to `root`, so dbt's target/ folder is this test's own."""
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    return project


def duckdb_marts(raw_warehouse: Path, root: Path) -> Path:
    """The marts as `dbt run` builds them on DuckDB (session zone DUCKDB_TIME_ZONE), in a copy of `raw_warehouse`."""
    project = project_copy(root)
    profile = yaml.safe_load(PROFILES_TEMPLATE.read_text())
    profile["tunelake"]["outputs"]["duckdb"].setdefault("settings", {})["TimeZone"] = DUCKDB_TIME_ZONE
    (project / "profiles.yml").write_text(yaml.safe_dump(profile))
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse, warehouse)
    run_dbt(["run", "--quiet"], duckdb_path=str(warehouse), target="duckdb", project_dir=project)
    return warehouse


def reference_marts(raw_zone_url: str, root: Path) -> Path:
    """DuckDB's marts from a raw zone: a warehouse loaded from it alone, then one full `dbt run` (`duckdb_marts`)."""
    raw = Settings(raw_zone_url=raw_zone_url, duckdb_path=str(root / "raw.duckdb"), pipelines_dir=str(root / "p"))
    load_warehouse(raw, RunSummary())
    return duckdb_marts(Path(raw.duckdb_path), root)


def assert_same_mart(
    reference: Path, mart: str, engine: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """`engine`'s rows of `mart` (DB-API columns and rows) equal the DuckDB-built mart in `reference`."""
    with duckdb.connect(str(reference)) as con:
        types = mart_types(con, f"marts.{mart}")
        assert list(columns) == [name for name, _ in types]
        con.register("from_engine", arrow_relation(columns, rows))
        from_engine = mart_rows(con, "from_engine", types)
        built = mart_rows(con, f"marts.{mart}", types)
    assert built, f"{mart} is empty"
    assert from_engine == built, differences(engine, from_engine, built, list(columns))


def mart_types(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """Each column of `relation` and its DuckDB type, in order."""
    return [(row[0], row[1]) for row in con.sql(f"describe {relation}").fetchall()]


def arrow_relation(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> pa.Table:
    """DB-API rows as an arrow table DuckDB can read (`con.register`), each column's type inferred from its values."""
    return pa.table({name: pa.array([row[i] for row in rows]) for i, name in enumerate(columns)})


def mart_rows(con: duckdb.DuckDBPyConnection, relation: str, types: list[tuple[str, str]]) -> list[tuple]:
    """The rows of a mart, each column cast to the type of the DuckDB-built mart.

    That cast is the whole type normalisation, and it is what the enforced contract does on DuckDB:
    an exact decimal (Trino's type for `1.5`) arrives as DECIMAL where the contract says double, a
    timestamp without zone where it says with. Doubles are then rounded to 9 places, since sums of
    doubles may add up in a different order.
    """
    columns = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in types)
    rows = con.sql(f"select {columns} from {relation}").fetchall()
    return sorted(
        (tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows),
        key=repr,
    )


def differences(engine: str, other: list[tuple], built: list[tuple], columns: list[str], limit: int = 5) -> str:
    """The first rows only one side has, one per line."""
    only_other = list((Counter(other) - Counter(built)).elements())[:limit]
    only_duckdb = list((Counter(built) - Counter(other)).elements())[:limit]
    lines = [f"{len(other)} rows from {engine}, {len(built)} from the DuckDB build; columns {columns}"]
    lines += [f"  only {engine}: {row}" for row in only_other]
    lines += [f"  only DuckDB: {row}" for row in only_duckdb]
    return "\n".join(lines)
