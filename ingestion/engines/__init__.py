"""The warehouse engines tunelake loads and builds on, one module each (`base.Engine`)."""

from __future__ import annotations

from ingestion.engines import athena, duckdb, snowflake, trino
from ingestion.engines.base import MARTS_SCHEMA, Engine, EngineSettingsError, Reader, Requirement, is_s3

ENGINES: dict[str, Engine] = {
    engine.name: engine for engine in (duckdb.ENGINE, snowflake.ENGINE, athena.ENGINE, trino.ENGINE)
}


def engine(name: str, setting: str = "tunelake.warehouse") -> Engine:
    """The engine called `name`.

    Raises:
        EngineSettingsError: naming `setting` when there is none.
    """
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineSettingsError(f"{setting}: {name!r} is not one of {tuple(ENGINES)}") from None


__all__ = ["ENGINES", "MARTS_SCHEMA", "Engine", "EngineSettingsError", "Reader", "Requirement", "engine", "is_s3"]
