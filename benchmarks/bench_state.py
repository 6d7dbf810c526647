"""Pipeline state: its size in the raw zone and a fresh start's restore time, by how many entities are known.

A Lambda starts with an empty working folder: it restores the raw pipeline's state from the raw
zone (`sync_destination`) and reads the freshness index for the refresh window. At 10,000,
100,000 and 1,000,000 known entities (generated ids, spread over the seven days of the
development window), both layouts are written and restored through the real code paths:

- tunelake: the crawler's state without entities, committed by a dlt load as `ingest` commits it,
  and the entities in the freshness index (`FreshnessIndex.save`); a start is `sync_destination`
  plus `FreshnessIndex.load`.
- baseline: the layout before the index, every entity's fetch day in the state (`fetched`),
  committed the same way; a start is `sync_destination`.

Goals at 1,000,000 entities: a state under 1 MB, restored in under 1 s.

    python -m benchmarks.bench_state [--quick]
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import string
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

from ingestion.config import Settings
from ingestion.pipeline import raw_pipeline
from ingestion.spotify.freshness import Freshness, FreshnessIndex
from ingestion.spotify.state import ENTITY_KINDS

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
GOAL_STATE_BYTES = 1_000_000
GOAL_RESTORE_S = 1.0
TODAY = 20_790
WINDOW_DAYS = 7
WINDOWS = dict.fromkeys(ENTITY_KINDS, WINDOW_DAYS)
# A catalog's mix: mostly tracks, their albums, fewer artists.
SHARES = {"track": 0.7, "album": 0.2, "artist": 0.1}
# What a tracking configuration keeps in the state whatever the catalog: once-a-day units, listing sizes.
TRACKED = {"playlist": 50, "discography": 20, "search": 10}
BASE62 = string.digits + string.ascii_letters


@dataclass
class Figure:
    entities: int
    layout: str
    state_bytes: int
    index_bytes: int
    sync_s: float
    index_s: float
    memory_mb: float

    @property
    def restore_s(self) -> float:
        return self.sync_s + self.index_s


def generate(entities: int, seed: int = 19) -> dict[str, dict[str, int]]:
    """Per kind, `entities` Spotify-like ids (22 base62 characters) -> a fetch day inside the window."""
    chooser = random.Random(seed)  # noqa: S311 (generated ids, not secrets)
    days = [TODAY - offset for offset in range(WINDOW_DAYS)]
    return {
        kind: {"".join(chooser.choices(BASE62, k=22)): chooser.choice(days) for _ in range(int(entities * share))}
        for kind, share in SHARES.items()
    }


def crawler_state() -> dict[str, Any]:
    """The part of the crawler's state that follows what is tracked, not what the crawl met."""
    keys = [f"{unit}:{n:022d}" for unit, count in TRACKED.items() for n in range(count)]
    return {
        "daily": dict.fromkeys([*keys, "user:top"], TODAY),
        "sizes": dict.fromkeys(keys, 100),
        "tier": "development",
        "tier_day": TODAY,
    }


def commit_state(settings: Settings, state: dict[str, Any]) -> None:
    """Commit `state` as the `spotify` source's crawler state with a dlt load, as `ingest` does."""
    raw = raw_pipeline(settings)
    raw.sync_destination()

    @dlt.resource(name="tracks", write_disposition="append")
    def state_only() -> list[dict[str, Any]]:
        dlt.current.source_state()["crawler"] = state
        return []

    @dlt.source(name="spotify", max_table_nesting=0)
    def spotify() -> list[Any]:
        return [state_only]

    raw.run(spotify(), loader_file_format="jsonl")


