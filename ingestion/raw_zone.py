"""Reading and indexing the raw zone: which loads it holds, where their files are, and their rows.

Every completed raw load gets an index entry, written right after dlt completes it:
`<raw zone>/spotify/_tunelake_loads/load_date=YYYY-MM-DD/<load_id>.json` (the UTC day of the
load id, a unix timestamp), naming its files per table by their path from the raw zone's root:

    {"load_id": "1764680000.123456", "files": {"tracks": ["spotify/tracks/load_date=.../..."]}, "replaces": []}

A reader finds the loads after a cursor by listing the index's day folders from the cursor's day
to today (`pending`), never older ones, and reads each file by its exact path (`read_batches`):
what a run costs follows the new loads, not the history. A compacted day is one entry naming its
compacted files, whose `replaces` lists every load it stands for (its own id the newest of them).

The crash window: a process killed after dlt completes a load (its `_dlt_loads` record and
state file written) and before its entry is written leaves a completed load out of the index,
and out of the warehouse, whose load follows the index. `repair`, called before the next raw
run, finds it: the newest state file of the raw pipeline (dlt keeps a few: `STATE_FILES`) names
the newest completed load that changed the state; when that load has no entry, the `_dlt_loads`
records newer than the newest entry are indexed. A load that changed no state would go unseen,
so `repair` writes into the state the load it checked: every raw run's load changes the state.
What stays unrepaired: a killed load whose entry is missing while a later load's entry exists
(two crashes in a row, the second after indexing), and a raw zone someone edited by hand.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import dlt
import pendulum
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json
import pyarrow.parquet as pq
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import known_sections
from dlt.common.destination import DestinationCapabilitiesContext
from dlt.common.libs.pyarrow import columns_to_arrow
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import fsspec_from_config
from dlt.common.storages.load_package import LoadPackageInfo
from dlt.destinations.path_utils import create_path
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from ingestion.spotify import tables

logger = logging.getLogger(__name__)

# dlt's dataset: the raw zone's top folder.
DATASET = "spotify"
INDEX = "_tunelake_loads"
LOADS = "_dlt_loads"
STATE = "_dlt_pipeline_state"
# The raw pipeline's source state key naming the newest state load `repair` checked.
CHECKED = "raw_zone_checked"
# State files dlt keeps per pipeline (its `max_state_files`): restoring the state lists them all.
STATE_FILES = 3
DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
# Days after today (UTC) `pending` also lists: a writer's clock may run ahead of the reader's.
CLOCK_SKEW = timedelta(days=1)
_POSITION = "__tunelake_position"


@dataclass(frozen=True)
class Entry:
    """One index entry: a completed raw load (or a compacted day) and its files.

    Args:
        load_id: dlt's load id (a unix timestamp as text); a compacted day's is its newest load's.
        files: Per table with rows, the paths of its files from the raw zone's root.
        replaces: The load ids a compacted entry stands for (empty for a load's own entry).
        size: The bytes of its files (0 when not known).
    """

    load_id: str
    files: dict[str, list[str]] = field(default_factory=dict)
    replaces: tuple[str, ...] = ()
    # The bytes of its files, for the warehouse load's batches (0 when not known).
    size: int = 0

    @property
    def day(self) -> date:
        return day_of(self.load_id)

    @property
    def path(self) -> str:
        """Where the entry lies, from the raw zone's root."""
        return entry_path(self.load_id)

    def to_json(self) -> str:
        return json.dumps(
            {"load_id": self.load_id, "files": self.files, "replaces": list(self.replaces), "size": self.size}
        )

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "") -> Entry:
        """The entry in `text`; a ValueError naming `where` when it is not one."""
        try:
            data = json.loads(text)
            return cls(
                load_id=str(data["load_id"]),
                files={str(t): [str(p) for p in paths] for t, paths in data.get("files", {}).items()},
                replaces=tuple(str(i) for i in data.get("replaces", [])),
                size=int(data.get("size", 0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"raw zone index entry {where or '(text)'} is not readable: {error}") from None


def day_of(load_id: str) -> date:
    """The UTC day of a dlt load id: the day partition dlt writes the load's files in."""
    return datetime.fromtimestamp(float(load_id), UTC).date()


def entry_path(load_id: str) -> str:
    return f"{_index_day(day_of(load_id))}/{load_id}.json"


def _index_day(day: date) -> str:
    return f"{DATASET}/{INDEX}/load_date={day.isoformat()}"


# the raw zone's filesystem -------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    """The raw zone's fsspec filesystem and its root (no protocol, no trailing separator).

    Paths in and out are relative to the root. Never from fsspec's listing cache: other writers
    (dlt's own filesystem client, another run) change the raw zone behind it.
    """

    url: str
    # fsspec's AbstractFileSystem (fsspec has no type hints).
    fs: Any
    root: str

    def full(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def relative(self, full: str) -> str:
        full = self.fs._strip_protocol(full).rstrip("/")
        return full[len(self.root) + 1 :] if full.startswith(self.root + "/") else full

    @property
    def local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def ls(self, relative: str) -> list[str]:
        """What lies directly in a folder; none for a missing folder."""
        return list(self.sizes(relative))

    def sizes(self, relative: str) -> dict[str, int]:
        """What lies directly in a folder, with its size; none for a missing folder."""
        try:
            found = self.fs.ls(self.full(relative), detail=True, refresh=True)
        except FileNotFoundError:
            return {}
        return {self.relative(f["name"]): int(f.get("size") or 0) for f in found}

    def find(self, relative: str) -> list[str]:
        """The files anywhere under a folder; none for a missing folder."""
        try:
            found = self.fs.find(self.full(relative))
        except FileNotFoundError:
            return []
        return [self.relative(path) for path in found]

    def size(self, relatives: list[str]) -> int:
        """The bytes of these files, from one listing of each folder (on S3, not a request per file)."""
        sizes: dict[str, int] = {}
        for folder in {relative.rpartition("/")[0] for relative in relatives}:
            sizes.update(self.sizes(folder))
        return sum(sizes.get(relative, 0) for relative in relatives)

    def read(self, relative: str) -> bytes:
        data: bytes = self.fs.cat_file(self.full(relative))
        return data

    def read_many(self, relatives: list[str]) -> dict[str, bytes]:
        """Several files at once (S3: concurrent requests)."""
        if not relatives:
            return {}
        found: dict[str, bytes] = self.fs.cat([self.full(r) for r in relatives])
        return {self.relative(path): data for path, data in found.items()}

    def write(self, relative: str, data: str | bytes) -> None:
        """Write a whole file: a reader never sees part of it (an S3 object is; a local file is renamed)."""
        full = self.full(relative)
        content = data.encode() if isinstance(data, str) else data
        if not self.local:
            self.fs.pipe_file(full, content)
            return
        folder, _, name = full.rpartition("/")
        self.fs.makedirs(folder, exist_ok=True)
        # A process killed while writing leaves a hidden `.partial` file, which no reader takes.
        partial = f"{folder}/.{name}.partial"
        self.fs.pipe_file(partial, content)
        os.replace(partial, full)

    def remove(self, relatives: Iterable[str]) -> None:
        """Delete files; one already gone is fine."""
        paths = [self.full(r) for r in relatives]
        if not paths:
            return
        if not self.local:
            self.fs.rm(paths)  # S3 deletes in batches of 1,000, missing keys included
            return
        for path in paths:
            with suppress(FileNotFoundError):
                self.fs.rm_file(path)

    def exists(self, relative: str) -> bool:
        return bool(self.fs.exists(self.full(relative)))


def open_zone(raw_zone_url: str, section: str = known_sections.DESTINATION) -> Zone:
    """The raw zone with the credentials of dlt's filesystem destination (or source, to read).

    Resolved at each call, not cached: settings change between runs of one process (a Lambda
    container, tests); fsspec reuses its clients for the same settings.
    """
    config = resolve_configuration(FilesystemConfiguration(bucket_url=raw_zone_url), sections=(section, "filesystem"))
    fs, url = fsspec_from_config(config)
    return Zone(raw_zone_url, fs, fs._strip_protocol(url).rstrip("/"))


def _reading(raw_zone_url: str) -> Zone:
    # dlt's filesystem source settings, as the warehouse load read the raw zone before the index.
    return open_zone(raw_zone_url, known_sections.SOURCES)


# the index ----------------------------------------------------------------------------------


def write_entry(raw_zone_url: str, entry: Entry) -> None:
    """Write (or overwrite) an entry at its place in the index."""
    open_zone(raw_zone_url).write(entry.path, entry.to_json())


def _day_entries(zone: Zone, day: date, after: str | None = None) -> list[Entry]:
    """The day's entries, oldest first; with `after`, only those named by a later load id (read no others)."""
    paths = [path for path in zone.ls(_index_day(day)) if path.endswith(".json")]
    if after is not None:
        # An entry is named by its load id (a compacted day's by its newest): older ones hold nothing new.
        paths = [path for path in paths if float(path.rsplit("/", 1)[-1].removesuffix(".json")) > float(after)]
    entries = [Entry.from_json(zone.read(path), path) for path in paths]
    return sorted(entries, key=lambda e: float(e.load_id))


def _index_days(zone: Zone) -> list[date]:
    days = []
    for path in zone.ls(f"{DATASET}/{INDEX}"):
        name = path.rsplit("/", 1)[-1]
        if name.startswith("load_date="):
            days.append(date.fromisoformat(name.removeprefix("load_date=")))
    return sorted(days)


def pending(raw_zone_url: str, after: str | None) -> list[Entry]:
    """The entries of loads after `after`, oldest first; every entry when `after` is None.

    Lists the index's day folders from the day of `after` to tomorrow (UTC), never older ones. An
    entry another entry replaces (a compaction that stopped before deleting them) is dropped, so
    each row is read once. A raw zone written before the index existed is indexed first
    (`backfill`).
    """
    zone = _reading(raw_zone_url)
    if not zone.exists(f"{DATASET}/{INDEX}") and zone.exists(f"{DATASET}/{LOADS}"):
        backfill(raw_zone_url)
    if after is None:
        days = _index_days(zone)
    else:
        first, last = day_of(after), datetime.now(UTC).date() + CLOCK_SKEW
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    entries = [e for day in days for e in _day_entries(zone, day, after)]
    return [e for e in live(entries) if after is None or float(e.load_id) > float(after)]


def live(entries: Iterable[Entry]) -> list[Entry]:
    """The entries a reader takes, oldest first: none that another entry replaces.

    A compacted entry carries its newest load's id, which it also replaces; an entry another one
    replaces (a load's, or an earlier compaction's of a day compacted again) is dropped.
    """
    entries = list(entries)
    replaced = {load_id for e in entries for load_id in e.replaces if load_id != e.load_id}
    return sorted((e for e in entries if e.load_id not in replaced), key=lambda e: float(e.load_id))


def _loads_entries(zone: Zone, load_ids: list[str]) -> dict[str, Entry]:
    """The entries of loads of one UTC day, their files found by one listing per table of that day."""
    day = day_of(load_ids[0]).isoformat()
    files: dict[str, dict[str, list[str]]] = {load_id: {} for load_id in load_ids}
    sizes = dict.fromkeys(load_ids, 0)
    for table in tables.TABLES:
        for path, size in sorted(zone.sizes(f"{DATASET}/{table}/load_date={day}").items()):
            name = path.rsplit("/", 1)[-1]
            owner = next((i for i in load_ids if name.startswith(f"{i}.")), None)
            if owner is not None and path.endswith(DATA_SUFFIXES):
                files[owner].setdefault(table, []).append(path)
                sizes[owner] += size
    return {load_id: Entry(load_id, files[load_id], size=sizes[load_id]) for load_id in load_ids}


def index_load(raw_zone_url: str, load_id: str) -> Entry:
    """Index one completed load: list its day partitions (only those) and write its entry."""
    zone = open_zone(raw_zone_url)
    entry = _loads_entries(zone, [load_id])[load_id]
    zone.write(entry.path, entry.to_json())
    return entry


def _completed_loads(zone: Zone) -> list[str]:
    """Every load id `_dlt_loads` records as completed, oldest first: reads the whole history."""
    load_ids = set()
    for path in zone.ls(f"{DATASET}/{LOADS}"):
        if not path.endswith(".jsonl"):
            continue
        for line in zone.read(path).splitlines():
            record = json.loads(line)
            if record.get("status") == 0 and record.get("schema_name") == DATASET:
                load_ids.add(record["load_id"])
    return sorted(load_ids, key=float)


def backfill(raw_zone_url: str) -> list[Entry]:
    """Index every completed load of a raw zone written before the index existed, oldest first.

    Reads every `_dlt_loads` record and lists each table's day partitions once (a year of hourly
    loads: 365 listings per table, not 8,760): once per raw zone. A backfill cut short leaves its
    newest loads unindexed; `repair` finishes it.
    """
    zone = open_zone(raw_zone_url)
    load_ids = _completed_loads(zone)
    logger.info("indexing the %d loads of a raw zone written before its index", len(load_ids))
    by_day: dict[date, list[str]] = {}
    for load_id in load_ids:
        by_day.setdefault(day_of(load_id), []).append(load_id)
    entries = []
    for day_load_ids in by_day.values():
        for entry in _loads_entries(zone, day_load_ids).values():
            zone.write(entry.path, entry.to_json())
            entries.append(entry)
    return entries


def _newest_state_load(zone: Zone, pipeline_name: str) -> str | None:
    """The load id of the pipeline's newest state file (dlt keeps a few: a bounded listing)."""
    load_ids = []
    for path in zone.ls(f"{DATASET}/{STATE}"):
        parts = path.rsplit("/", 1)[-1].split("__")
        if len(parts) == 3 and parts[0] == pipeline_name:
            load_ids.append(parts[1])
    return max(load_ids, key=float, default=None)


def repair(raw_zone_url: str, pipeline_name: str) -> str | None:
    """Index the completed loads a killed process left without an entry; the newest state load checked.

    Call it before the raw pipeline loads anything (its pending packages included), then, once
    its state is restored, `note_checked` with what it returns. Cheap when nothing is missing:
    one listing of the state folder (a few files) and one existence check. When the newest
    state's load has no entry, `_dlt_loads` is read (its whole history, as only a crash makes it
    necessary) and every completed load newer than the newest entry is indexed. A raw zone
    without an index is backfilled.
    """
    zone = open_zone(raw_zone_url)
    newest = _newest_state_load(zone, pipeline_name)
    if not zone.exists(f"{DATASET}/{INDEX}"):
        if zone.exists(f"{DATASET}/{LOADS}"):
            backfill(raw_zone_url)
    elif newest is not None and not zone.exists(entry_path(newest)) and not _covered(zone, newest):
        missing = []
        for load_id in reversed(_completed_loads(zone)):
            if zone.exists(entry_path(load_id)) or _covered(zone, load_id):
                break
            missing.append(load_id)
        logger.warning("indexing %d raw load(s) an interrupted run completed but did not index", len(missing))
        for load_id in reversed(missing):
            index_load(raw_zone_url, load_id)
    return newest


def note_checked(raw: dlt.Pipeline, newest: str | None) -> None:
    """Write into the raw pipeline's state the newest state load `repair` checked.

    Call it after `sync_destination` (a change before would keep dlt from restoring the state).
    Each run notes another load, so each run's load changes the state and dlt stores a state
    file for it: every completed load is one `repair` can see.
    """
    with raw.managed_state() as state:
        state.setdefault("sources", {}).setdefault(DATASET, {})[CHECKED] = newest


def _covered(zone: Zone, load_id: str) -> bool:
    """Whether a compacted entry of the load's day replaces the load."""
    return any(load_id in e.replaces for e in _day_entries(zone, day_of(load_id)) if e.replaces)


def record(raw_zone_url: str, load_ids: Iterable[str], known: Iterable[Entry] = ()) -> list[Entry]:
    """Index the loads a raw run just completed (after backfilling a raw zone without an index).

    Args:
        raw_zone_url: The raw zone.
        load_ids: The loads completed.
        known: Entries already known from the run's own packages (`packages_entries`): written as
            they are; the other loads' files are found by listing their day partitions.
    """
    zone = open_zone(raw_zone_url)
    entries = []
    if not zone.exists(f"{DATASET}/{INDEX}") and zone.exists(f"{DATASET}/{LOADS}"):
        entries = backfill(raw_zone_url)
    done = {e.load_id for e in entries}
    by_id = {e.load_id: e for e in known}
    for load_id in load_ids:
        if load_id in done:
            continue
        if load_id in by_id:
            zone.write(by_id[load_id].path, by_id[load_id].to_json())
            entries.append(by_id[load_id])
        else:
            entries.append(index_load(raw_zone_url, load_id))
    return entries


def packages_entries(packages: Iterable[LoadPackageInfo], layout: str) -> list[Entry]:
    """The entries of a raw run's completed packages, without listing the raw zone.

    Each file's path is the one dlt's filesystem destination gives it (its `create_path`, with
    the package's timestamp, which dlt takes from the load id), its size the package's.
    """
    entries = []
    for package in packages:
        files: dict[str, list[str]] = {}
        size = 0
        stamp = pendulum.from_timestamp(float(package.load_id))
        for job in package.jobs.get("completed_jobs", []):
            table = job.job_file_info.table_name
            if table not in tables.TABLES:
                continue
            name = os.path.basename(job.file_path)
            path = create_path(layout, name, DATASET, package.load_id, load_package_timestamp=stamp)
            files.setdefault(table, []).append(f"{DATASET}/{path}")
            size += job.file_size
        entries.append(Entry(package.load_id, {t: sorted(p) for t, p in files.items()}, size=size))
    return entries


# rows ---------------------------------------------------------------------------------------


def arrow_schema(table: str, columns: dict[str, Any] | None = None) -> pa.Schema:
    """The table's declared columns as arrow types (or `columns`, dlt hints, as the caller types them)."""
    caps = DestinationCapabilitiesContext.generic_capabilities()
    hints = columns or tables.TABLES[table]["columns"]
    named = cast(TTableSchemaColumns, {name: {**column, "name": name} for name, column in hints.items()})
    return columns_to_arrow(named, caps, "UTC")


def read_batches(
    raw_zone_url: str, table: str, paths: Iterable[str], schema: pa.Schema | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of a table's files, by exact path from the raw zone's root, as `schema` types them.

    JSON lines (gzipped or not) are read by pyarrow's JSON reader, parquet by pyarrow's: columnar
    all the way (rows as dicts through dlt's normalizer took 10 s of the 25 s an import of 150,000
    streams took). Only the declared columns are read (not dlt's `_dlt_id` and `_dlt_load_id`);
    a declared column a file lacks is null.

    Args:
        raw_zone_url: The raw zone.
        table: A declared table (`tables.TABLES`).
        paths: Its files, e.g. an `Entry`'s `files[table]`.
        schema: The arrow schema of the batches (default: the declared columns, `arrow_schema`).
    """
    zone = _reading(raw_zone_url)
    target = schema or arrow_schema(table)
    declared = arrow_schema(table)
    # The JSON reader parses zoned timestamps but no dates: those are read as text, then cast.
    as_read = pa.schema([f.with_type(pa.string()) if pa.types.is_date(f.type) else f for f in declared])
    options = pyarrow.json.ParseOptions(explicit_schema=as_read, unexpected_field_behavior="ignore")
    for path in paths:
        if path.endswith(".parquet"):
            with zone.fs.open(zone.full(path), "rb") as stream:
                for batch in pq.ParquetFile(stream).iter_batches():
                    yield _conformed(batch, target)
            continue
        compression = "gzip" if path.endswith(".gz") else None
        stream = pa.input_stream(pa.py_buffer(zone.read(path)), compression=compression)
        # Batches of the reader's 1 MiB blocks: a whole file at once took 150 MB more at the peak.
        for batch in pyarrow.json.open_json(stream, parse_options=options):
            yield batch.cast(target)


def _conformed(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch's columns in `schema`'s order and types, nulls for those it lacks."""
    columns = [
        batch.column(f.name).cast(f.type) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def latest_per_key(
    table: str, batches_in_load_order: Iterable[pa.RecordBatch | pa.Table], schema: pa.Schema | None = None
) -> pa.Table:
    """Per primary key of `table`, the row of the latest load (its last occurrence), in input order.

    A merge picks an arbitrary row among duplicate keys; loads read together are deduplicated
    first, so the warehouse holds what loading them one by one would have left.

    Args:
        table: A declared table (`tables.TABLES`), whose primary key is used.
        batches_in_load_order: Its rows, oldest load first, all of one schema.
        schema: The schema of the (empty) result when there are no batches.
    """
    parts = [b if isinstance(b, pa.Table) else pa.Table.from_batches([b]) for b in batches_in_load_order]
    if not parts:
        return (schema or arrow_schema(table)).empty_table()
    data = pa.concat_tables(parts)
    keys = list(tables.TABLES[table]["primary_key"])
    positions = pa.array(range(data.num_rows), pa.int64())
    last = (
        data.select(keys)
        .append_column(_POSITION, positions)
        .group_by(keys, use_threads=False)
        .aggregate([(_POSITION, "max")])
        .column(f"{_POSITION}_max")
    )
    return data.take(pc.take(last, pc.sort_indices(last)))
