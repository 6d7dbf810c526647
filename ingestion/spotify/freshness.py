"""When each album, track and artist was last fetched: a per-day index in the raw zone, not the pipeline state.

One entry per entity in dlt's pipeline state made the state grow with the catalog (tens of MB at a
million entities), written with every load and restored on every Lambda start. The index keeps
instead, per kind and UTC day (Spotify's clock), the ids fetched that day (as 64-bit keys, `entity_key`):

    <raw zone>/spotify/_tunelake_fetched/<kind>/fetched_day=<day number>/<run id>.parquet

- A run reads only the days inside the longest refresh window (`refresh_days`), so what a start
  reads is bounded by the window, not by the catalog's history.
- A run writes after its raw load succeeded, so a failed load never marks fresh an entity whose
  rows never reached the raw zone (the next run asks it again).
- A run rewrites each day it added to as one file (that day's ids, old and new), then deletes
  the files it replaced: a day is one file however many runs it saw, and a reader that finds
  two (a run stopped between the write and the delete) takes their union.
- Days older than every window are deleted by the run that writes (`FreshnessIndex.prune`).

The run lock (`ingestion.run_lock`) keeps a second run from writing the index at the same time.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import logging
import re
import threading
import uuid
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion.spotify import settings
from ingestion.spotify.options import CrawlOptions
from ingestion.spotify.state import ENTITY_KINDS

logger = logging.getLogger(__name__)

FOLDER = "_tunelake_fetched"
_FILE = re.compile(r"/(?P<kind>[a-z]+)/fetched_day=(?P<day>-?\d+)/[^/]+\.parquet$")
_SCHEMA = pa.schema([pa.field("key", pa.int64(), nullable=False)])


def refresh_windows(options: CrawlOptions) -> dict[str, int]:
    """Per kind, the longest refresh window a run with `options` may apply (its tier is decided during the run)."""
    if options.refresh_days:
        return {kind: options.refresh_days[kind] for kind in ENTITY_KINDS}
    return {kind: max(days[kind] for days in settings.REFRESH_DAYS.values()) for kind in ENTITY_KINDS}


def entity_key(entity_id: str) -> int:
    """The 64-bit key an id is kept under: a million ids in 8 MB, not 100 MB of Python strings.

    Two ids of a kind sharing a key (odds about 1 in 37 million at a million ids) would share a fetch
    day: one entity fetched a window late, nothing lost.
    """
    return int.from_bytes(hashlib.blake2b(entity_id.encode(), digest_size=8).digest(), "little", signed=True)


def _latest(keys: pa.Array, days: pa.Array) -> tuple[array[int], array[int]]:
    """Sorted unique keys, each with the latest of its days, as arrays a binary search reads.

    `keys` come oldest day first: a stable sort by key leaves each key's latest day last.
    """
    order = pc.sort_indices(keys)
    keys, days = keys.take(order), days.take(order)
    count = len(keys)
    last = pc.not_equal(keys.slice(1), keys.slice(0, count - 1)) if count > 1 else pa.array([], pa.bool_())
    last = pa.concat_arrays([last, pa.array([True] if count else [], pa.bool_())])
    return _packed("q", keys.filter(last)), _packed("i", days.filter(last))


def _packed(typecode: str, values: pa.Array) -> array[int]:
    """An arrow array's values in a compact Python array (its buffer as it is: no numpy in the Lambda)."""
    width = values.type.bit_width // 8
    packed = array(typecode)
    buffer = values.buffers()[1]
    if buffer is not None:
        packed.frombytes(buffer.to_pybytes()[values.offset * width : (values.offset + len(values)) * width])
    return packed


def _as_arrow(values: array[int], kind: pa.DataType) -> pa.Array:
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


