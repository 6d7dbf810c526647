"""Raw zone compaction: every closed UTC day's loads folded into one parquet file per table.

An hourly schedule leaves 24 small files per table and day (17 tables x 8,760 a year): slow to
list and to read, costly in S3 requests. `compact` rewrites each closed day (before today, UTC)
whose index (`ingestion.raw_zone`) holds more than one entry, or an entry not compacted yet:

1. per table, the day's files are read in load order and the latest load's row of each primary
   key is kept (`raw_zone.latest_per_key`, the warehouse load's own rule), then written as ONE
   parquet file, `spotify/<table>/load_date=D/<newest load id>.<digest>.compacted.parquet`, typed
   as the warehouse load reads the raw zone (the digest names the set of loads it holds, so a
   retry writes the same names and two compactions of one day never collide);
2. the day's compacted index entry is written at the newest load's entry path, listing every
   load id it `replaces`: from then on a reader takes it and drops the replaced entries, so a
   compaction stopped here reads each row once;
3. what it replaced is deleted (`remove_replaced`): the replaced loads' files, then their index
   entries, so a compaction stopped in between leaves entries naming what is left to delete,
   which the next compaction finishes; then dlt's `_dlt_loads` records of the replaced loads.

A second compaction changes nothing: a day with one compacted entry is left alone. It holds the
raw zone's run lock (`ingestion.run_lock`), so it never runs beside an ingest or an import.

`_dlt_loads` records are pruned because nothing needs them once the index exists: dlt only
writes them (its state is restored from `_dlt_pipeline_state`), and `raw_zone`'s backfill reads
them only in a raw zone without an index, which a compacted raw zone never is.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow.parquet as pq

from ingestion import raw_zone, run_lock
from ingestion.spotify import tables

logger = logging.getLogger(__name__)

INDEX_FOLDER = f"{raw_zone.DATASET}/{raw_zone.INDEX}"
DLT_LOADS_FOLDER = f"{raw_zone.DATASET}/{raw_zone.LOADS}"
COMPACTED_SUFFIX = ".compacted.parquet"
# zstd: as small as gzip at several times its speed, and read by DuckDB, Athena and Snowflake.
PARQUET_COMPRESSION = "zstd"
# Days compacted at once.
WORKERS = 4


def is_compacted(entry: raw_zone.Entry) -> bool:
    """Whether `entry` is a compacted day (it replaces loads and names compacted files only)."""
    paths = [path for table, paths in entry.files.items() if table in tables.TABLES for path in paths]
    return bool(entry.replaces) and all(path.endswith(COMPACTED_SUFFIX) for path in paths)


@dataclass
class Day:
    """One UTC day of the index: its entries by path, and what compaction does with it."""

    day: date
    entries: dict[str, raw_zone.Entry]

    @property
    def live(self) -> list[raw_zone.Entry]:
        """The entries a reader takes (none replaced by another entry), in load order."""
        return raw_zone.live(self.entries.values())

    @property
    def done(self) -> bool:
        """One entry, compacted: nothing left to do (a second compaction changes nothing)."""
        return len(self.entries) == 1 and all(is_compacted(entry) for entry in self.entries.values())

    @property
    def loads(self) -> set[str]:
        """Every load id the day holds, in its entries or replaced by them."""
        return {load_id for entry in self.entries.values() for load_id in (entry.load_id, *entry.replaces)}


def index(zone: raw_zone.Zone) -> list[Day]:
    """Every day of the raw zone's index, oldest first (indexing a raw zone written before the index first)."""
    paths = [path for path in zone.find(INDEX_FOLDER) if path.endswith(".json")]
    if not paths and zone.find(DLT_LOADS_FOLDER):
        raw_zone.backfill(zone.url)  # once, for a raw zone written before the index
        paths = [path for path in zone.find(INDEX_FOLDER) if path.endswith(".json")]
    days: dict[date, dict[str, raw_zone.Entry]] = {}
    for path, data in zone.read_many(paths).items():
        entry = raw_zone.Entry.from_json(data, path)
        days.setdefault(entry.day, {})[path] = entry
    return [Day(day, entries) for day, entries in sorted(days.items())]


