"""Smoke runs on a real Snowflake or Athena account: check every setting first, then run.

The offline tests prove what the local stand-ins can (see the README); a smoke run proves the
rest: real COPY INTO from the stage, real Iceberg merges, real Glue. It refuses before any
request when a setting is missing, and names each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import dlt


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
        source = dlt.secrets if self.secret else dlt.config

        def given(key: str) -> bool:
            return source.get(key) not in (None, "")

        return given(self.dlt_key) or (bool(self.fields) and all(given(f"{self.dlt_key}.{f}") for f in self.fields))


SPOTIFY = (
    Requirement("SOURCES__SPOTIFY__CLIENT_ID", "your Spotify app's client id", "sources.spotify.client_id", True),
    Requirement(
        "SOURCES__SPOTIFY__CLIENT_SECRET", "your Spotify app's client secret", "sources.spotify.client_secret", True
    ),
)
S3_RAW_ZONE = (
    Requirement("TUNELAKE__RAW_ZONE_URL", "the raw zone, an s3://bucket/prefix URL", "tunelake.raw_zone_url"),
)
REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    "snowflake": (
        *SPOTIFY,
        *S3_RAW_ZONE,
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
    ),
    "athena": (
        *SPOTIFY,
        *S3_RAW_ZONE,
        Requirement(
            "DESTINATION__ATHENA__QUERY_RESULT_BUCKET",
            "where Athena writes query results for dlt (s3://...)",
            "destination.athena.query_result_bucket",
        ),
        Requirement("ATHENA_S3_STAGING_DIR", "where Athena writes query results for dbt (s3://...)"),
        Requirement("ATHENA_S3_DATA_DIR", "where dbt's tables keep their data (s3://...)"),
        Requirement("AWS_REGION", "the region of the bucket, Glue and Athena"),
    ),
}


def missing(warehouse: str) -> list[Requirement]:
    """The settings a smoke run on `warehouse` needs and cannot find, in the order listed."""
    absent = [r for r in REQUIREMENTS[warehouse] if not r.present()]
    raw_zone = dlt.config.get("tunelake.raw_zone_url") or ""
    if raw_zone and not raw_zone.startswith("s3://"):
        absent.append(Requirement("TUNELAKE__RAW_ZONE_URL", f"an s3:// URL (it is {raw_zone!r})"))
    return absent


def refusal(warehouse: str, absent: list[Requirement]) -> str:
    """What a person reads when the smoke run cannot start."""
    engine = warehouse.capitalize()
    lines = [f"smoke-{warehouse} runs against a real {engine} account and needs settings not found here:"]
    for requirement in absent:
        where = f" (or {requirement.dlt_key} in .dlt/)" if requirement.dlt_key else ""
        lines.append(f"  {requirement.name}{where}: {requirement.what}")
    lines.append(f'Nothing was run. See the README, section "{warehouse.capitalize()}".')
    return "\n".join(lines)
