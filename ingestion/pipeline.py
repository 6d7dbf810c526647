"""One ingestion run: extract once into the raw zone, then load the warehouse from those files.

The raw zone (dlt's filesystem destination: a local folder or `s3://bucket/prefix`) keeps
every load as gzipped JSON lines, partitioned by table and load date, with the pipeline state
beside them. The warehouse is then loaded from the raw zone's completed loads, in order, never
by calling the API again; its dlt state remembers the last raw load it took, so a failed
warehouse load is caught up by the next run and the warehouse can be rebuilt from the raw
zone alone. Both pipelines restore their state from their destinations, so a machine with an
empty working folder (a Lambda's /tmp) resumes where the last run left off.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.json
from dlt.common.destination import DestinationCapabilitiesContext
from dlt.common.libs.pyarrow import columns_to_arrow
from dlt.common.schema.typing import TLoaderMergeStrategy, TTableFormat, TWriteDispositionConfig
from dlt.sources import DltResource
from dlt.sources.filesystem import filesystem

from ingestion import preflight, run_lock
from ingestion.config import Settings
from ingestion.spotify import CatalogCrawler, SpotifySource, Tracked, tables
from ingestion.spotify.crawler import Skipped
from ingestion.spotify.freshness import FreshnessIndex
from ingestion.spotify.helpers import RateLimitedError
from ingestion.spotify.state import ENTITY_KINDS, CrawlState

logger = logging.getLogger(__name__)

DATASET = "spotify"
RAW_PIPELINE = "tunelake_raw"
# Creates the warehouse tables where the load's own merge cannot (see _create_empty_tables).
TABLES_PIPELINE = "tunelake_warehouse_tables"
WAREHOUSE_PIPELINE = "tunelake_warehouse"
RAW_LAYOUT = "{table_name}/load_date={YYYY}-{MM}-{DD}/{load_id}.{file_id}.{ext}"
# The raw zone reaches the warehouse as arrow batches (`_raw_batches`), which dlt loads without its
# `_dlt_load_id` and `_dlt_id` columns unless told (a package an interrupted load left too): the
# warehouse's tables have them, not null.
ROW_IDS = {f"normalize.parquet_normalizer.{column}": True for column in ("add_dlt_load_id", "add_dlt_id")}


class CoolingDownError(Exception):
    """An earlier run was told to wait; the cooldown has not passed on Spotify's clock yet."""

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(
            f"Spotify's rate limit cooldown lasts until {until.isoformat()} "
            f"({(until - now).total_seconds():.0f} s from now)"
        )
        self.until = until