def stored_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def measure(entities: int, layout: str, fetched: dict[str, dict[str, int]], root: Path) -> Figure:
    settings = Settings(
        raw_zone_url=str(root / "raw"), duckdb_path=str(root / "unused.duckdb"), pipelines_dir=str(root / "writer")
    )
    state = crawler_state()
    if layout == "baseline":
        state["fetched"] = fetched
    commit_state(settings, state)
    if layout == "tunelake":
        freshness = Freshness()
        for kind, ids in fetched.items():
            for entity_id, day in ids.items():
                freshness.mark_fetched(kind, entity_id, day)
        FreshnessIndex.of_pipeline(raw_pipeline(settings)).save(freshness, TODAY, WINDOWS, "bench")
    dataset = root / "raw" / "spotify"

    # A fresh start: an empty working folder, as a Lambda's /tmp.
    start = Settings(
        raw_zone_url=settings.raw_zone_url, duckdb_path=settings.duckdb_path, pipelines_dir=str(root / "start")
    )
    raw = raw_pipeline(start)
    gc.collect()
    _, sync_s = timed(raw.sync_destination)
    restored = raw.state["sources"]["spotify"]["crawler"]
    in_state = len(restored.get("fetched", {}).get("track", {}))
    if in_state != (len(fetched["track"]) if layout == "baseline" else 0):
        raise RuntimeError(f"{layout}: the restored state holds {in_state} tracks")
    index_s, memory_mb = 0.0, 0.0
    if layout == "tunelake":
        index = FreshnessIndex.of_pipeline(raw)
        loaded, index_s = timed(lambda: index.load(TODAY, WINDOWS))
        if loaded.size() != sum(len(ids) for ids in fetched.values()):
            raise RuntimeError(
                f"the index restored {loaded.size()} of {sum(len(i) for i in fetched.values())} entities"
            )
        del loaded
        gc.collect()
        # Apart from the timing: tracemalloc slows what it watches.
        tracemalloc.start()
        loaded = index.load(TODAY, WINDOWS)
        memory_mb = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        del loaded
    else:
        gc.collect()
        tracemalloc.start()
        raw.sync_destination()
        memory_mb = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
    return Figure(
        entities=entities,
        layout=layout,
        state_bytes=stored_bytes(dataset / "_dlt_pipeline_state"),
        index_bytes=stored_bytes(dataset / "_tunelake_fetched") if (dataset / "_tunelake_fetched").exists() else 0,
        sync_s=sync_s,
        index_s=index_s,
        memory_mb=memory_mb,
    )


def collect(sizes: tuple[int, ...]) -> list[Figure]:
    figures = []
    for entities in sizes:
        fetched = generate(entities)
        for layout in ("baseline", "tunelake"):
            with tempfile.TemporaryDirectory(prefix="tunelake-bench-state-") as folder:
                figures.append(measure(entities, layout, fetched, Path(folder)))
                shutil.rmtree(folder, ignore_errors=True)
    return figures


def report(figures: list[Figure]) -> str:
    lines = [
        "| known entities | layout | state in the raw zone | `sync_destination` | freshness index | index read "
        "| restore (total) | in memory after restore |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f.entities:,} | {f.layout} | {f.state_bytes:,} B | {f.sync_s:.3f} s | {f.index_bytes:,} B "
            f"| {f.index_s:.3f} s | {f.restore_s:.3f} s | {f.memory_mb:.1f} MB |"
        )
    lines.append("")
    by = {(f.entities, f.layout): f for f in figures}
    for entities in sorted({f.entities for f in figures}):
        new, old = by[(entities, "tunelake")], by[(entities, "baseline")]
        lines.append(
            f"- {entities:,} entities: state {new.state_bytes:,} B vs {old.state_bytes:,} B "
            f"({old.state_bytes / new.state_bytes:.0f}x smaller), restore {new.restore_s:.3f} s vs "
            f"{old.restore_s:.3f} s ({old.restore_s / new.restore_s:.1f}x)"
        )
    biggest = max(f.entities for f in figures)
    new = by[(biggest, "tunelake")]
    state_ok = "met" if new.state_bytes < GOAL_STATE_BYTES else "NOT met"
    restore_ok = "met" if new.restore_s < GOAL_RESTORE_S else "NOT met"
    lines.append(
        f"- Goal at {biggest:,} entities: state < {GOAL_STATE_BYTES:,} B: {new.state_bytes:,} B, {state_ok}; "
        f"restore < {GOAL_RESTORE_S:.0f} s: {new.restore_s:.3f} s, {restore_ok}"
        + ("" if biggest == SIZES[-1] else f" (quick run: the goals are set at {SIZES[-1]:,})")
    )
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    """The `state` section of `make bench`."""
    figures = collect(QUICK_SIZES if quick else SIZES)
    notes = [
        "## Pipeline state",
        "",
        "A fresh start (empty working folder, as a Lambda) restores the raw pipeline's state from a local raw "
        f"zone and, with tunelake, reads the freshness index for a {WINDOW_DAYS}-day window; ids generated "
        "(22 base62 characters; 70% tracks, 20% albums, 10% artists, spread over the window), written and "
        "restored through dlt and `FreshnessIndex`. Baseline: the earlier layout, every entity's fetch day in "
        "the state. Memory: Python allocations held after the restore (tracemalloc), the freshness for tunelake, "
        "dlt's restored state for the baseline.",
        "",
        report(figures),
    ]
    return "\n".join(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"Only {', '.join(f'{n:,}' for n in QUICK_SIZES)}.")
    print(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
