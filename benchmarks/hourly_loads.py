"""Older hourly loads added to a raw zone as `tunelake ingest` runs leave them, written as files in seconds.

A raw zone that one real run wrote (`RealLoad.read`) is the template: each older load gets, in the
same layout and format as the real load's files,

- a gzipped JSON lines file for every table of `tables.TABLES`, holding `ROWS` rows (the real
  load's first rows of that table; rows made from the declared column types for a table the real
  load had no rows for), with the older load's `_dlt_load_id`;
- its `_dlt_loads` record, as dlt's filesystem destination writes it when the load completes;
- a pipeline state file, for the newest loads only: dlt deletes older ones, keeping
  `max_state_files` (the real load's own counted): `raw_zone.STATE_FILES` where the loader sets
  it, else dlt's default, 100;
- its raw-zone index entry (`raw_zone.Entry`, at `raw_zone.entry_path`), when the real load has
  one: the code that wrote the zone indexes its loads.

Older loads are an hour apart, the newest an hour before the real load, so their load ids and
`load_date` partitions come before it and a warehouse already holding the real load is past them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.spotify import tables

try:
    from ingestion import raw_zone
except ImportError:  # a loader from before the raw zone's index
    raw_zone = None  # type: ignore[assignment]

DATASET = "spotify"
HOUR = 3600.0
ROWS = 3
# State files dlt's filesystem destination keeps per pipeline (`max_state_files`; dlt's default 100).
STATE_FILES: int = getattr(raw_zone, "STATE_FILES", 100)
LOADS, STATE, INDEX = "_dlt_loads", "_dlt_pipeline_state", "_tunelake_loads"
SAMPLE_VALUES: dict[str, Any] = {"text": "history", "bigint": 1, "bool": False}


def load_date(load_id: str) -> str:
    """The UTC date of a load id (a Unix time), as the raw zone's `load_date=` partitions name it."""
    return datetime.fromtimestamp(float(load_id), UTC).date().isoformat()


def older_load_ids(newest: str, count: int) -> list[str]:
    """`count` load ids an hour apart before `newest`, oldest first."""
    return [repr(float(newest) - HOUR * n) for n in range(count, 0, -1)]


@dataclass(frozen=True)
class RealLoad:
    """What the one real load of a local raw zone looks like, file by file."""

    load_id: str
    rows: dict[str, list[dict[str, Any]]]
    loads_record: dict[str, Any]
    # `<pipeline>__<load id>__<schema hash>.jsonl` and its text
    state_name: str
    state_text: str
    indexed: bool

    @classmethod
    def read(cls, raw_zone: Path) -> RealLoad:
        """The zone's only completed load (`raw_zone` holds one real run's files)."""
        dataset = raw_zone / DATASET
        records = [json.loads(p.read_text()) for p in sorted((dataset / LOADS).glob("*.jsonl"))]
        if len(records) != 1:
            raise ValueError(f"{dataset / LOADS}: expected one real load, found {len(records)}")
        record = records[0]
        load_id = record["load_id"]
        rows: dict[str, list[dict[str, Any]]] = {}
        for table in tables.TABLES:
            for file in sorted((dataset / table).glob(f"load_date=*/{load_id}.*.jsonl.gz")):
                with gzip.open(file, "rt") as lines:
                    rows[table] = [json.loads(line) for _, line in zip(range(ROWS), lines, strict=False)]
        state = sorted((dataset / STATE).glob(f"*__{load_id}__*.jsonl"))
        if not state:
            raise ValueError(f"{dataset / STATE}: no state file of load {load_id}")
        return cls(load_id, rows, record, state[0].name, state[0].read_text(), (dataset / INDEX).is_dir())


def _made_rows(table: str) -> list[dict[str, Any]]:
    """`ROWS` rows of `table` from its declared column types (for tables the real load left empty)."""
    made = []
    for n in range(ROWS):
        row: dict[str, Any] = {}
        for name, hint in tables.TABLES[table]["columns"].items():
            kind = hint["data_type"]
            if kind == "timestamp":
                row[name] = f"2026-01-01T00:{n:02d}:00+00:00"
            elif kind == "date":
                row[name] = "2026-01-01"
            else:
                row[name] = f"{SAMPLE_VALUES[kind]}-{n}" if kind == "text" else SAMPLE_VALUES[kind]
        made.append(row)
    return made


def _short_hash(*parts: str, length: int = 10) -> str:
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:length]


def older_files(real: RealLoad, count: int) -> Iterator[tuple[str, bytes]]:
    """The files of `count` older loads: (path relative to the raw zone root, content)."""
    state_pipeline, _, state_rest = real.state_name.split("__", 2)
    state_hash = state_rest.removesuffix(".jsonl")
    load_ids = older_load_ids(real.load_id, count)
    for position, load_id in enumerate(load_ids):
        day = load_date(load_id)
        files: dict[str, list[str]] = {}
        for table in tables.TABLES:
            path = f"{DATASET}/{table}/load_date={day}/{load_id}.{_short_hash(table, load_id)}.jsonl.gz"
            rows = real.rows.get(table) or _made_rows(table)
            lines = [
                json.dumps(
                    {**row, "_dlt_load_id": load_id, "_dlt_id": _short_hash(table, load_id, str(n), length=14)},
                    separators=(",", ":"),
                )
                for n, row in enumerate(rows)
            ]
            files[table] = [path]
            yield path, gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1, mtime=0)
        inserted = datetime.fromtimestamp(float(load_id) + 6, UTC).isoformat()
        record = {**real.loads_record, "load_id": load_id, "inserted_at": inserted}
        yield f"{DATASET}/{LOADS}/{DATASET}__{load_id}.jsonl", json.dumps(record).encode()
        if position >= len(load_ids) - (STATE_FILES - 1):
            state = real.state_text.replace(real.load_id, load_id)
            yield f"{DATASET}/{STATE}/{state_pipeline}__{load_id}__{state_hash}.jsonl", state.encode()
        if real.indexed:
            entry = raw_zone.Entry(load_id, files)
            yield entry.path, entry.to_json().encode()


def write(raw_zone: Path, files: Iterator[tuple[str, bytes]], workers: int = 8) -> list[str]:
    """Write `files` under `raw_zone` (threads: each write waits on the disk, not the interpreter); their paths."""
    made: set[Path] = set()
    written: list[str] = []

    def put(item: tuple[str, bytes]) -> None:
        path, content = item
        with open(raw_zone / path, "wb") as sink:
            sink.write(content)

    def batches() -> Iterator[tuple[str, bytes]]:
        for path, content in files:
            folder = (raw_zone / path).parent
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            written.append(path)
            yield path, content

    with ThreadPoolExecutor(max_workers=min(workers, 4 * (os.cpu_count() or 1))) as pool:
        for _ in pool.map(put, batches()):
            pass
    return written
