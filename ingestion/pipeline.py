"""One ingestion run: extract once into the raw zone, then load the warehouse from those files.

The raw zone (dlt's filesystem destination: a local folder or `s3://bucket/prefix`) keeps
every load as gzipped JSON lines, partitioned by table and load date, with the pipeline state
beside them; every completed load is indexed (`ingestion.raw_zone`). The warehouse is then
loaded from the raw zone's indexed loads, in order, never by calling the API again; its dlt
state remembers the last raw load it took, so a failed warehouse load is caught up by the next
run and the warehouse can be rebuilt from the raw zone alone. Both pipelines restore their
state from their destinations, so a machine with an empty working folder (a Lambda's /tmp)
resumes where the last run left off.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TLoaderMergeStrategy, TTableFormat, TWriteDispositionConfig
from dlt.sources import DltResource

from ingestion import preflight, raw_zone, run_lock
from ingestion.config import Settings
from ingestion.spotify import CatalogCrawler, SpotifySource, Tracked, tables
from ingestion.spotify.crawler import Skipped
from ingestion.spotify.freshness import FreshnessIndex
from ingestion.spotify.helpers import RateLimitedError
from ingestion.spotify.state import ENTITY_KINDS, CrawlState

logger = logging.getLogger(__name__)

DATASET = raw_zone.DATASET
RAW_PIPELINE = "tunelake_raw"
# Creates the warehouse tables where the load's own merge cannot (see _create_empty_tables).
TABLES_PIPELINE = "tunelake_warehouse_tables"
WAREHOUSE_PIPELINE = "tunelake_warehouse"
RAW_LAYOUT = "{table_name}/load_date={YYYY}-{MM}-{DD}/{load_id}.{file_id}.{ext}"
# The raw zone reaches the warehouse as arrow batches (`raw_zone.read_batches`), which dlt loads without its
# `_dlt_load_id` and `_dlt_id` columns unless told (a package an interrupted load left too): the
# warehouse's tables have them, not null.
# The raw files one warehouse run reads at most (gzipped JSON or parquet, about 10x that in
# memory): loads read together are deduplicated as one table (`raw_zone.latest_per_key`).
GROUP_BYTES = 32 * 1024**2
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


def finish_pending(pipeline: dlt.Pipeline) -> list[str]:
    """Load what an interrupted run left extracted or normalized; the load ids it completed.

    dlt's `run` with data would load only those packages and silently skip the new data. A run
    killed while extracting can leave a package that normalizes to nothing: dlt's `run` then
    loads nothing and answers None.
    """
    if not pipeline.has_pending_data:
        return []
    logger.warning("%s: loading the packages an interrupted run left behind", pipeline.pipeline_name)
    info = pipeline.run()
    return list(info.loads_ids) if info is not None else []


def raw_pipeline(settings_: Settings) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=RAW_PIPELINE,
        # dlt restores the state by listing every state file it kept: a few, not one per run.
        destination=dlt.destinations.filesystem(
            bucket_url=settings_.raw_zone_url, layout=RAW_LAYOUT, max_state_files=raw_zone.STATE_FILES
        ),
        dataset_name=DATASET,
        pipelines_dir=settings_.pipelines_dir,
    )


def restore_raw(raw: dlt.Pipeline, raw_zone_url: str) -> None:
    """Before a raw run: bring the raw zone's index up to date, then restore the pipeline's state.

    `raw_zone.repair` indexes a load a killed run completed but did not index (and a raw zone
    written before the index existed); the packages an interrupted run left are loaded and
    indexed.
    """
    checked = raw_zone.repair(raw_zone_url, raw.pipeline_name)
    raw_zone.record(raw_zone_url, finish_pending(raw))
    raw.sync_destination()
    raw_zone.note_checked(raw, checked)


def run_raw(raw: dlt.Pipeline, raw_zone_url: str, source: Any) -> list[str]:
    """Extract `source` into the raw zone and index the loads (their files named by the run itself); their ids."""
    info = raw.run(source, loader_file_format="jsonl")
    raw_zone.record(raw_zone_url, info.loads_ids, raw_zone.packages_entries(info.load_packages, RAW_LAYOUT))
    return list(info.loads_ids)


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


def _raw_rows(
    raw_zone_url: str, table: str, entries: list[raw_zone.Entry], timestamps_with_zone: bool
) -> Iterator[pa.RecordBatch]:
    """The table's rows in `entries`, typed as the warehouse types them, one row per primary key.

    Read together, the loads' rows are deduplicated to the latest load's (`raw_zone.latest_per_key`):
    dlt's merge would pick an arbitrary one among duplicate keys.
    """
    schema = raw_zone.arrow_schema(table, _warehouse_columns(table, timestamps_with_zone))
    paths = [path for entry in entries for path in entry.files.get(table, [])]
    batches = raw_zone.read_batches(raw_zone_url, table, paths, schema)
    yield from raw_zone.latest_per_key(table, batches, schema).to_batches()


@dlt.source(name=DATASET, max_table_nesting=0)
def raw_loads(
    raw_zone_url: str,
    entries: list[raw_zone.Entry],
    table_format: TTableFormat | None = None,
    merge_strategy: TLoaderMergeStrategy | None = None,
    timestamps_with_zone: bool = True,
) -> list[DltResource]:
    """The tables of indexed raw-zone loads (oldest first), as merge resources for the warehouse.

    Args:
        raw_zone_url: The raw zone.
        entries: The index entries of the loads to read, oldest first.
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
        yield from _raw_rows(raw_zone_url, table, entries, timestamps_with_zone)
        dlt.current.source_state()["last_raw_load_id"] = entries[-1].load_id

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


