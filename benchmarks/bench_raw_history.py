"""History: the cost of a same-day re-run with a year of hourly loads in the raw zone, against ten loads.

Each raw zone starts from one real `ingest()` run against the sandbox (2,000-track catalog, seed 7,
its 12 playlists, 2 artists, 2 albums, 2 searches and the user's listening, development tier,
simulated day 2026-11-01), then gets older hourly loads written directly as files
(`benchmarks/hourly_loads.py`): a year of them (8,760 loads in all, a month with `--quick`), or ten.
The warehouse (DuckDB) holds the real load, so its cursor is past every generated one.

Then `ingest()` runs again on the same sandbox day: the day's work is done, so the run is mostly
overhead (a token, the recently-played check, an empty raw load, the warehouse load finding
what is new). That re-run is measured, each in a fresh process:

- local raw zone: wall time, directory entries read (every `os.scandir` / `os.listdir` the
  process makes, counted by an audit hook, with the entries each listed folder holds), files
  opened for reading and their bytes, split by where they are (raw zone, dlt's working folder);
- raw zone on the S3 stand-in (moto, `benchmarks/s3_standin.py`): wall time and the S3
  requests by operation and bytes the server answered, counted at the server.

The first re-run of each zone is counted (the hook slows listing); the wall time is the median of
`TIMED` uncounted re-runs after it, or the counted run's when that alone took over a minute.

    python -m benchmarks.bench_raw_history [--quick] [--loads 8760] [--only local|s3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import hourly_loads

ROOT = Path(__file__).resolve().parents[1]
YEAR, MONTH, TEN = 8_760, 720, 10
GOAL = 1.2
TIMED = 2
SLOW_RUN_S = 60.0
BUCKET = "tunelake-history"
PREFIX = "zone"
AREAS = ("raw zone", "working folder")
TOP = 6


def _progress(message: str) -> None:
    print(f"  history {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# the measured process -------------------------------------------------------------------------


class _Audit:
    """Counts, from Python's audit events, the folders a process lists and the files it opens to read."""

    def __init__(self, areas: dict[str, str]) -> None:
        self.areas = areas
        self.listed: list[str] = []
        self.opened: list[tuple[str, int]] = []
        self.active = False
        self.missed = 0

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in ("os.scandir", "os.listdir", "open"):
            return
        self.active = False  # what the hook itself does is not counted
        try:
            self._record(event, args)
        except Exception:  # an exception here would fail the audited call: count it as missed instead
            self.missed += 1
        finally:
            self.active = True

    def _record(self, event: str, args: tuple[Any, ...]) -> None:
        path = args[0]
        if isinstance(path, int):  # a folder open as a descriptor (shutil.rmtree)
            path = os.readlink(f"/proc/self/fd/{path}")
        if event != "open":
            self.listed.append(os.path.abspath(os.fsdecode(path if path is not None else ".")))
            return
        mode, flags = args[1], args[2]
        reading = ("r" in mode and "+" not in mode) if mode else (flags & os.O_ACCMODE) == os.O_RDONLY
        name = os.path.abspath(os.fsdecode(path))
        if reading and self.area(name) != "other":
            self.opened.append((name, os.stat(name).st_size))

    def area(self, path: str) -> str:
        return next((name for name, root in self.areas.items() if path.startswith(root)), "other")

    def figures(self) -> dict[str, Any]:
        """Entries read and files opened per area; the folders read most (entries x times)."""
        sizes: dict[str, int] = {}
        for folder in set(self.listed):
            try:
                sizes[folder] = len(os.listdir(folder))
            except OSError:  # a package folder dlt moved or deleted since
                sizes[folder] = 0
        entries: Counter[str] = Counter()
        listings: Counter[str] = Counter()
        by_folder: Counter[str] = Counter()
        for folder in self.listed:
            entries[self.area(folder)] += sizes[folder]
            listings[self.area(folder)] += 1
            if self.area(folder) != "other":
                by_folder[folder] += sizes[folder]
        opened: Counter[str] = Counter()
        read: Counter[str] = Counter()
        opened_by_folder: Counter[str] = Counter()
        for name, size in self.opened:
            opened[self.area(name)] += 1
            read[self.area(name)] += size
            opened_by_folder[os.path.dirname(name)] += 1
        return {
            "entries": dict(entries),
            "listings": dict(listings),
            "opened": dict(opened),
            "opened_bytes": dict(read),
            "top_listed": by_folder.most_common(TOP),
            "top_opened": opened_by_folder.most_common(TOP),
            "missed": self.missed,
        }


