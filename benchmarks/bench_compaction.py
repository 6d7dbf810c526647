"""Raw zone compaction: a year of hourly loads, before and after `tunelake compact`.

Writes a raw zone of hourly loads as the raw pipeline leaves them (gzipped JSON lines per table
and load, and an index entry per load), then measures on a year of them: files and bytes before
and after compaction, the compaction's time, and a warehouse (DuckDB) rebuild from the raw zone
before and after compaction, whose rows are compared table by table. Goals (issue 19): at most
31 files per table per month after compaction, and a rebuild at least 5x faster; the rows identical.

The zone is generated, not ingested: each simulated day's rows (`benchmarks.rawgen`, a small
catalog) are spread over 24 hourly loads, and about a fifth of the entity rows also appear, with a
stale value, in the load an hour earlier, so the latest-load-wins rule is exercised.

    python -m benchmarks.bench_compaction [--quick]
"""

# ruff: noqa: S608 (SQL built from this module's constants and the declared tables)
from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks import rawgen
from ingestion import compaction
from ingestion import raw_zone as ingestion_raw_zone
from ingestion.config import Settings
from ingestion.pipeline import DATASET, RunSummary, load_warehouse
from ingestion.spotify import tables

HOURS = 24
# Days generated per query: fewer, larger queries; a chunk's JSON stays a few MB.
CHUNK_DAYS = 15
GOAL_FILES_PER_MONTH = 31
GOAL_SPEEDUP = 5.0
# Small on purpose: an hourly raw zone is many small files, whatever the catalog's size.
SCALE = rawgen.Scale(
    tracks=300, playlists=5, playlist_size=30, queries=4, search_depth=10, top_depth=10, plays_per_day=24
)


def _hourly_load_id(scale: rawgen.Scale, day: int, hour: int) -> str:
    """The load id of the load of `hour` on simulated `day` (five past the hour, as a schedule runs)."""
    return f"{scale.start_epoch + (day - 1) * 86400 + hour * 3600 + 300:.6f}"


def _stale_column(table: str) -> str | None:
    """A text column outside the key, changed in the stale copies; None where there is none."""
    keys = set(tables.TABLES[table]["primary_key"])
    columns = tables.TABLES[table]["columns"]
    return next((name for name, hint in columns.items() if hint["data_type"] == "text" and name not in keys), None)


def write_hourly_zone(raw_zone: Path, scratch: Path, scale: rawgen.Scale) -> int:
    """Days 1..`scale.days` as hourly loads: data files plus one index entry per load; the loads written."""
    entries: dict[str, dict[str, list[str]]] = defaultdict(dict)

    with rawgen.Generator(scratch, scale) as generator:

        def write_days(task: tuple[str, int, int]) -> list[tuple[str, str, str]]:
            table, first, last = task
            cursor = generator.con.cursor()
            try:
                for statement in rawgen._macros(scale):
                    cursor.execute(statement)
                history = rawgen._history(table, scale).format(d0=first, d1=last)
                dated = rawgen._with_dlt_columns(cursor, table, history)
                rows = rawgen._json_select(table, dated).replace("SELECT ", "SELECT _day, ", 1)
                hour = f"hash(t._dlt_id) % {HOURS}"
                line = "to_json(struct_pack(" + ", ".join(f'"{c}" := t."{c}"' for c, _ in rawgen._columns(table)) + "))"
                query = f"SELECT t._day, {hour} AS h, {line} FROM ({rows}) AS t"
                stale = _stale_column(table)
                if stale and not rawgen._is_daily(table):
                    query += (
                        f" UNION ALL SELECT t._day, {hour} - 1, {line} FROM "
                        f"(SELECT * REPLACE ('stale ' || coalesce({stale}, '') AS {stale}) FROM ({rows})) AS t "
                        f"WHERE {hour} > 0 AND hash(t._dlt_id) % 5 = 0"
                    )
                lines = cursor.execute(query).fetchall()
            finally:
                cursor.close()
            by_load: dict[tuple[int, int], list[str]] = defaultdict(list)
            for day, hour, line in lines:
                by_load[(day, hour)].append(line)
            written = []
            for (day, hour), load_lines in by_load.items():
                folder = raw_zone / DATASET / table / f"load_date={scale.day(day).isoformat()}"
                folder.mkdir(parents=True, exist_ok=True)
                load_id = _hourly_load_id(scale, day, hour)
                name = f"{load_id}.{rawgen._file_id(table, day * HOURS + hour)}.jsonl.gz"
                (folder / name).write_bytes(gzip.compress(("\n".join(load_lines) + "\n").encode(), compresslevel=1))
                written.append((load_id, table, f"{DATASET}/{table}/{folder.name}/{name}"))
            return written

        chunks = [(first, min(first + CHUNK_DAYS - 1, scale.days)) for first in range(1, scale.days + 1, CHUNK_DAYS)]
        tasks = [(table, first, last) for first, last in chunks for table in rawgen.GENERATED]
        with ThreadPoolExecutor(max_workers=2) as pool:
            for written in pool.map(write_days, tasks):
                for load_id, table, path in written:
                    entries[load_id][table] = [path]
    for day in range(1, scale.days + 1):
        folder = raw_zone / compaction.INDEX_FOLDER / f"load_date={scale.day(day).isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        for hour in range(HOURS):
            load_id = _hourly_load_id(scale, day, hour)
            files = entries.get(load_id, {})
            size = sum((raw_zone / path).stat().st_size for paths in files.values() for path in paths)
            (folder / f"{load_id}.json").write_text(ingestion_raw_zone.Entry(load_id, files, size=size).to_json())
    return scale.days * HOURS