def _groups(entries: list[raw_zone.Entry], budget: int = GROUP_BYTES) -> Iterator[list[raw_zone.Entry]]:
    """Consecutive entries whose files add up to `budget` bytes at most: what one warehouse run loads.

    A run costs seconds whatever it carries, so a rebuild or a catch-up takes many loads (or
    compacted days) at once; the budget bounds what one run holds in memory. An entry larger
    than the budget is a run of its own.
    """
    group: list[raw_zone.Entry] = []
    size = 0
    for entry in entries:
        if group and size + entry.size > budget:
            yield group
            group, size = [], 0
        group.append(entry)
        size += entry.size
    if group:
        yield group


def load_warehouse(settings_: Settings, summary: RunSummary) -> None:
    """Load every indexed raw-zone load the warehouse has not taken yet, oldest first.

    The loads after the warehouse's cursor (`last_raw_load_id` in its state) are found in the
    raw zone's index, listing its day folders from the cursor's day on (`raw_zone.pending`), and
    their files read by exact path. Several pending loads (a catch-up, a rebuild) are loaded
    together, up to `GROUP_BYTES` of files per dlt run, each key's row from the latest load; the
    cursor then moves to the group's newest load.
    """
    pipeline = warehouse_pipeline(settings_)
    with dlt.config.values(ROW_IDS):
        finish_pending(pipeline)
        pipeline.sync_destination()
        last = pipeline.state.get("sources", {}).get(DATASET, {}).get("last_raw_load_id")
        pending = raw_zone.pending(settings_.raw_zone_url, last)
        # Typed, columnar parquet files on every engine: DuckDB reads them natively, where insert
        # statements took 4x the time and twice the memory; Snowflake and Athena COPY them from stage,
        # pyiceberg upserts them into Trino's Iceberg tables.
        engine = settings_.engine
        if engine.merge_strategy == "upsert":
            _create_empty_tables(settings_)
        for group in _groups(pending):
            source = raw_loads(
                settings_.raw_zone_url, group, engine.table_format, engine.merge_strategy, engine.timestamps_with_zone
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
        restore_raw(raw, settings_.raw_zone_url)
        _respect_cooldown(settings_, CrawlState.of_pipeline(raw), crawler.start())
        fetched = FreshnessIndex.of_pipeline(raw)
        crawler.freshness = fetched.load(crawler.today, crawler.refresh_windows)
        summary.raw_load_ids = run_raw(raw, settings_.raw_zone_url, source)
        # Only now are the fetched entities' rows in the raw zone: a failed load leaves them not fresh.
        fetched.save(crawler.freshness, crawler.today, crawler.refresh_windows, max(summary.raw_load_ids, default=None))
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
