"""What tunelake needs to know of a warehouse engine; each engine's module declares one `Engine`.

An engine is where the warehouse load goes (a dlt destination, staged or not), the dbt target of
the same name, how the dashboard reads the marts, what a Lambda ships for it, and what a smoke
run on a real account needs. Adding an engine is one module here, its entry in `ENGINES`, its
target in `profiles.example.yml` and its stand-in in the tests.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ingestion.errors import ConfigurationError

if TYPE_CHECKING:
    from dlt.common.destination import Destination
    from dlt.common.schema.typing import TLoaderMergeStrategy, TTableFormat

    from ingestion.config import Settings

# dbt's marts schema, the same on every engine: generate_schema_name keeps custom schemas as
# they are on the production targets (Snowflake schema MARTS, Glue database `marts`).
MARTS_SCHEMA = "marts"


class EngineSettingsError(ConfigurationError):
    """A setting the engine needs is missing or wrong; the message names it."""


def is_s3(url: str) -> bool:
    return url.startswith(("s3://", "s3a://"))


@dataclass(frozen=True)
class Requirement:
    """One setting a smoke run needs: a dlt config key or an environment variable for dbt."""

    name: str
    what: str
    dlt_key: str | None = None
    secret: bool = False
    # For a dlt connection: the fields that can stand in for its connection string.
    fields: tuple[str, ...] = ()

    def present(self) -> bool:
        if self.dlt_key is None:
            return bool(os.environ.get(self.name))
        import dlt

        source = dlt.secrets if self.secret else dlt.config

        def given(key: str) -> bool:
            return source.get(key) not in (None, "")

        return given(self.dlt_key) or (bool(self.fields) and all(given(f"{self.dlt_key}.{f}") for f in self.fields))


@dataclass(frozen=True)
class Reader:
    """How a reader of the marts (the dashboard) connects: a DB-API connection and its errors.

    Args:
        description: Where it reads from, for people (no secrets).
        settings: What it connects with (no secrets: where to find them).
        connect: Opens a DB-API 2.0 connection; the caller closes it.
        errors: The driver's base error classes.
    """

    description: str
    settings: dict[str, str]
    connect: Callable[[], Any]
    errors: Callable[[], tuple[type[Exception], ...]]


class Engine(ABC):
    """One warehouse engine."""

    name: ClassVar[str]
    # Packages the Lambda ships for the warehouse load, and for dbt on this engine.
    load_requirements: ClassVar[tuple[str, ...]]
    dbt_requirements: ClassVar[tuple[str, ...]]
    # What a smoke run on a real account needs beyond Spotify's credentials.
    smoke_requirements: ClassVar[tuple[Requirement, ...]] = ()
    # dlt's table format of the warehouse tables (`iceberg` where merges need it).
    table_format: ClassVar[TTableFormat | None] = None
    # How dlt merges a raw load into them: its default (delete-insert in SQL) unless named.
    merge_strategy: ClassVar[TLoaderMergeStrategy | None] = None
    # False where timestamps are stored without zone, UTC by convention (Trino's Iceberg tables,
    # like Athena's, which dlt's athena destination makes so by itself).
    timestamps_with_zone: ClassVar[bool] = True

    @abstractmethod
    def destination(self, settings: Settings) -> Destination[Any, Any]:
        """The dlt destination of the warehouse load; connections come from dlt config."""

    def staging_url(self, settings: Settings) -> str | None:
        """Where the warehouse load stages its parquet files, or None when it loads directly."""
        return None

    def check(self, settings: Settings) -> None:  # noqa: B027 (most engines take any settings)
        """Raises EngineSettingsError naming the setting when this engine cannot work with `settings`."""

    def label(self, settings: Settings) -> str:
        """The warehouse as a person recognises it in a summary."""
        return self.name

    @abstractmethod
    def reader(self, environ: Mapping[str, str]) -> Reader:
        """How the dashboard reads the marts, from the environment of `profiles.example.yml`.

        Raises:
            EngineSettingsError: naming the variables that are missing.
        """


def require(environ: Mapping[str, str], names: tuple[str, ...], engine: str) -> None:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise EngineSettingsError(
            f"The {engine} target needs {', '.join(missing)} in the environment "
            "(the same variables as profiles.example.yml)."
        )
