"""One ingestion run: extract once into the raw zone, then load the warehouse from those files.

The raw zone (dlt's filesystem destination: a local folder or `s3://bucket/prefix`) keeps
every load as gzipped JSON lines, partitioned by table and load date. The warehouse is then
loaded from the raw zone's completed loads, in order, never by calling the API again; its
dlt state remembers the last raw load it took, so a failed warehouse load is caught up by
the next run and the warehouse can be rebuilt from the raw zone alone.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.filesystem import filesystem

from ingestion.spotify import CatalogCrawler, SpotifyClient, parse_tracked, settings, spotify_resources
from ingestion.spotify.crawler import Skipped
from ingestion.spotify.helpers import ConfigurationError

logger = logging.getLogger(__name__)

DATASET = "spotify"
RAW_PIPELINE = "tunelake_raw"
WAREHOUSE_PIPELINE = "tunelake_warehouse"
RAW_LAYOUT = "{table_name}/load_date={YYYY}-{MM}-{DD}/{load_id}.{file_id}.{ext}"
WAREHOUSES = ("duckdb",)


@dataclass(frozen=True)
class Settings:
    """Where a run reads from and writes to (the `[tunelake]` section of dlt config).

    Args:
        raw_zone_url: Folder or `s3://bucket/prefix` of the raw zone.
        warehouse: Destination of the warehouse load.
        duckdb_path: DuckDB database file, when the warehouse is DuckDB.
        pipelines_dir: dlt's working folder; disposable, state is restored from destinations.
    """

    raw_zone_url: str = "data/raw"
    warehouse: str = "duckdb"
    duckdb_path: str = "data/tunelake.duckdb"
    pipelines_dir: str = "data/pipelines"

    @classmethod
    def from_config(cls) -> Settings:
        """Read `tunelake.*` from `.dlt/config.toml` or `TUNELAKE__*` environment variables."""
        values = {
            name: dlt.config.get(f"tunelake.{name}", str)
            for name in ("raw_zone_url", "warehouse", "duckdb_path", "pipelines_dir")
        }
        return cls(**{k: v for k, v in values.items() if v})

    def __post_init__(self) -> None:
        if self.warehouse not in WAREHOUSES:
            raise ConfigurationError(f"tunelake.warehouse: {self.warehouse!r} is not one of {WAREHOUSES}")


@dataclass
class RunSummary:
    """What a run did, for people (`format`) and for machines (the fields)."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    raw_rows: dict[str, int] = field(default_factory=dict)
    warehouse_rows: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    raw_load_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    raw_zone_url: str = ""
    warehouse: str = ""

    def format(self) -> str:
        lines = [
            f"Ingestion finished in {self.seconds:.1f} s: {sum(self.requests.values())} requests, "
            f"{self.statuses.get(429, 0)} answered 429."
        ]
        for endpoint, count in sorted(self.requests.items()):
            lines.append(f"  {count:>7}  {endpoint}")
        lines.append(f"Rows loaded (raw zone {self.raw_zone_url} -> warehouse {self.warehouse}):")
        for table in sorted(set(self.raw_rows) | set(self.warehouse_rows)):
            lines.append(f"  {self.raw_rows.get(table, 0):>7} -> {self.warehouse_rows.get(table, 0):>7}  {table}")
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} id(s):")
            lines.extend(f"  {s.kind} {s.entity_id}: {s.reason}" for s in self.skipped)
        return "\n".join(lines)


def _data_row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    return {t: n for t, n in counts.items() if not t.startswith("_dlt")}


def raw_pipeline(settings_: Settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=RAW_PIPELINE,
        destination=dlt.destinations.filesystem(bucket_url=settings_.raw_zone_url, layout=RAW_LAYOUT),
        dataset_name=DATASET,
        pipelines_dir=settings_.pipelines_dir,
    )


def warehouse_pipeline(settings_: Settings) -> dlt.Pipeline:
    Path(settings_.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=WAREHOUSE_PIPELINE,
        destination=dlt.destinations.duckdb(settings_.duckdb_path),
        dataset_name=DATASET,
        pipelines_dir=settings_.pipelines_dir,
    )


def _completed_raw_loads(raw_zone_url: str) -> list[str]:
    """Load ids the raw zone has fully received, oldest first (dlt writes `_dlt_loads` last)."""
    load_ids = []
    for file in filesystem(bucket_url=raw_zone_url, file_glob=f"{DATASET}/_dlt_loads/*.jsonl"):
        for line in file.read_bytes().splitlines():
            record = json.loads(line)
            if record.get("status") == 0 and record.get("schema_name") == DATASET:
                load_ids.append(record["load_id"])
    return sorted(set(load_ids), key=float)