def _data_files(raw_zone: Path) -> tuple[int, int, int]:
    """Data files, their bytes, and the most files any table holds in one month."""
    per_month: dict[tuple[str, str], int] = defaultdict(int)
    files = size = 0
    for table in tables.TABLES:
        for path in (raw_zone / DATASET / table).glob("load_date=*/*"):
            if path.name.startswith("."):
                continue
            files += 1
            size += path.stat().st_size
            per_month[(table, path.parent.name[len("load_date=") : len("load_date=YYYY-MM")])] += 1
    return files, size, max(per_month.values(), default=0)


def _rebuild(raw_zone: Path, root: Path) -> tuple[float, Path | None]:
    """A new DuckDB warehouse loaded from the raw zone alone: its seconds and its file."""
    settings = Settings(
        raw_zone_url=str(raw_zone), duckdb_path=str(root / "warehouse.duckdb"), pipelines_dir=str(root / "pipelines")
    )
    started = time.perf_counter()
    load_warehouse(settings, RunSummary())
    return time.perf_counter() - started, Path(settings.duckdb_path)


def _differences(before: Path, after: Path) -> dict[str, int]:
    """Per table, the rows in one warehouse and not the other (both ways, duplicates counted)."""
    differences = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{before}' AS before (READ_ONLY)")
        con.execute(f"ATTACH '{after}' AS after (READ_ONLY)")
        for table in tables.TABLES:
            columns = ", ".join(tables.TABLES[table]["columns"])
            one, other = (f"SELECT {columns} FROM {side}.{DATASET}.{table}" for side in ("before", "after"))
            count = con.sql(f"SELECT count(*) FROM (({one} EXCEPT ALL {other}) UNION ALL ({other} EXCEPT ALL {one}))")
            differences[table] = count.fetchone()[0]
    return differences