@dataclass
class Freshness:
    """The day each entity was last fetched, within the refresh windows.

    What the index held is two sorted arrays per kind (keys, days: 12 bytes an entity), looked up
    by binary search; what this run adds is a small dict per kind. `benchmarks/bench_state.py`
    measures the memory.
    """

    keys: dict[str, array[int]] = field(default_factory=lambda: {k: array("q") for k in ENTITY_KINDS})
    days: dict[str, array[int]] = field(default_factory=lambda: {k: array("i") for k in ENTITY_KINDS})
    # This run's fetches (and a migrated state's), key -> day.
    added: dict[str, dict[int, int]] = field(default_factory=lambda: {k: {} for k in ENTITY_KINDS})
    # (kind, day) pairs whose file the next save rewrites.
    changed: set[tuple[str, int]] = field(default_factory=set)
    # The files read at load, per (kind, day): replaced by the save that rewrites the day.
    files: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _arrays: dict[str, tuple[pa.Array, pa.Array]] = field(default_factory=dict, repr=False)

    def fetched_on(self, kind: str, entity_id: str) -> int | None:
        key = entity_key(entity_id)
        added = self.added[kind].get(key)
        return added if added is not None else self._loaded(kind, key)

    def _loaded(self, kind: str, key: int) -> int | None:
        keys = self.keys[kind]
        at = bisect.bisect_left(keys, key)
        return self.days[kind][at] if at < len(keys) and keys[at] == key else None

    def mark_fetched(self, kind: str, entity_id: str, day: int) -> None:
        with self._lock:
            self.added[kind][entity_key(entity_id)] = day
            self.changed.add((kind, day))
            self._arrays.pop(kind, None)

    def adopt(self, legacy: Mapping[str, Any], oldest: Mapping[str, int]) -> int:
        """Take the `fetched` entries of a pipeline state written before the index (the migration).

        Args:
            legacy: Per kind, id -> day, as the state kept them.
            oldest: Per kind, the oldest day still inside its window; older entries are dropped.

        Returns:
            How many entries were taken.
        """
        taken = 0
        with self._lock:
            for kind in ENTITY_KINDS:
                ids = legacy.get(kind)
                if not isinstance(ids, Mapping):
                    continue
                for entity_id, day in ids.items():
                    if not isinstance(day, int) or day < oldest[kind]:
                        continue
                    key = entity_key(str(entity_id))
                    known = self.added[kind].get(key, self._loaded(kind, key))
                    if known is None or known < day:
                        self.added[kind][key] = day
                        self.changed.add((kind, day))
                        self._arrays.pop(kind, None)
                        taken += 1
        return taken

    def keys_of(self, kind: str, day: int) -> pa.Array:
        """The sorted keys whose last fetch was on `day`."""
        added, on = self._added_arrays(kind)
        held = _as_arrow(self.keys[kind], pa.int64()).filter(pc.equal(_as_arrow(self.days[kind], pa.int32()), day))
        held = held.filter(pc.invert(pc.is_in(held, value_set=added.filter(pc.not_equal(on, day)))))
        keys = pc.unique(pa.concat_arrays([held, added.filter(pc.equal(on, day))]))
        return keys.take(pc.sort_indices(keys))

    def _added_arrays(self, kind: str) -> tuple[pa.Array, pa.Array]:
        """This run's keys and their days as arrow arrays (made once per save, not once per day)."""
        cached = self._arrays.get(kind)
        if cached is None:
            added = self.added[kind]
            cached = (pa.array(list(added), pa.int64()), pa.array(list(added.values()), pa.int32()))
            self._arrays[kind] = cached
        return cached

    def size(self) -> int:
        """How many entities have a fetch day."""
        total = 0
        for kind in ENTITY_KINDS:
            added = pa.array(list(self.added[kind]), pa.int64())
            total += len(pc.unique(pa.concat_arrays([_as_arrow(self.keys[kind], pa.int64()), added])))
        return total


