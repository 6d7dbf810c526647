"""Snowflake: loaded from parquet staged in S3 through an external stage (or dlt's internal stage)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ingestion.engines.base import MARTS_SCHEMA, Engine, Reader, Requirement, is_s3, require

if TYPE_CHECKING:
    from dlt.common.destination import Destination

    from ingestion.config import Settings

# dlt's options for the warehouse load. Zoned timestamps (played_at, added_at, observed_at) as
# TIMESTAMP_TZ, which keeps the UTC offset dlt writes, not TIMESTAMP_LTZ, which a cast to DATE
# reads in the session's zone (America/Los_Angeles on an account that sets none).
LOAD_OPTIONS: dict[str, Any] = {"use_timestamp_tz": True}
# BI reads with the read-only role of infra/snowflake/setup.sql, not dbt's transformer role.
READER_ROLE = "TUNELAKE_READER"


class Snowflake(Engine):
    name = "snowflake"
    # The warehouse load writes parquet (pyarrow); boto3 pairs with the botocore shipped.
    load_requirements = ("dlt[snowflake,parquet]", "boto3")
    dbt_requirements = ("dbt-core", "dbt-snowflake")
    smoke_requirements = (
        Requirement(
            "DESTINATION__SNOWFLAKE__CREDENTIALS",
            "dlt's Snowflake connection for the loader, e.g. snowflake://TUNELAKE_LOADER_SVC@ACCOUNT/TUNELAKE"
            "?warehouse=TUNELAKE_WH&role=TUNELAKE_LOADER&private_key_path=...",
            "destination.snowflake.credentials",
            True,
            fields=("host", "database", "username"),
        ),
        Requirement(
            "DESTINATION__SNOWFLAKE__STAGE_NAME",
            "the external stage over the staging prefix (TUNELAKE.SPOTIFY.TUNELAKE_STAGE)",
            "destination.snowflake.stage_name",
        ),
        Requirement("SNOWFLAKE_ACCOUNT", "account identifier, for dbt"),
        Requirement("SNOWFLAKE_USER", "dbt's service user (TUNELAKE_TRANSFORMER_SVC)"),
        Requirement("SNOWFLAKE_PRIVATE_KEY_PATH", "dbt's private key file (key-pair authentication)"),
    )

    def destination(self, settings: Settings) -> Destination[Any, Any]:
        import dlt

        return dlt.destinations.snowflake(**LOAD_OPTIONS)

    def staging_url(self, settings: Settings) -> str | None:
        url = settings.default_staging_url
        # dlt names files relative to this path for COPY from the stage; without the slash they
        # would start with one and the stage would find nothing. A local raw zone: dlt's
        # internal stage (PUT), no external staging.
        return f"{url}/" if is_s3(url) else None

    def reader(self, environ: Mapping[str, str]) -> Reader:
        require(environ, ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH"), self.name)
        settings = {
            "account": environ["SNOWFLAKE_ACCOUNT"],
            "user": environ["SNOWFLAKE_USER"],
            "private_key_path": environ["SNOWFLAKE_PRIVATE_KEY_PATH"],
            "role": environ.get("SNOWFLAKE_ROLE", READER_ROLE),
            "warehouse": environ.get("SNOWFLAKE_WAREHOUSE", "TUNELAKE_WH"),
            "database": environ.get("SNOWFLAKE_DATABASE", "TUNELAKE"),
        }

        def connect() -> Any:  # not exercised offline: no account here
            import snowflake.connector

            return snowflake.connector.connect(
                account=settings["account"],
                user=settings["user"],
                private_key_file=settings["private_key_path"],
                private_key_file_pwd=os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE") or None,
                role=settings["role"],
                warehouse=settings["warehouse"],
                database=settings["database"],
                schema=MARTS_SCHEMA,
                application="tunelake-dashboard",
            )

        def errors() -> tuple[type[Exception], ...]:
            from snowflake.connector import errors as snowflake_errors

            return (snowflake_errors.Error,)

        where = f"Snowflake {settings['account']}, {settings['database']}.MARTS as {settings['role']}"
        return Reader(where, settings, connect, errors)


ENGINE = Snowflake()
