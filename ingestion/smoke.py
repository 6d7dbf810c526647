"""Smoke runs on a real Snowflake or Athena account: check every setting first, then run.

The offline tests prove what the local stand-ins can (see the README); a smoke run proves the
rest: real COPY INTO from the stage, real Iceberg merges, real Glue. It refuses before any
request when a setting is missing, and names each one.
"""

from __future__ import annotations

import dlt

from ingestion.engines import Requirement, engine

SPOTIFY = (
    Requirement("SOURCES__SPOTIFY__CLIENT_ID", "your Spotify app's client id", "sources.spotify.client_id", True),
    Requirement(
        "SOURCES__SPOTIFY__CLIENT_SECRET", "your Spotify app's client secret", "sources.spotify.client_secret", True
    ),
)
S3_RAW_ZONE = (
    Requirement("TUNELAKE__RAW_ZONE_URL", "the raw zone, an s3://bucket/prefix URL", "tunelake.raw_zone_url"),
)


def requirements(warehouse: str) -> tuple[Requirement, ...]:
    """Spotify's credentials, an S3 raw zone, and what the engine's own smoke run needs."""
    return (*SPOTIFY, *S3_RAW_ZONE, *engine(warehouse).smoke_requirements)


def missing(warehouse: str) -> list[Requirement]:
    """The settings a smoke run on `warehouse` needs and cannot find, in the order listed."""
    absent = [r for r in requirements(warehouse) if not r.present()]
    raw_zone: str | None = dlt.config.get("tunelake.raw_zone_url", str)
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