def plan(zone: raw_zone.Zone, today: date | None = None) -> tuple[list[Day], list[Day]]:
    """The closed days to compact and the days left alone (compacted already, or today and later)."""
    today = today or datetime.now(UTC).date()
    todo: list[Day] = []
    left: list[Day] = []
    for day in index(zone):
        (todo if day.day < today and not day.done else left).append(day)
    return todo, left


@dataclass
class DayResult:
    """What compacting one day did."""

    day: date
    loads: int
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int


def _digest(load_ids: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(load_ids, key=float)).encode()).hexdigest()[:10]


def write_compacted(zone: raw_zone.Zone, day: Day) -> tuple[raw_zone.Entry, DayResult]:
    """Steps 1 and 2: the day's compacted files, then its compacted index entry (which readers take from then on).

    Nothing is deleted: until `remove_replaced` runs, readers drop the replaced entries, and the
    replaced files stay on disk unread.
    """
    live = day.live
    newest = max(day.loads, key=float)
    replaces = sorted(day.loads, key=float)
    digest = _digest(replaces)
    files: dict[str, list[str]] = {}
    files_before = bytes_before = bytes_after = 0
    names = sorted({table for entry in live for table in entry.files})
    for table in names:
        sources = [path for entry in live for path in entry.files.get(table, [])]
        if table not in tables.TABLES:
            # No declared key to merge on: its files are kept as they are.
            files[table] = sources
            continue
        files_before += len(sources)
        bytes_before += zone.size(sources)
        rows = raw_zone.latest_per_key(table, raw_zone.read_batches(zone.url, table, sources))
        if rows.num_rows == 0:
            continue
        sink = io.BytesIO()
        pq.write_table(rows, sink, compression=PARQUET_COMPRESSION)
        target = f"{raw_zone.DATASET}/{table}/load_date={day.day.isoformat()}/{newest}.{digest}{COMPACTED_SUFFIX}"
        zone.write(target, sink.getvalue())
        files[table] = [target]
        bytes_after += sink.tell()
    entry = raw_zone.Entry(load_id=newest, files=files, replaces=tuple(replaces), size=bytes_after)
    zone.write(entry.path, entry.to_json())
    files_after = sum(len(paths) for table, paths in files.items() if table in tables.TABLES)
    return entry, DayResult(day.day, len(replaces), files_before, files_after, bytes_before, bytes_after)


def remove_replaced(zone: raw_zone.Zone, day: Day, compacted: raw_zone.Entry) -> None:
    """Step 3: what the compacted entry replaced, in an order that leaves no reader a missing file.

    `day` is the day as listed before `write_compacted`. First the replaced loads' own files
    (their entries, which every reader drops, name them; so do their names, which a compaction
    stopped after its entry overwrote the newest load's leaves unnamed), then the replaced
    entries, then the files of an earlier compaction of the day (a reader takes its entry as long
    as it exists), then the replaced loads' `_dlt_loads` records.
    """
    kept = {path for paths in compacted.files.values() for path in paths}

    def files(entries: Iterable[raw_zone.Entry]) -> set[str]:
        return {path for e in entries for t, paths in e.files.items() if t in tables.TABLES for path in paths} - kept

    earlier = files(entry for path, entry in day.entries.items() if entry.replaces and path != compacted.path)
    loads = set(compacted.replaces)
    named = {
        path
        for table in tables.TABLES
        for path in zone.find(f"{raw_zone.DATASET}/{table}/load_date={day.day.isoformat()}")
        if ".".join(path.rpartition("/")[2].split(".")[:2]) in loads
    }
    zone.remove(sorted((files(e for e in day.entries.values() if not e.replaces) | named) - kept - earlier))
    zone.remove(sorted(path for path in day.entries if path != compacted.path))
    zone.remove(sorted(earlier))
    zone.remove(f"{DLT_LOADS_FOLDER}/{raw_zone.DATASET}__{load_id}.jsonl" for load_id in sorted(loads))


