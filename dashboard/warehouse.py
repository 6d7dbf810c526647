"""Where the marts are and how to read them: one connection per engine, the same SQL on all.

The target is chosen as dbt chooses it (`TUNELAKE_TARGET`, default `duckdb`), with the
environment variables of `profiles.example.yml`. Only opening the connection differs between
engines; every query goes through DB-API 2.0 cursors and comes back as a pandas frame.

The DuckDB path is the one the tests exercise. The Snowflake and Athena connections follow the
connectors' documented parameters but are not exercised offline (no account to run them on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
# The profile's default, `../data/tunelake.duckdb` from dbt_project/, seen from the checkout root.
DEFAULT_DUCKDB_PATH = REPO_ROOT / "data" / "tunelake.duckdb"
TARGETS = ("duckdb", "snowflake", "athena")
# BI reads with the read-only role of infra/snowflake/setup.sql, not dbt's transformer role.
DEFAULT_SNOWFLAKE_ROLE = "TUNELAKE_READER"
# generate_schema_name keeps custom schemas as they are: the marts are `marts` on every engine
# (Snowflake schema MARTS, Glue database `marts`), so the queries name it directly.
MARTS_SCHEMA = "marts"


class WarehouseUnavailableError(RuntimeError):
    """The marts cannot be read; the message says why and what to run."""


@dataclass(frozen=True)
class Target:
    """The configured warehouse: its engine and its settings (no secrets, only where to find them)."""

    engine: str
    settings: tuple[tuple[str, str], ...]

    def setting(self, name: str) -> str:
        return dict(self.settings)[name]

    @property
    def description(self) -> str:
        """Where the dashboard reads from, for its sidebar."""
        if self.engine == "duckdb":
            return f"DuckDB file {self.setting('path')}"
        if self.engine == "snowflake":
            return f"Snowflake {self.setting('account')}, {self.setting('database')}.MARTS as {self.setting('role')}"
        return f"Athena ({self.setting('region')}, work group {self.setting('work_group')}), Glue database marts"


def configured_target(environ: Mapping[str, str] = os.environ) -> Target:
    """The target named by `TUNELAKE_TARGET`, with its settings from the environment.

    Raises:
        WarehouseUnavailableError: for an unknown target, or when a setting the engine needs is missing.
    """
    engine = environ.get("TUNELAKE_TARGET", "duckdb").strip().lower() or "duckdb"
    if engine == "duckdb":
        path = Path(environ.get("TUNELAKE_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH).expanduser().resolve()
        return Target("duckdb", (("path", str(path)),))
    if engine == "snowflake":
        required = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH")
        _require(environ, required, engine)
        return Target(
            "snowflake",
            (
                ("account", environ["SNOWFLAKE_ACCOUNT"]),
                ("user", environ["SNOWFLAKE_USER"]),
                ("private_key_path", environ["SNOWFLAKE_PRIVATE_KEY_PATH"]),
                ("role", environ.get("SNOWFLAKE_ROLE", DEFAULT_SNOWFLAKE_ROLE)),
                ("warehouse", environ.get("SNOWFLAKE_WAREHOUSE", "TUNELAKE_WH")),
                ("database", environ.get("SNOWFLAKE_DATABASE", "TUNELAKE")),
            ),
        )
    if engine == "athena":
        _require(environ, ("ATHENA_S3_STAGING_DIR",), engine)
        return Target(
            "athena",
            (
                ("s3_staging_dir", environ["ATHENA_S3_STAGING_DIR"]),
                ("region", environ.get("AWS_REGION", "eu-west-1")),
                ("work_group", environ.get("ATHENA_WORKGROUP", "primary")),
            ),
        )
    raise WarehouseUnavailableError(f"TUNELAKE_TARGET={engine!r} is not a target: use one of {', '.join(TARGETS)}.")


def _require(environ: Mapping[str, str], names: tuple[str, ...], engine: str) -> None:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise WarehouseUnavailableError(
            f"The {engine} target needs {', '.join(missing)} in the environment "
            "(the same variables as profiles.example.yml)."
        )


def connect(target: Target):
    """A DB-API connection to the target; the caller closes it.

    DuckDB opens read-only, per query: a held connection would lock the file against the next
    `tunelake ingest` or `dbt build`, and opening a local file costs milliseconds.

    Raises:
        WarehouseUnavailableError: when the DuckDB file does not exist.
    """
    if target.engine == "duckdb":
        import duckdb

        path = Path(target.setting("path"))
        if not path.is_file():
            raise WarehouseUnavailableError(
                f"No warehouse at {path}. Run `make demo` to build the demo marts there, "
                "or point TUNELAKE_DUCKDB_PATH at your DuckDB file."
            )
        return duckdb.connect(str(path), read_only=True)
    if target.engine == "snowflake":  # not exercised offline
        import snowflake.connector

        return snowflake.connector.connect(
            account=target.setting("account"),
            user=target.setting("user"),
            private_key_file=target.setting("private_key_path"),
            private_key_file_pwd=os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE") or None,
            role=target.setting("role"),
            warehouse=target.setting("warehouse"),
            database=target.setting("database"),
            schema=MARTS_SCHEMA,
            application="tunelake-dashboard",
        )
    # Athena, not exercised offline: credentials come from the usual AWS chain.
    from pyathena import connect as athena_connect

    return athena_connect(
        s3_staging_dir=target.setting("s3_staging_dir"),
        region_name=target.setting("region"),
        work_group=target.setting("work_group"),
        schema_name=MARTS_SCHEMA,
    )


def fetch(target: Target, sql: str) -> pd.DataFrame:
    """Run one query and return its rows, with lower-case column names and pandas types.

    Columns follow the project's naming: `*_date` become dates and `*_at` UTC timestamps, so
    charts get the same types whichever engine answered; Snowflake's decimals become floats.

    Raises:
        WarehouseUnavailableError: when the engine refuses (no marts yet, a writer holding the
            DuckDB file, credentials): the dashboard says so instead of showing a traceback.
    """
    try:
        connection = connect(target)
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            columns = [column[0].lower() for column in cursor.description]
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
        finally:
            connection.close()
    except _engine_errors(target.engine) as error:
        raise WarehouseUnavailableError(
            f"Could not read the marts from {target.description}: {error}\n\n"
            "Build them with `make demo` (DuckDB) or `dbt build`; if `tunelake ingest` or `dbt build` "
            "is writing to the warehouse right now, reload in a moment."
        ) from error
    return normalized(frame)


def _engine_errors(engine: str) -> tuple[type[Exception], ...]:
    """The DB-API base error of the engine's driver (each driver defines its own)."""
    if engine == "duckdb":
        import duckdb

        return (duckdb.Error,)
    if engine == "snowflake":  # not exercised offline
        from snowflake.connector import errors

        return (errors.Error,)
    from pyathena import error

    return (error.Error,)


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with types a chart can use, whichever engine's driver filled it."""
    for column in frame.columns:
        if column.endswith("_date"):
            frame[column] = pd.to_datetime(frame[column])
        elif column.endswith("_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        elif frame[column].dtype == object and _numeric(frame[column]):
            # Nulls turn integer columns into objects, and Snowflake answers decimals: make them numbers
            # (a column of nulls only, such as a 7-day change in the first week, becomes NaN).
            frame[column] = pd.to_numeric(frame[column].astype(float))
    return frame


def _numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present.head(100))