def run(quick: bool = False) -> str:
    """The compaction section of the report (markdown).

    Files, bytes and the compaction's time on a year of hourly loads (a month with `quick`), and
    the warehouse rebuilt from that raw zone before and after compaction.
    """
    days = 30 if quick else 365
    with tempfile.TemporaryDirectory(prefix="tunelake-bench-compaction-") as folder:
        year = _compacted(Path(folder) / "year", dataclasses.replace(SCALE, days=days), rebuild=True)
    speedup = year.rebuild_before / year.rebuild_after if year.rebuild_after else float("inf")
    identical = not any(year.differences.values())

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        "## Raw zone compaction",
        "",
        f"A generated raw zone of hourly loads ({len(rawgen.GENERATED)} tables, {SCALE.tracks} tracks), compacted "
        "with `ingestion.compaction.compact` (what `tunelake compact` and the Lambda's daily event run). "
        f"{days} days ({year.loads:,} loads, written in {year.generated:.0f} s); a DuckDB warehouse rebuilt from "
        "the raw zone alone (`load_warehouse` into a new file) before and after compaction. "
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| | before | after | ratio |",
        "|---|---:|---:|---:|",
        f"| data files, {days} days | {year.files_before:,} | {year.files_after:,} | "
        f"{year.files_before / max(year.files_after, 1):.0f}x fewer |",
        f"| bytes, {days} days | {year.bytes_before / 1e6:,.1f} MB | {year.bytes_after / 1e6:,.1f} MB "
        f"| {year.bytes_after / max(year.bytes_before, 1):.2f} |",
        f"| most files of a table in a month | {year.month_before:,} | {year.month_after:,} | goal <= "
        f"{GOAL_FILES_PER_MONTH}: {verdict(year.month_after <= GOAL_FILES_PER_MONTH)} |",
        f"| warehouse rebuild, {days} days | {year.rebuild_before:.1f} s | {year.rebuild_after:.1f} s | "
        f"{speedup:.1f}x faster, goal >= {GOAL_SPEEDUP:.0f}x: {verdict(speedup >= GOAL_SPEEDUP)} |",
        "",
        f"- Compaction of {days} days: {year.compaction.seconds:.1f} s ({year.compaction.files_before:,} -> "
        f"{year.compaction.files_after:,} files); a second compaction compacted {len(year.again.days)} days "
        f"in {year.again.seconds:.1f} s.",
        f"- Rows: {year.rows:,} in the warehouse rebuilt from {days} compacted days; every table's rows "
        "compared with the one rebuilt before compaction (EXCEPT ALL both ways): "
        + (
            "identical." if identical else f"**differ**: {json.dumps({t: n for t, n in year.differences.items() if n})}"
        ),
    ]
    return "\n".join(lines)


@dataclasses.dataclass
class Measured:
    """One generated raw zone, before and after compaction."""

    loads: int
    generated: float
    files_before: int
    bytes_before: int
    month_before: int
    files_after: int
    bytes_after: int
    month_after: int
    compaction: compaction.CompactionSummary
    again: compaction.CompactionSummary
    rebuild_before: float = 0.0
    rebuild_after: float = 0.0
    rows: int = 0
    differences: dict[str, int] = dataclasses.field(default_factory=dict)


def _compacted(root: Path, scale: rawgen.Scale, rebuild: bool) -> Measured:
    """Generate, (rebuild,) compact, compact again (, rebuild and compare)."""
    raw_zone = root / "raw"
    root.mkdir(parents=True)
    started = time.perf_counter()
    loads = write_hourly_zone(raw_zone, root / "scratch.duckdb", scale)
    generated = time.perf_counter() - started
    files_before, bytes_before, month_before = _data_files(raw_zone)
    rebuild_before, warehouse_before = _rebuild(raw_zone, root / "before") if rebuild else (0.0, None)
    # The day after the last: every generated day is closed.
    today = scale.day(scale.days + 1)
    summary = compaction.compact(str(raw_zone), today=today)
    files_after, bytes_after, month_after = _data_files(raw_zone)
    again = compaction.compact(str(raw_zone), today=today)
    measured = Measured(
        loads,
        generated,
        files_before,
        bytes_before,
        month_before,
        files_after,
        bytes_after,
        month_after,
        summary,
        again,
    )
    if warehouse_before is not None:
        measured.rebuild_before = rebuild_before
        measured.rebuild_after, warehouse_after = _rebuild(raw_zone, root / "after")
        measured.differences = _differences(warehouse_before, warehouse_after)
        with duckdb.connect(str(warehouse_after), read_only=True) as con:
            measured.rows = sum(con.sql(f"SELECT count(*) FROM {DATASET}.{t}").fetchone()[0] for t in tables.TABLES)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Two weeks instead of a year.")
    print(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