@dataclass
class CompactionSummary:
    """What a compaction did (or, dry, would do), for people (`format`) and for machines (the fields)."""

    raw_zone_url: str
    days: list[DayResult] = field(default_factory=list)
    # Closed days already compacted, and days not closed yet (today), left as they are.
    already_compacted: int = 0
    open_days: int = 0
    # Closed days not started before the deadline: the next compaction's.
    postponed: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def files_before(self) -> int:
        return sum(day.files_before for day in self.days)

    @property
    def files_after(self) -> int:
        return sum(day.files_after for day in self.days)

    @property
    def bytes_before(self) -> int:
        return sum(day.bytes_before for day in self.days)

    @property
    def bytes_after(self) -> int:
        return sum(day.bytes_after for day in self.days)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": len(self.days),
            "loads": sum(day.loads for day in self.days),
            "files_before": self.files_before,
            "files_after": self.files_after,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "already_compacted": self.already_compacted,
            "open_days": self.open_days,
            "postponed": self.postponed,
            "seconds": round(self.seconds, 1),
        }

    def format(self) -> str:
        """The end-of-run summary a person reads."""
        left = (
            f"{self.already_compacted} closed day(s) were compacted already; "
            f"{self.open_days} open day(s) left as they are."
        )
        if self.postponed:
            left += f" {self.postponed} closed day(s) left for the next compaction (out of time)."
        if self.dry_run:
            lines = [f"Dry run: nothing is written. {len(self.days)} closed day(s) of {self.raw_zone_url} to compact:"]
            lines += [f"  {day.day}  {day.loads:>4} loads" for day in self.days]
            return "\n".join([*lines, left])
        if not self.days:
            return f"Nothing to compact in {self.raw_zone_url}. {left}"
        return "\n".join(
            [
                f"Compacted {len(self.days)} day(s) ({sum(day.loads for day in self.days)} loads) of "
                f"{self.raw_zone_url} in {self.seconds:.1f} s.",
                f"  files  {self.files_before:>12,} -> {self.files_after:,}",
                f"  bytes  {self.bytes_before:>12,} -> {self.bytes_after:,}",
                left,
            ]
        )


def compact(
    raw_zone_url: str,
    today: date | None = None,
    dry_run: bool = False,
    on_day: Callable[[DayResult], None] | None = None,
    deadline: float | None = None,
) -> CompactionSummary:
    """Compact every closed day of the raw zone (days before `today`, UTC by default), oldest first.

    Args:
        raw_zone_url: The raw zone (a folder or `s3://bucket/prefix`).
        today: The first day left alone; default today in UTC.
        dry_run: List the days to compact; write and delete nothing (and take no lock).
        on_day: Called after each day is compacted (progress).
        deadline: A `time.monotonic()` after which no further day is started (a Lambda's budget):
            the days left are the next compaction's.

    Raises:
        RunInProgressError: another run holds the raw zone's lock (nothing was done).
        ConfigurationError: the raw zone cannot be locked (not writable, no credentials).
    """
    started = time.monotonic()
    zone = raw_zone.open_zone(raw_zone_url)
    summary = CompactionSummary(raw_zone_url=raw_zone_url, dry_run=dry_run)
    if dry_run:
        todo, left = plan(zone, today)
        for day in todo:
            sources = [p for e in day.live for t, paths in e.files.items() if t in tables.TABLES for p in paths]
            summary.days.append(DayResult(day.day, len(day.loads), len(sources), 0, 0, 0))
    else:
        with run_lock.hold(raw_zone_url, "compact"):
            todo, left = plan(zone, today)

            def one(day: Day) -> DayResult | None:
                if deadline is not None and time.monotonic() > deadline:
                    return None
                compacted, result = write_compacted(zone, day)
                remove_replaced(zone, day, compacted)
                logger.info(
                    "compacted %s: %d loads, %d -> %d files",
                    day.day,
                    result.loads,
                    result.files_before,
                    result.files_after,
                )
                return result

            # Days are independent: a few at once (S3 answers each request in tens of ms).
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                for result in pool.map(one, todo):
                    if result is None:
                        summary.postponed += 1
                        continue
                    summary.days.append(result)
                    if on_day:
                        on_day(result)
    closed = today or datetime.now(UTC).date()
    summary.already_compacted = sum(1 for day in left if day.day < closed)
    summary.open_days = sum(1 for day in left if day.day >= closed)
    summary.seconds = time.monotonic() - started
    return summary