def _rchar() -> int:
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("rchar")).split()[1])
    except (OSError, StopIteration):
        return 0


def child() -> None:
    """Child process: one `ingest()` from the JSON job on stdin; prints its figures as JSON."""
    job = json.loads(sys.stdin.read())
    audit = _Audit(job["areas"])
    if job["count"]:
        sys.addaudithook(audit.hook)
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    from ingestion.config import Settings
    from ingestion.pipeline import ingest
    from ingestion.spotify import spotify

    source = spotify(**job["source"])
    settings = Settings(**job["settings"])
    rchar = _rchar()
    audit.active = True
    started = time.perf_counter()
    summary = ingest(settings, source)
    seconds = time.perf_counter() - started
    audit.active = False
    result = {
        "seconds": seconds,
        "rchar": _rchar() - rchar,
        "raw_load_ids": summary.raw_load_ids,
        "requests": sum(summary.requests.values()),
        "raw_rows": sum(summary.raw_rows.values()),
        **(audit.figures() if job["count"] else {}),
    }
    print(json.dumps(result))


def _ingest(job: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    process = subprocess.run(
        [sys.executable, "-c", "from benchmarks.bench_raw_history import child; child()"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RUNTIME__DLTHUB_TELEMETRY": "false", **environment},
        timeout=3_600,
        check=False,
    )
    if process.returncode != 0:
        raise RuntimeError(f"ingest() failed (exit {process.returncode}):\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# the zones --------------------------------------------------------------------------------------


@dataclass
class Zone:
    """One raw zone (local or on the S3 stand-in) with its warehouse and working folder."""

    backend: str
    loads: int
    root: Path
    raw_zone_url: str
    environment: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0
    files: int = 0
    counted: dict[str, Any] = field(default_factory=dict)
    s3: dict[str, Any] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def job(self, source: dict[str, Any], count: bool) -> dict[str, Any]:
        settings = {
            "raw_zone_url": self.raw_zone_url,
            "duckdb_path": str(self.root / "tunelake.duckdb"),
            "pipelines_dir": str(self.root / "pipelines"),
        }
        areas = {"working folder": str(self.root / "pipelines")}
        if self.backend == "local":
            areas["raw zone"] = self.raw_zone_url
        return {"settings": settings, "source": source, "count": count, "areas": areas}

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds)


def _source(server: Any) -> dict[str, Any]:
    """The `spotify()` arguments of the tests' tracked slice of `server`'s catalog, with the user's token."""
    from ingestion.spotify import settings
    from tests.support import MARKET, tracked_for

    tracked = tracked_for(server.api.catalog)
    client_id, secret = "bench-client", "bench-secret"
    return {
        "playlists": list(tracked.playlists),
        "artists": list(tracked.artists),
        "albums": list(tracked.albums),
        "queries": list(tracked.queries),
        "client_id": client_id,
        "client_secret": secret,
        "refresh_token": server.user_refresh_token(client_id, secret, " ".join(settings.USER_SCOPES)),
        "api_url": server.api_url,
        "token_url": server.token_url,
        "market": MARKET,
        "requests_per_second": 2_000,
    }


def build_local(root: Path, loads: int, source: dict[str, Any]) -> tuple[Zone, list[str]]:
    """A local zone: one real run, then `loads - 1` older loads; the zone and the generated files' paths."""
    zone = Zone("local", loads, root, str(root / "raw"))
    _progress(f"local zone of {loads:,} loads: the real run")
    _ingest(zone.job(source, count=False), {})
    started = time.perf_counter()
    real = hourly_loads.RealLoad.read(root / "raw")
    paths = hourly_loads.write(root / "raw", hourly_loads.older_files(real, loads - 1))
    zone.build_seconds, zone.files = time.perf_counter() - started, len(paths)
    _progress(f"local zone of {loads:,} loads: {len(paths):,} files written in {zone.build_seconds:.0f} s")
    return zone, paths


def build_s3(moto: Any, root: Path, loads: int, source: dict[str, Any], local: Zone, paths: list[str]) -> Zone:
    """A zone on the S3 stand-in: one real run, then the same older loads as `local`'s, put into the bucket."""
    from tests.standins import moto as moto_standin

    bucket = f"{BUCKET}-{loads}"
    moto_standin.client("s3", moto.endpoint).create_bucket(Bucket=bucket)
    zone = Zone("s3", loads, root, f"s3://{bucket}/{PREFIX}", moto_standin.aws_environment(moto.endpoint))
    _progress(f"S3 zone of {loads:,} loads: the real run")
    _ingest(zone.job(source, count=False), zone.environment)
    started = time.perf_counter()
    zone.files = moto.seed(bucket, PREFIX, Path(local.raw_zone_url), paths)
    zone.build_seconds = time.perf_counter() - started
    _progress(f"S3 zone of {loads:,} loads: {zone.files:,} objects put in {zone.build_seconds:.0f} s")
    return zone


def measure(zone: Zone, source: dict[str, Any], moto: Any = None) -> None:
    """The same-day re-run: counted once, then timed `TIMED` times (unless the counted one was slow)."""
    if moto:
        moto.reset()
    _progress(f"{zone.backend} zone of {zone.loads:,} loads: the counted re-run")
    zone.counted = _ingest(zone.job(source, count=True), zone.environment)
    if moto:
        zone.s3 = moto.counts()
    if zone.counted["seconds"] > SLOW_RUN_S:
        zone.seconds = [zone.counted["seconds"]]
        return
    _progress(f"{zone.backend} zone of {zone.loads:,} loads: {zone.counted['seconds']:.1f} s; {TIMED} timed re-runs")
    zone.seconds = [_ingest(zone.job(source, count=False), zone.environment)["seconds"] for _ in range(TIMED)]


# the report ------------------------------------------------------------------------------------


def _ratio(year: float, ten: float) -> float:
    return year / ten if ten else (1.0 if not year else float("inf"))


def _goal(ratio: float) -> str:
    return f"{'reached' if ratio <= GOAL else 'NOT reached'} (goal <= {GOAL}x)"


def _row(name: str, year: float, ten: float, unit: str = "", goal: bool = False, digits: int = 0) -> str:
    ratio = _ratio(year, ten)
    verdict = _goal(ratio) if goal else ""
    return f"| {name} | {year:,.{digits}f}{unit} | {ten:,.{digits}f}{unit} | {ratio:.2f}x | {verdict} |"


def _requests(zone: Zone) -> int:
    return sum(op["requests"] for op in zone.s3.get("operations", {}).values())


def local_table(year: Zone, ten: Zone) -> list[str]:
    y, t = year.counted, ten.counted
    lines = [
        f"### Local raw zone: {year.loads:,} loads against {ten.loads}",
        "",
        f"| same-day re-run | {year.loads:,} loads | {ten.loads} loads | ratio | |",
        "|---|---|---|---|---|",
        _row("wall s (median)", year.wall, ten.wall, goal=True, digits=2),
    ]
    for area in AREAS:
        get = lambda figures, key, a=area: figures.get(key, {}).get(a, 0)  # noqa: E731
        lines += [
            _row(f"files listed: entries read in the {area}", get(y, "entries"), get(t, "entries"), goal=True),
            _row(f"folder listings in the {area}", get(y, "listings"), get(t, "listings")),
            _row(f"files opened to read in the {area}", get(y, "opened"), get(t, "opened")),
            _row(f"bytes of those files ({area})", get(y, "opened_bytes"), get(t, "opened_bytes")),
        ]
    lines.append(_row("bytes read by the process (rchar: files, sockets, modules)", y["rchar"], t["rchar"]))
    return lines


def s3_table(year: Zone, ten: Zone) -> list[str]:
    ops = sorted(set(year.s3.get("operations", {})) | set(ten.s3.get("operations", {})))
    op = lambda zone, name, key: zone.s3.get("operations", {}).get(name, {}).get(key, 0)  # noqa: E731
    gets = (op(year, "GetObject", "bytes"), op(ten, "GetObject", "bytes"))
    server = tuple(sum(o["seconds"] for o in zone.s3["operations"].values()) for zone in (year, ten))
    return [
        f"### Raw zone on the S3 stand-in (moto): {year.loads:,} loads against {ten.loads}",
        "",
        f"| same-day re-run | {year.loads:,} loads | {ten.loads} loads | ratio | |",
        "|---|---|---|---|---|",
        _row("wall s (median)", year.wall, ten.wall, goal=True, digits=2),
        _row("of which moto's time answering (scans the whole bucket per listing)", *server, digits=2),
        _row("S3 requests", _requests(year), _requests(ten), goal=True),
        *(_row(f"- {name}", op(year, name, "requests"), op(ten, name, "requests")) for name in ops),
        _row("bytes read (GetObject answers)", *gets),
        _row(
            "files listed in the working folder (local)",
            year.counted.get("entries", {}).get("working folder", 0),
            ten.counted.get("entries", {}).get("working folder", 0),
        ),
    ]


def diagnosis(zones: dict[tuple[str, str], Zone], root: Path) -> list[str]:
    """Where the year's re-run reads most: folders listed and opened locally, S3 requests by prefix."""
    lines = []
    year = zones.get(("local", "year"))
    if year:
        strip = lambda path: path.replace(str(root), "<scratch>")  # noqa: E731
        listed = ", ".join(f"`{strip(f)}` {n:,}" for f, n in year.counted["top_listed"])
        opened = ", ".join(f"`{strip(f)}` {n:,}" for f, n in year.counted["top_opened"])
        lines += [
            f"- local, entries read per folder (top {TOP}): {listed}",
            f"- local, files opened per folder: {opened}",
        ]
    year_s3 = zones.get(("s3", "year"))
    if year_s3:
        for name, folders in sorted(year_s3.s3.get("folders", {}).items()):
            top = Counter(folders).most_common(TOP)
            lines.append(f"- S3 {name} by prefix/folder: " + ", ".join(f"`{f}` {n:,}" for f, n in top))
    return lines


def run(quick: bool = False, loads: int | None = None, only: str | None = None) -> str:
    """Build the zones, measure the re-runs and return the `## History` markdown section."""
    from datetime import date

    from benchmarks.s3_standin import counting_moto_server
    from sandbox import Catalog, SandboxApi, SandboxServer

    started = time.monotonic()
    load_before = os.getloadavg()
    many = loads or (MONTH if quick else YEAR)
    sizes = {"year": many, "ten": TEN}
    server = SandboxServer(SandboxApi(Catalog(seed=7, tracks=2_000), tier="development", today=date(2026, 11, 1)))
    server.start()
    zones: dict[tuple[str, str], Zone] = {}
    try:
        source = _source(server)
        with tempfile.TemporaryDirectory(prefix="bench-raw-history-") as scratch, ExitStack() as stack:
            root = Path(scratch)
            generated: dict[str, list[str]] = {}
            for label, count in sizes.items():
                zones["local", label], generated[label] = build_local(root / f"local-{label}", count, source)
            # Every zone is built before any re-run: a re-run deletes the state files dlt no longer keeps.
            moto = stack.enter_context(counting_moto_server()) if only != "local" else None
            if moto:
                for label, count in sizes.items():
                    local = zones["local", label]
                    zones["s3", label] = build_s3(moto, root / f"s3-{label}", count, source, local, generated[label])
            if only != "s3":
                for label in sizes:
                    measure(zones["local", label], source)
            if moto:
                for label in sizes:
                    measure(zones["s3", label], source, moto)
            lines = _section(zones, root, many, only)
    finally:
        server.stop()
    load_after = os.getloadavg()
    lines += [
        "",
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"{time.monotonic() - started:.0f} s in all on {os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def _section(zones: dict[tuple[str, str], Zone], root: Path, many: int, only: str | None) -> list[str]:
    year, ten = zones["local", "year"], zones["local", "ten"]
    lines = [
        "## History: a same-day re-run with a year of hourly loads",
        "",
        f"Each raw zone: one real `ingest()` against the sandbox, then older hourly loads written as files "
        f"(every one of the {len(hourly_loads.tables.TABLES)} tables with {hourly_loads.ROWS} rows, its `_dlt_loads` "
        f"record, state files for the newest {hourly_loads.STATE_FILES}, index entries where the code writes them): "
        f"{year.files:,} files for {many:,} loads in {year.build_seconds:.0f} s, {ten.files:,} for {TEN}. "
        "The S3 zones get the same files put into moto's store directly. Measured: `ingest()` again on the same "
        f"sandbox day, in a fresh process; wall time the median of {TIMED} runs after the counted one "
        f"(or the counted one when it took over {SLOW_RUN_S:.0f} s).",
        "",
    ]
    if only != "s3":
        lines += [*local_table(year, ten), ""]
    if only != "local":
        lines += [*s3_table(zones["s3", "year"], zones["s3", "ten"]), ""]
    measured = {key: zone for key, zone in zones.items() if zone.counted}
    lines += ["Where the bigger zone's re-run reads:", "", *diagnosis(measured, root)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{MONTH} loads (a month) instead of {YEAR:,}.")
    parser.add_argument("--loads", type=int, default=None, help="Loads in the bigger zone.")
    parser.add_argument("--only", choices=("local", "s3"), default=None, help="Measure one kind of raw zone.")
    arguments = parser.parse_args()
    print(run(arguments.quick, arguments.loads, arguments.only))


if __name__ == "__main__":
    main()
