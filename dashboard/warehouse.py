"""Where the marts are and how to read them: one connection per engine, the same SQL on all.

The target is chosen as dbt chooses it (`TUNELAKE_TARGET`, default `duckdb`), with the
environment variables of `profiles.example.yml`. Only opening the connection differs between
engines, and each engine's module says how (`ingestion.engines`); every query goes through
DB-API 2.0 cursors and comes back as a pandas frame.

The DuckDB path is the one the tests exercise. The Snowflake and Athena connections follow the
connectors' documented parameters but are not exercised offline (no account to run them on).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.engines import Reader, engine
from ingestion.errors import ConfigurationError


class WarehouseUnavailableError(RuntimeError):
    """The marts cannot be read; the message says why and what to run."""


# Per thread: whether `one_connection` is open, and the connection it holds with the target it reads.
_held = threading.local()


@dataclass(frozen=True)
class Target:
    """The configured warehouse: its engine and how to read it (no secrets, only where to find them)."""

    engine: str
    reader: Reader

    def setting(self, name: str) -> str:
        return self.reader.settings[name]

    @property
    def description(self) -> str:
        """Where the dashboard reads from, for its sidebar."""
        return self.reader.description


def configured_target(environ: Mapping[str, str] = os.environ) -> Target:
    """The target named by `TUNELAKE_TARGET` (`tunelake dashboard` sets it from tunelake's settings).

    Raises:
        WarehouseUnavailableError: for an unknown target, or when a setting the engine needs is missing.
    """
    name = environ.get("TUNELAKE_TARGET", "duckdb").strip().lower() or "duckdb"
    try:
        return Target(name, engine(name, setting="TUNELAKE_TARGET").reader(environ))
    except ConfigurationError as error:
        raise WarehouseUnavailableError(str(error)) from None


def data_version(target: Target) -> str | None:
    """What changes when the marts change, for cache keys: a DuckDB file's (and its WAL's) modification time.

    None where the dashboard cannot see a build land (Snowflake, Athena): their answers age out by time.
    """
    if target.engine != "duckdb":
        return None
    path = Path(target.setting("path"))
    # A writer that has not checkpointed yet leaves its changes in the WAL, which readers replay.
    stamps = [str(file.stat().st_mtime_ns) if file.exists() else "-" for file in (path, Path(f"{path}.wal"))]
    return "/".join(stamps)


@contextmanager
def one_connection() -> Iterator[None]:
    """Within the block, the queries this thread runs share one connection, opened by the first.

    Opening one costs more than a query on the marts (tens of milliseconds for a DuckDB file, a
    login for Snowflake), and a page that misses the cache runs several. The connection lives only
    as long as the block (a page's run): a held DuckDB connection would lock the file against the
    next `tunelake ingest` or `dbt build`. Queries answered from the cache open nothing.
    """
    _held.active, _held.connection, _held.description = True, None, None
    try:
        yield
    finally:
        connection = _held.connection
        _held.active, _held.connection, _held.description = False, None, None
        if connection is not None:
            connection.close()


def _connection(target: Target) -> tuple[Any, bool]:
    """A connection to `target`, and whether the caller closes it (not when `one_connection` holds it)."""
    if not getattr(_held, "active", False):
        return target.reader.connect(), True
    if _held.connection is None or _held.description != target.description:
        if _held.connection is not None:
            _held.connection.close()
            _held.connection = None
        _held.connection, _held.description = target.reader.connect(), target.description
    return _held.connection, False


def fetch(target: Target, sql: str) -> pd.DataFrame:
    """Run one query and return its rows, with lower-case column names and pandas types.

    Columns follow the project's naming: `*_date` become dates and `*_at` UTC timestamps, so
    charts get the same types whichever engine answered; Snowflake's decimals become floats.

    Raises:
        WarehouseUnavailableError: when the engine refuses (no marts yet, a writer holding the
            DuckDB file, credentials): the dashboard says so instead of showing a traceback.
    """
    try:
        connection, owned = _connection(target)
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql)
                columns = [column[0].lower() for column in cursor.description]
                frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
            finally:
                cursor.close()
        finally:
            if owned:
                connection.close()
    except ConfigurationError as error:
        raise WarehouseUnavailableError(str(error)) from None
    except target.reader.errors() as error:
        raise WarehouseUnavailableError(
            f"Could not read the marts from {target.description}: {error}\n\n"
            "Build them with `tunelake run` or `dbt build` (the demo's: `make demo`); if `tunelake ingest` or "
            "`dbt build` is writing to the warehouse right now, reload in a moment."
        ) from error
    return normalized(frame)


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
