"""Trino (Starburst, EMR's Trino): Iceberg tables in a catalog Trino reads, written by dlt and pyiceberg.

The raw load is dlt's filesystem destination writing Iceberg tables through pyiceberg: each raw
load is upserted on the declared primary keys, and every table is registered in the Iceberg
catalog Trino's Iceberg connector reads (Glue, a REST catalog or a Hive metastore). That catalog
is pyiceberg's catalog `default`, configured as pyiceberg reads it: `PYICEBERG_CATALOG__DEFAULT__*`
environment variables or `.pyiceberg.yaml` (in PYICEBERG_HOME, the home or the working folder);
dlt 1.31's own catalog settings (`iceberg_catalog.*`) take only `sql` and `rest` types, and it
falls back to pyiceberg's configuration, which takes `glue` and `hive` too.
Timestamps are stored without zone, UTC by convention, as on Athena's Iceberg tables, so the same
dbt SQL serves Athena and Trino.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ingestion.engines.base import MARTS_SCHEMA, Engine, EngineSettingsError, Reader, Requirement, require

if TYPE_CHECKING:
    from dlt.common.destination import Destination

    from ingestion.config import Settings

# dlt's name for its pyiceberg catalog, and so the name of the catalog in pyiceberg's configuration.
CATALOG = "default"
CATALOG_TYPE = "PYICEBERG_CATALOG__DEFAULT__TYPE"


class Trino(Engine):
    name = "trino"
    load_requirements = ("dlt[s3,pyiceberg]", "pyiceberg[glue]")
    dbt_requirements = ("dbt-core", "dbt-trino")
    table_format = "iceberg"
    # pyiceberg merges Arrow data itself: upsert on the primary key is its merge.
    merge_strategy = "upsert"
    timestamps_with_zone = False
    smoke_requirements = (
        Requirement(CATALOG_TYPE, "pyiceberg's catalog of the raw tables: glue, rest or hive (or .pyiceberg.yaml)"),
        Requirement("TRINO_HOST", "the Trino coordinator, for dbt"),
        Requirement("TRINO_USER", "dbt's Trino user"),
    )

    def destination(self, settings: Settings) -> Destination[Any, Any]:
        from pyiceberg.utils.config import Config

        # Without a catalog dlt would register the tables in an in-memory one Trino never sees.
        if not (Config().get_catalog_config(CATALOG) or {}).get("type"):
            raise EngineSettingsError(
                f"The trino warehouse needs pyiceberg's catalog {CATALOG!r}, the one Trino's Iceberg connector "
                f"reads: set {CATALOG_TYPE} (glue, rest or hive) and its settings, or write .pyiceberg.yaml"
            )
        import dlt

        return dlt.destinations.filesystem(bucket_url=settings.default_staging_url)

    def check(self, settings: Settings) -> None:
        if "://" not in settings.default_staging_url or settings.default_staging_url.startswith("file://"):
            raise EngineSettingsError(
                "tunelake.raw_zone_url (or tunelake.staging_url) must be object storage (s3://...) for the trino "
                "warehouse: Trino reads its tables from there"
            )

    def label(self, settings: Settings) -> str:
        return f"trino (Iceberg in {settings.default_staging_url})"

    def reader(self, environ: Mapping[str, str]) -> Reader:
        require(environ, ("TRINO_HOST",), self.name)
        settings = {
            "host": environ["TRINO_HOST"],
            "port": environ.get("TRINO_PORT", "8080"),
            "user": environ.get("TRINO_USER", "tunelake"),
            "catalog": environ.get("TRINO_CATALOG", "awsdatacatalog"),
            "http_scheme": environ.get("TRINO_HTTP_SCHEME", "http"),
        }

        def connect() -> Any:
            import trino.dbapi
            from trino.auth import BasicAuthentication

            password = environ.get("TRINO_PASSWORD")
            return trino.dbapi.connect(  # type: ignore[no-untyped-call]  # the client is untyped
                host=settings["host"],
                port=int(settings["port"]),
                user=settings["user"],
                catalog=settings["catalog"],
                schema=MARTS_SCHEMA,
                http_scheme=settings["http_scheme"],
                auth=BasicAuthentication(settings["user"], password) if password else None,
                source="tunelake-dashboard",
            )

        def errors() -> tuple[type[Exception], ...]:
            import trino.exceptions

            return (trino.exceptions.Error, trino.exceptions.HttpError)

        where = f"Trino {settings['host']}:{settings['port']}, {settings['catalog']}.{MARTS_SCHEMA}"
        return Reader(where, settings, connect, errors)


ENGINE = Trino()
