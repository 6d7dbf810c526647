"""tunelake's own settings, the one configuration every part reads: the loader, dbt, the dashboard, the Lambda.

They are dlt config (the `[tunelake]` section of `.dlt/config.toml`, or `TUNELAKE__*` in the
environment). dbt and the dashboard read them through `dbt_environment`, which `tunelake dbt`,
`tunelake dashboard` and the Lambda set, so a path set once is honoured everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination import Destination

from ingestion.engines import Engine, engine
from ingestion.spotify import settings as source_settings

# Inside the raw zone: staged parquet files for Snowflake; the Iceberg tables themselves for Athena.
STAGING_FOLDER = "_warehouse"
NAMES = ("raw_zone_url", "warehouse", "duckdb_path", "pipelines_dir", "staging_url")


@dataclass(frozen=True)
class Settings:
    """Where a run reads from and writes to.

    Args:
        raw_zone_url: Folder or `s3://bucket/prefix` of the raw zone.
        warehouse: The engine of the warehouse (`ingestion.engines`): `duckdb`, `snowflake` or
            `athena`. Their connections are dlt's own settings (`destination.snowflake.*`,
            `destination.athena.*`; see the README).
        duckdb_path: DuckDB database file, when the warehouse is DuckDB.
        pipelines_dir: dlt's working folder; disposable, state is restored from destinations.
        staging_url: Where the warehouse load writes parquet: the staged files Snowflake copies
            from (when the raw zone is on S3), or the data of the Athena tables; default:
            `_warehouse` inside the raw zone.
        max_cooldown_wait: Longest remaining cooldown (seconds) a run waits out before starting;
            a longer one makes the run skip.
        destination: A ready dlt destination for the warehouse, used instead of the one
            `warehouse` names (tests pass the local stand-ins' configured destinations).

    Raises:
        ConfigurationError: naming the setting, when the engine cannot work with these.
    """

    raw_zone_url: str = "data/raw"
    warehouse: str = "duckdb"
    duckdb_path: str = "data/tunelake.duckdb"
    pipelines_dir: str = "data/pipelines"
    staging_url: str = ""
    max_cooldown_wait: float = source_settings.MAX_RETRY_AFTER_S
    destination: Destination[Any, Any] | None = None

    @classmethod
    def from_config(cls) -> Settings:
        """Read `tunelake.*` from `.dlt/config.toml` or `TUNELAKE__*` environment variables."""
        values = {name: dlt.config.get(f"tunelake.{name}", str) for name in NAMES}
        return cls(**{k: v for k, v in values.items() if v})  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        self.engine.check(self)

    @property
    def engine(self) -> Engine:
        return engine(self.warehouse)

    @property
    def default_staging_url(self) -> str:
        return (self.staging_url or f"{self.raw_zone_url.rstrip('/')}/{STAGING_FOLDER}").rstrip("/")

    @property
    def warehouse_staging_url(self) -> str | None:
        """The staging bucket of the warehouse load, or None when it loads directly."""
        return self.engine.staging_url(self)

    @property
    def warehouse_label(self) -> str:
        """The warehouse as a person recognises it in a summary."""
        return self.engine.label(self)

    def warehouse_destination(self) -> Destination[Any, Any]:
        """The dlt destination of the warehouse load."""
        return self.destination if self.destination is not None else self.engine.destination(self)

    def dbt_environment(self) -> dict[str, str]:
        """What `profiles.example.yml` reads: the target named as the warehouse, the DuckDB file."""
        return {"TUNELAKE_TARGET": self.warehouse, "TUNELAKE_DUCKDB_PATH": str(Path(self.duckdb_path).resolve())}
