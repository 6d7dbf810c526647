"""When each album, track and artist was last fetched: a per-day index in the raw zone, not the pipeline state.

One entry per entity in dlt's pipeline state made the state grow with the catalog (tens of MB at a
million entities), written with every load and restored on every Lambda start. The index keeps
instead, per kind and UTC day (Spotify's clock), the ids fetched that day:

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

import io
import logging
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.spotify import settings
from ingestion.spotify.options import CrawlOptions
from ingestion.spotify.state import ENTITY_KINDS

logger = logging.getLogger(__name__)

FOLDER = "_tunelake_fetched"
_FILE = re.compile(r"/(?P<kind>[a-z]+)/fetched_day=(?P<day>-?\d+)/[^/]+\.parquet$")
_SCHEMA = pa.schema([pa.field("id", pa.string(), nullable=False)])


def refresh_windows(options: CrawlOptions) -> dict[str, int]:
    """Per kind, the longest refresh window a run with `options` may apply (its tier is decided during the run)."""
    if options.refresh_days:
        return {kind: options.refresh_days[kind] for kind in ENTITY_KINDS}
    return {kind: max(days[kind] for days in settings.REFRESH_DAYS.values()) for kind in ENTITY_KINDS}


@dataclass
class Freshness:
    """The day each entity was last fetched, within the refresh windows; what a run adds is `changed`.

    One dict per kind, id -> day: at a million ids about 100 MB in memory (`benchmarks/bench_state.py`
    measures it). Every entry of a day shares one int object.

    Args:
        known: Per kind, id -> UTC day number of its last fetch.
    """

    known: dict[str, dict[str, int]] = field(default_factory=lambda: {kind: {} for kind in ENTITY_KINDS})
    # (kind, day) pairs whose file the next save rewrites.
    changed: set[tuple[str, int]] = field(default_factory=set)
    # The files read at load, per (kind, day): replaced by the save that rewrites the day.
    files: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fetched_on(self, kind: str, entity_id: str) -> int | None:
        return self.known[kind].get(entity_id)

    def mark_fetched(self, kind: str, entity_id: str, day: int) -> None:
        with self._lock:
            self.known[kind][entity_id] = day
            self.changed.add((kind, day))

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
                known = self.known[kind]
                for entity_id, day in ids.items():
                    if not isinstance(day, int) or day < oldest[kind] or known.get(entity_id, day - 1) >= day:
                        continue
                    known[entity_id] = day
                    self.changed.add((kind, day))
                    taken += 1
        return taken

    def ids_of(self, kind: str, day: int) -> list[str]:
        """The ids whose last fetch was on `day`."""
        return [entity_id for entity_id, fetched in self.known[kind].items() if fetched == day]

    def size(self) -> int:
        return sum(len(ids) for ids in self.known.values())


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
        for (kind, day), paths in sorted(self._files().items(), key=lambda item: item[0][1]):
            if today - day >= windows[kind]:
                continue
            freshness.files[(kind, day)] = paths
            known = freshness.known[kind]
            for path in paths:
                ids = pq.read_table(io.BytesIO(self.fs.cat_file(path)), schema=_SCHEMA).column("id")
                # Oldest day first, so a later fetch of the same id overwrites an earlier one.
                known.update(dict.fromkeys(ids.to_pylist(), day))
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
            ids = freshness.ids_of(kind, day)
            # A day whose every id was fetched again later has nothing left to say.
            if ids:
                self._write(path, ids)
            for replaced in freshness.files.get((kind, day), []):
                if replaced != path:
                    self.fs.rm_file(replaced)
            freshness.files[(kind, day)] = [path] if ids else []
        freshness.changed.clear()
        self.prune(today, windows)

    def prune(self, today: int, windows: Mapping[str, int]) -> int:
        """Delete the days older than their kind's window as of `today`; returns how many files went."""
        expired = {key: paths for key, paths in self._files().items() if today - key[1] >= windows[key[0]]}
        for kind, day in expired:
            self.fs.rm(f"{self.folder}/{kind}/fetched_day={day}", recursive=True)
        return sum(len(paths) for paths in expired.values())

    def _write(self, path: str, ids: Iterable[str]) -> None:
        sink = io.BytesIO()
        pq.write_table(pa.table({"id": pa.array(list(ids), pa.string())}, schema=_SCHEMA), sink, compression="zstd")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if "file" in protocols:  # on S3 a folder is only a prefix
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, sink.getvalue())