def _raw_rows(raw_zone_url: str, table: str, load_id: str) -> Iterator[dict[str, Any]]:
    for file in filesystem(bucket_url=raw_zone_url, file_glob=f"{DATASET}/{table}/load_date=*/{load_id}.*.jsonl*"):
        data = file.read_bytes()
        if file["file_name"].endswith(".gz"):
            data = gzip.decompress(data)
        for line in io.BytesIO(data):
            row = json.loads(line)
            yield {k: v for k, v in row.items() if not k.startswith("_dlt_")}


@dlt.source(name=DATASET, max_table_nesting=0)
def raw_zone(raw_zone_url: str, load_id: str) -> list[DltResource]:
    """The tables of one completed raw-zone load, as merge resources for the warehouse."""

    def rows(table: str) -> Iterator[dict[str, Any]]:
        yield from _raw_rows(raw_zone_url, table, load_id)
        dlt.current.source_state()["last_raw_load_id"] = load_id

    return [
        dlt.resource(
            rows(name), name=name, primary_key=spec["primary_key"], write_disposition="merge", columns=spec["columns"]
        )
        for name, spec in settings.TABLES.items()
    ]


def load_warehouse(settings_: Settings, summary: RunSummary) -> None:
    """Load every completed raw-zone load the warehouse has not taken yet, oldest first."""
    pipeline = warehouse_pipeline(settings_)
    pipeline.sync_destination()
    last = pipeline.state.get("sources", {}).get(DATASET, {}).get("last_raw_load_id")
    pending = [i for i in _completed_raw_loads(settings_.raw_zone_url) if last is None or float(i) > float(last)]
    for load_id in pending:
        pipeline.run(raw_zone(settings_.raw_zone_url, load_id), loader_file_format="jsonl")
        for table, count in _data_row_counts(pipeline).items():
            summary.warehouse_rows[table] = summary.warehouse_rows.get(table, 0) + count


def ingest(settings_: Settings, crawler: CatalogCrawler) -> RunSummary:
    """Extract what `crawler` reaches into the raw zone, then bring the warehouse up to date."""
    started = time.monotonic()
    summary = RunSummary(
        raw_zone_url=settings_.raw_zone_url, warehouse=f"{settings_.warehouse} {settings_.duckdb_path}"
    )
    source = dlt.source(name=DATASET, max_table_nesting=0)(spotify_resources)(crawler)
    # The raw zone is history: every load is kept, the warehouse merges.
    for resource in source.resources.values():
        resource.apply_hints(write_disposition="append")
    raw = raw_pipeline(settings_)
    info = raw.run(source, loader_file_format="jsonl")
    summary.raw_load_ids = list(info.loads_ids)
    summary.raw_rows = _data_row_counts(raw)
    load_warehouse(settings_, summary)
    summary.requests = crawler.client.requests
    summary.statuses = crawler.client.statuses
    summary.skipped = crawler.skipped
    summary.seconds = time.monotonic() - started
    return summary


def crawler_from_config(
    playlists: list[str] | None = None,
    artists: list[str] | None = None,
) -> CatalogCrawler:
    """A crawler configured from `sources.spotify.*` (dlt config, secrets, environment).

    Ids given here replace the configured ones.
    """
    section = "sources.spotify"
    tracked = parse_tracked(
        playlists if playlists else dlt.config.get(f"{section}.playlists"),
        artists if artists else dlt.config.get(f"{section}.artists"),
    )
    client_id = dlt.secrets.get(f"{section}.client_id", str)
    client_secret = dlt.secrets.get(f"{section}.client_secret", str)
    if not client_id or not client_secret:
        raise ConfigurationError(
            "sources.spotify.client_id and sources.spotify.client_secret are required "
            "(.dlt/secrets.toml or SOURCES__SPOTIFY__CLIENT_ID / SOURCES__SPOTIFY__CLIENT_SECRET)"
        )
    client = SpotifyClient(
        client_id,
        client_secret,
        api_url=dlt.config.get(f"{section}.api_url", str) or settings.API_URL,
        token_url=dlt.config.get(f"{section}.token_url", str) or settings.TOKEN_URL,
    )
    return CatalogCrawler(client, tracked, market=dlt.config.get(f"{section}.market", str))