class FreshnessIndex:
    """The index in one raw zone, through dlt's filesystem client (a local folder or S3).

    Args:
        fs: The fsspec filesystem dlt writes the raw zone with.
        folder: `<raw zone>/<dataset>/_tunelake_fetched`, as `fs` names it.
    """

    def __init__(self, fs: Any, folder: str) -> None:
        self.fs = fs
        self.folder = folder.rstrip("/")

    @classmethod
    def of_pipeline(cls, raw: dlt.Pipeline) -> FreshnessIndex:
        """The index beside the raw pipeline's dataset, with the credentials its destination uses."""
        with raw.destination_client() as client:
            return cls(client.fs_client, f"{client.dataset_path.rstrip('/')}/{FOLDER}")  # type: ignore[attr-defined]

    def _files(self) -> dict[tuple[str, int], list[str]]:
        """Every index file, per (kind, day): one listing, bounded by the windows since old days are pruned."""
        if not self.fs.exists(self.folder):
            return {}
        found: dict[tuple[str, int], list[str]] = {}
        for path in self.fs.find(self.folder):
            match = _FILE.search(str(path))
            if match and match["kind"] in ENTITY_KINDS:
                found.setdefault((match["kind"], int(match["day"])), []).append(str(path))
        return found

    def load(self, today: int, windows: Mapping[str, int]) -> Freshness:
        """The entities fetched inside their kind's window as of `today` (older days are not read)."""
        freshness = Freshness()
        read: dict[str, list[tuple[int, pa.Array]]] = {kind: [] for kind in ENTITY_KINDS}
        for (kind, day), paths in self._files().items():
            if today - day >= windows[kind]:
                continue
            freshness.files[(kind, day)] = paths
            for path in paths:
                table = pq.read_table(io.BytesIO(self.fs.cat_file(path)), schema=_SCHEMA)
                read[kind].append((day, table.column("key").combine_chunks()))
        for kind, days in read.items():
            days.sort(key=lambda pair: pair[0])
            if days:
                keys = pa.concat_arrays([keys for _, keys in days])
                on = pa.concat_arrays([pa.repeat(pa.scalar(day, pa.int32()), len(keys)) for day, keys in days])
                freshness.keys[kind], freshness.days[kind] = _latest(keys, on)
        return freshness

    def save(self, freshness: Freshness, today: int, windows: Mapping[str, int], run_id: str | None = None) -> None:
        """Write the days this run changed, each as one file, then drop replaced files and expired days.

        Call only once the raw load these fetches went into succeeded.
        """
        run_id = run_id or uuid.uuid4().hex
        for kind, day in sorted(freshness.changed):
            if today - day >= windows[kind]:
                continue
            path = f"{self.folder}/{kind}/fetched_day={day}/{run_id}.parquet"
            keys = freshness.keys_of(kind, day)
            # A day whose every id was fetched again later has nothing left to say.
            if len(keys):
                self._write(path, keys)
            for replaced in freshness.files.get((kind, day), []):
                if replaced != path:
                    self.fs.rm_file(replaced)
            freshness.files[(kind, day)] = [path] if len(keys) else []
        freshness.changed.clear()
        self.prune(today, windows)

    def prune(self, today: int, windows: Mapping[str, int]) -> int:
        """Delete the days older than their kind's window as of `today`; returns how many files went."""
        expired = {key: paths for key, paths in self._files().items() if today - key[1] >= windows[key[0]]}
        for kind, day in expired:
            self.fs.rm(f"{self.folder}/{kind}/fetched_day={day}", recursive=True)
        return sum(len(paths) for paths in expired.values())

    def _write(self, path: str, keys: pa.Array) -> None:
        sink = io.BytesIO()
        # Random 64-bit keys do not compress: stored plain, read without decoding.
        pq.write_table(pa.table({"key": keys}, schema=_SCHEMA), sink, compression="none", use_dictionary=False)
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if "file" in protocols:  # on S3 a folder is only a prefix
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, sink.getvalue())