@dataclass
class RunSummary:
    """What a run did, for people (`format`) and for machines (the fields)."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    raw_rows: dict[str, int] = field(default_factory=dict)
    warehouse_rows: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    # Entries of Spotify's lists that were null (or had no id), skipped, per endpoint.
    nulls: Counter[str] = field(default_factory=Counter)
    raw_load_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    raw_zone_url: str = ""
    warehouse: str = ""
    tier: str | None = None
    tier_reason: str | None = None
    stopped: str | None = None
    # Why the run stopped early: `rate_limited` (a long Retry-After) or `out_of_time` (its budget).
    stop_reason: str | None = None

    def nothing_asked_loaded(self, tracked: Tracked) -> str | None:
        """Why nothing the run was asked to track was loaded, or None when something was.

        A run whose every tracked playlist, artist, album and query was refused succeeded for
        Spotify and failed for its user: the CLI exits non-zero with this reason.
        """
        asked = {(kind, entity_id) for kind, ids in tracked.by_kind().items() for entity_id in ids}
        refused = {(s.kind, s.entity_id): s.reason for s in self.skipped if (s.kind, s.entity_id) in asked}
        if not asked or len(refused) < len(asked):
            return None
        reasons = Counter(refused.values())
        return f"all {len(asked)} tracked ids were skipped: " + "; ".join(
            f"{count} x {reason}" for reason, count in reasons.most_common()
        )

    def format(self) -> str:
        """The end-of-run summary a person reads."""
        outcome = f"stopped early: {self.stopped}" if self.stopped else "finished"
        tier = f"tier {self.tier} ({self.tier_reason})" if self.tier else "tier undecided (nothing needed it)"
        lines = [
            f"Ingestion {outcome}. {self.seconds:.1f} s, {sum(self.requests.values())} requests, "
            f"{self.statuses.get(429, 0)} answered 429, {tier}."
        ]
        for endpoint, count in sorted(self.requests.items()):
            lines.append(f"  {count:>7}  {endpoint}")
        lines.append(f"Rows (raw zone {self.raw_zone_url} -> warehouse {self.warehouse}):")
        for table in sorted(set(self.raw_rows) | set(self.warehouse_rows)):
            lines.append(f"  {self.raw_rows.get(table, 0):>7} -> {self.warehouse_rows.get(table, 0):>7}  {table}")
        if self.nulls:
            lines.append(f"Skipped {sum(self.nulls.values())} null entries in Spotify's lists (the rest loaded):")
            lines.extend(f"  {count:>7}  {endpoint}" for endpoint, count in sorted(self.nulls.items()))
        unavailable = Counter(s.kind for s in self.skipped if s.kind in ENTITY_KINDS)
        if unavailable:
            kinds = ", ".join(f"{count} {kind}s" for kind, count in sorted(unavailable.items()))
            lines.append(f"Spotify would not serve {kinds}: kept as flagged rows (is_unavailable) in the marts.")
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} id(s):")
            lines.extend(f"  {s.kind} {s.entity_id}: {s.reason}" for s in self.skipped)
        return "\n".join(lines)


def data_row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    trace = pipeline.last_trace
    normalized = trace.last_normalize_info if trace else None
    counts = normalized.row_counts if normalized else {}
    return {t: n for t, n in counts.items() if not t.startswith("_dlt")}


def finish_pending(pipeline: dlt.Pipeline) -> None:
    """Load what an interrupted run left extracted or normalized.

    dlt's `run` with data would load only those packages and silently skip the new data.
    """
    if pipeline.has_pending_data:
        logger.warning("%s: loading the packages an interrupted run left behind", pipeline.pipeline_name)
        pipeline.run()


def raw_pipeline(settings_: Settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=RAW_PIPELINE,
        destination=dlt.destinations.filesystem(bucket_url=settings_.raw_zone_url, layout=RAW_LAYOUT),
        dataset_name=DATASET,
        pipelines_dir=settings_.pipelines_dir,
    )


def warehouse_pipeline(settings_: Settings, name: str = WAREHOUSE_PIPELINE) -> dlt.Pipeline:
    staging_url = settings_.warehouse_staging_url
    return dlt.pipeline(
        pipeline_name=name,
        destination=settings_.warehouse_destination(),
        # Snowflake copies from S3 through its stage, Athena reads parquet where it lies.
        staging=dlt.destinations.filesystem(bucket_url=staging_url) if staging_url else None,
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


def _raw_batches(raw_zone_url: str, table: str, load_id: str, timestamps_with_zone: bool) -> Iterator[pa.RecordBatch]:
    """The table's files of one raw-zone load, each read by pyarrow's JSON reader as the warehouse types it.

    Columnar, dlt writes them to parquet as they are: rows as dicts went through dlt's normalizer
    one value at a time, 10 s of the 25 s an import of 150,000 streams took. Only the declared
    columns are read (not dlt's `_dlt_id` and `_dlt_load_id`: the warehouse load adds its own).
    """
    caps = DestinationCapabilitiesContext.generic_capabilities()
    warehouse = columns_to_arrow(_warehouse_columns(table, timestamps_with_zone), caps, "UTC")
    declared = columns_to_arrow(tables.TABLES[table]["columns"], caps, "UTC")
    # The JSON reader parses zoned timestamps but no dates: those are read as text, then cast.
    as_read = pa.schema([f.with_type(pa.string()) if pa.types.is_date(f.type) else f for f in declared])
    options = pyarrow.json.ParseOptions(explicit_schema=as_read, unexpected_field_behavior="ignore")
    for file in filesystem(bucket_url=raw_zone_url, file_glob=f"{DATASET}/{table}/load_date=*/{load_id}.*.jsonl*"):
        compression = "gzip" if file["file_name"].endswith(".gz") else None
        stream = pa.input_stream(pa.py_buffer(file.read_bytes()), compression=compression)
        # Batches of the reader's 1 MiB blocks: a whole file at once took 150 MB more at the peak.
        for batch in pyarrow.json.open_json(stream, parse_options=options):
            yield batch.cast(warehouse)


@dlt.source(name=DATASET, max_table_nesting=0)
def raw_zone(
    raw_zone_url: str,
    load_id: str,
    table_format: TTableFormat | None = None,
    merge_strategy: TLoaderMergeStrategy | None = None,
    timestamps_with_zone: bool = True,
) -> list[DltResource]:
    """The tables of one completed raw-zone load, as merge resources for the warehouse.

    Args:
        raw_zone_url: The raw zone.
        load_id: The raw-zone load to read.
        table_format: `iceberg` where merges need it (Athena, Trino).
        merge_strategy: dlt's merge strategy, where the engine needs another than dlt's default.
        timestamps_with_zone: False to store timestamps without zone, in UTC (Trino's Iceberg).
    """

    def rows(table: str) -> Iterator[Any]:
        # Every declared table exists in the warehouse, empty if need be (no refresh token, no
        # queries), so the models over it never fail for a missing table. Not with dlt's upsert:
        # there `_create_empty_tables` makes them.
        if merge_strategy != "upsert":
            yield dlt.mark.materialize_table_schema()
        yield from _raw_batches(raw_zone_url, table, load_id, timestamps_with_zone)
        dlt.current.source_state()["last_raw_load_id"] = load_id

    resources = []
    for name, spec in tables.TABLES.items():
        columns = _warehouse_columns(name, timestamps_with_zone)
        disposition: TWriteDispositionConfig = (
            {"disposition": "merge", "strategy": merge_strategy} if merge_strategy else "merge"
        )
        resource = dlt.resource(
            rows(name), name=name, primary_key=spec["primary_key"], write_disposition=disposition, columns=columns
        )
        if table_format:
            resource.apply_hints(table_format=table_format)
        resources.append(resource)
    return resources


def _warehouse_columns(table: str, timestamps_with_zone: bool) -> dict[str, Any]:
    columns: dict[str, Any] = tables.TABLES[table]["columns"]
    if timestamps_with_zone:
        return columns
    return {
        column: {**hints, "timezone": False} if hints["data_type"] == "timestamp" else hints
        for column, hints in columns.items()
    }


def _create_empty_tables(settings_: Settings) -> None:
    """Every declared table in the warehouse, for engines whose merge is dlt's upsert (Trino).

    dlt 1.31 cannot create an empty table in an upsert merge: it hashes the primary key of the
    placeholder row and fails (KeyError), so a table no load has rows for (no refresh token, no
    import of the privacy export) would never exist, and dbt's sources need it. A second
    pipeline creates the missing ones by appending no rows; the loads then upsert into them.
    """
    engine = settings_.engine
    pipeline = warehouse_pipeline(settings_, TABLES_PIPELINE)
    pipeline.sync_destination()
    known: set[str] = set(pipeline.default_schema.data_table_names()) if pipeline.default_schema_name else set()
    resources = []
    for name in tables.TABLES:
        if name in known:
            continue
        resource = dlt.resource(
            [dlt.mark.materialize_table_schema()],
            name=name,
            write_disposition="append",
            primary_key=tables.TABLES[name]["primary_key"],
            columns=_warehouse_columns(name, engine.timestamps_with_zone),
        )
        if engine.table_format:
            resource.apply_hints(table_format=engine.table_format)
        resources.append(resource)
    if resources:
        pipeline.run(resources, loader_file_format="parquet")


def load_warehouse(settings_: Settings, summary: RunSummary) -> None:
    """Load every completed raw-zone load the warehouse has not taken yet, oldest first."""
    pipeline = warehouse_pipeline(settings_)
    with dlt.config.values(ROW_IDS):
        finish_pending(pipeline)
        pipeline.sync_destination()
        last = pipeline.state.get("sources", {}).get(DATASET, {}).get("last_raw_load_id")
        pending = [i for i in _completed_raw_loads(settings_.raw_zone_url) if last is None or float(i) > float(last)]
        # Typed, columnar parquet files on every engine: DuckDB reads them natively, where insert
        # statements took 4x the time and twice the memory; Snowflake and Athena COPY them from stage,
        # pyiceberg upserts them into Trino's Iceberg tables.
        engine = settings_.engine
        if engine.merge_strategy == "upsert":
            _create_empty_tables(settings_)
        for load_id in pending:
            source = raw_zone(
                settings_.raw_zone_url, load_id, engine.table_format, engine.merge_strategy, engine.timestamps_with_zone
            )
            pipeline.run(source, loader_file_format="parquet")
            for table, count in data_row_counts(pipeline).items():
                summary.warehouse_rows[table] = summary.warehouse_rows.get(table, 0) + count


def _respect_cooldown(settings_: Settings, state: CrawlState, now: datetime) -> None:
    until = state.cooldown_until
    if until is None:
        return
    remaining = (until - now).total_seconds()
    if remaining <= 0:
        return
    if remaining > settings_.max_cooldown_wait:
        raise CoolingDownError(until, now)
    logger.warning("waiting %.0f s for Spotify's rate limit cooldown", remaining)
    time.sleep(remaining)


def ingest(settings_: Settings, source: SpotifySource) -> RunSummary:
    """Extract what `source` reaches into the raw zone, then bring the warehouse up to date.

    Raises:
        CoolingDownError: when an earlier run's rate-limit cooldown has not passed (nothing
            but a token is requested).
        ConfigurationError: when the raw zone cannot be written or the warehouse is held
            (`ingestion.preflight`), before any request.
        RunInProgressError: when another run holds the raw zone's lock (nothing is requested).
    """
    with run_lock.hold(settings_.raw_zone_url, "ingest"):
        started = time.monotonic()
        crawler = source.crawler
        summary = RunSummary(raw_zone_url=settings_.raw_zone_url, warehouse=settings_.warehouse_label)
        raw = raw_pipeline(settings_)
        preflight.check(raw, settings_)
        finish_pending(raw)
        raw.sync_destination()
        _respect_cooldown(settings_, CrawlState.of_pipeline(raw), crawler.start())
        fetched = FreshnessIndex.of_pipeline(raw)
        crawler.freshness = fetched.load(crawler.today, crawler.refresh_windows)
        info = raw.run(source, loader_file_format="jsonl")
        # Only now are the fetched entities' rows in the raw zone: a failed load leaves them not fresh.
        fetched.save(crawler.freshness, crawler.today, crawler.refresh_windows, max(info.loads_ids, default=None))
        summary.raw_load_ids = list(info.loads_ids)
        summary.raw_rows = data_row_counts(raw)
        load_warehouse(settings_, summary)
        summary.requests = crawler.client.requests
        summary.statuses = crawler.client.statuses
        summary.skipped = crawler.skipped
        summary.nulls = crawler.nulls
        summary.tier = crawler.tier
        summary.tier_reason = crawler.tier_reason
        summary.stopped = str(crawler.stopped) if crawler.stopped else None
        if crawler.stopped:
            summary.stop_reason = "rate_limited" if isinstance(crawler.stopped, RateLimitedError) else "out_of_time"
        summary.seconds = time.monotonic() - started
        return summary


def plan(settings_: Settings, source: SpotifySource) -> list[tuple[str, int]]:
    """What `ingest` would fetch now and its fewest requests, without asking Spotify anything.

    The pipeline state is restored from the raw zone, as a run would.
    """
    raw = raw_pipeline(settings_)
    raw.sync_destination()
    state = CrawlState.of_pipeline(raw).data
    crawler = source.crawler
    planner = CatalogCrawler(crawler.client, crawler.tracked, crawler.options, state=lambda: state)
    return planner.plan()
