"""Athena: Iceberg tables in S3 registered in Glue, so incremental models can merge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ingestion.engines.base import MARTS_SCHEMA, Engine, EngineSettingsError, Reader, Requirement, is_s3, require

if TYPE_CHECKING:
    from dlt.common.destination import Destination

    from ingestion.config import Settings


class Athena(Engine):
    name = "athena"
    load_requirements = ("dlt[athena,parquet]", "boto3")
    dbt_requirements = ("dbt-core", "dbt-athena-community")
    table_format = "iceberg"
    smoke_requirements = (
        Requirement(
            "DESTINATION__ATHENA__QUERY_RESULT_BUCKET",
            "where Athena writes query results for dlt (s3://...)",
            "destination.athena.query_result_bucket",
        ),
        Requirement("ATHENA_S3_STAGING_DIR", "where Athena writes query results for dbt (s3://...)"),
        Requirement("ATHENA_S3_DATA_DIR", "where dbt's tables keep their data (s3://...)"),
        Requirement("AWS_REGION", "the region of the bucket, Glue and Athena"),
    )

    def destination(self, settings: Settings) -> Destination[Any, Any]:
        import dlt

        return dlt.destinations.athena()

    def staging_url(self, settings: Settings) -> str | None:
        # The parquet the warehouse load writes is the Iceberg tables' data: always staged.
        return settings.default_staging_url

    def check(self, settings: Settings) -> None:
        if not is_s3(settings.raw_zone_url) and not is_s3(settings.staging_url):
            raise EngineSettingsError(
                "tunelake.raw_zone_url (or tunelake.staging_url) must be an s3:// URL for the athena warehouse: "
                "Athena reads its tables from S3"
            )

    def reader(self, environ: Mapping[str, str]) -> Reader:
        require(environ, ("ATHENA_S3_STAGING_DIR",), self.name)
        settings = {
            "s3_staging_dir": environ["ATHENA_S3_STAGING_DIR"],
            "region": environ.get("AWS_REGION", "eu-west-1"),
            "work_group": environ.get("ATHENA_WORKGROUP", "primary"),
        }

        def connect() -> Any:  # not exercised offline; credentials come from the usual AWS chain
            from pyathena import connect as athena_connect

            return athena_connect(
                s3_staging_dir=settings["s3_staging_dir"],
                region_name=settings["region"],
                work_group=settings["work_group"],
                schema_name=MARTS_SCHEMA,
            )

        def errors() -> tuple[type[Exception], ...]:
            from pyathena import error

            return (error.Error,)

        where = f"Athena ({settings['region']}, work group {settings['work_group']}), Glue database marts"
        return Reader(where, settings, connect, errors)


ENGINE = Athena()
