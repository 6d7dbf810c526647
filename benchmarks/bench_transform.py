"""Transform: dbt's full and one-day incremental builds of the marts at scale, against a pandas baseline.

`benchmarks.rawgen` writes the warehouse's raw schema (`spotify`, as dlt loads it) for
100,000 tracks, 20,000 albums and 10,000 artists observed daily for 90 days (9,000,000
track observations; playlists, searches, top items and plays beside them), and the same rows
as the raw zone's gzipped JSON lines. dbt then runs on a copy of `dbt_project` (never the
project's own folder, whose `target/` the tests use), each command in its own process, timed
wall to wall (interpreter start, parse from dbt's partial-parse cache, every model) and with
its peak resident memory from `wait4`:

1. `dbt run --full-refresh`: every model, 13 marts (the full build);
2. one more day (day 91) appended to the raw tables as dlt's merge would;
3. `dbt run`: the incremental facts and trends rebuild from the last built day minus
   `incremental_lookback_days` (1), so 3 days; the incremental dimensions read the new days'
   observations and write the rows that changed; the other tables (daily listening) are
   rebuilt (the one-day incremental build);
4. `dbt run` once more, with nothing new: the same models over the same lookback window, the cost
   of a run that does not depend on how much arrived;
5. `dbt run --full-refresh --select dim_tracks dim_albums dim_artists`: the three dimensions
   alone, rebuilt from every row (they are incremental, and the pandas baseline builds them whole).

The baseline is the tutorials' way, in its own process: every `*.jsonl.gz` of the raw zone
read with `pd.read_json(lines=True)` and concatenated, the latest copy of each entity kept
with `drop_duplicates`, merges and group-bys to the same three dimensions (same columns as
dbt's), written as parquet; the raw zone's rows are flat, so `pd.json_normalize` has nothing to
flatten. Its rows are checked against dbt's dimensions, value for value.

dbt's fixed cost per command (interpreter, imports, manifest, connection) is measured too, as a
`dbt run` of one staging view: every incremental build pays it.

DuckDB uses its default threads (one per core) and the profile's memory limit and temp folder
(profiles.example.yml); the dbt profile runs 4 models at a time.

`--scale` is the run at 1,000,000 tracks x 90 days, with its own goals (a full build under 10
minutes and 8 GB, a one-day incremental build at most 10% of it); it takes longer than the
default suite's 20 minutes, so `make bench` leaves it out (`benchmarks/report.py --scale`).

    python -m benchmarks.bench_transform [--quick | --scale] [--tracks 100000] [--days 90] [--with-tests]
"""

# ruff: noqa: S608 (SQL built from this module's constants and the marts' own column names)
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from benchmarks.rawgen import Scale

# The pandas baseline runs this module in a child process: it imports neither dbt nor dlt
# (`ingestion.transform`, `benchmarks.rawgen`), which the functions that need them import.

ROOT = Path(__file__).resolve().parents[1]
GOAL_SPEEDUP = 5.0
QUICK_TRACKS, QUICK_DAYS = 10_000, 14
SCALE_TRACKS, SCALE_DAYS = 1_000_000, 90


@dataclass(frozen=True)
class Goals:
    """The bounds a run is held to: at `tracks` tracks (and above) the full build's; any run the share."""

    tracks: int
    full_s: float
    incremental_share: float
    peak_rss_mb: float | None = None


GOALS = Goals(tracks=100_000, full_s=60.0, incremental_share=0.20)
SCALE_GOALS = Goals(tracks=SCALE_TRACKS, full_s=600.0, incremental_share=0.10, peak_rss_mb=8_000.0)
# The baseline holds every JSON row in memory (about 8 GB at 100,000 tracks and 90 days).
BASELINE_MAX_TRACKS = 200_000
DIMS = ("dim_tracks", "dim_albums", "dim_artists")
DIMS_SELECTOR = ["--full-refresh", "--select", *DIMS]
BASELINE_TABLES = (
    "tracks",
    "track_artists",
    "albums",
    "album_artists",
    "artists",
    "track_observations",
    "album_observations",
    "artist_observations",
)


# child processes -------------------------------------------------------------------------------


@dataclass
class Measured:
    """One command in its own process: wall seconds and peak resident memory."""

    seconds: float
    peak_rss_mb: float
    output: str = ""
    nodes: list[tuple[str, float]] = field(default_factory=list)  # dbt: (model, seconds), slowest first
    dbt_elapsed: float | None = None  # dbt's own `elapsed_time` (after interpreter start)


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> Measured:
    """Run `command` to completion; its wall time and its `ru_maxrss` (this child and its children)."""
    with log.open("w") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... exited {process.returncode}:\n{output[-4000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024, output)


def copy_project(work: Path) -> Path:
    """The dbt project without its target/, logs/ and profile, with the example profile."""
    from ingestion.transform import DBT_PROJECT_DIR, PROFILES_TEMPLATE

    project = work / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "profiles.yml")
    )
    shutil.copyfile(PROFILES_TEMPLATE, project / "profiles.yml")
    return project


class Dbt:
    """The dbt CLI on a project copy and a warehouse file, one process per command."""

    def __init__(self, project: Path, duckdb_path: Path) -> None:
        self.project, self.logs = project, project.parent / "command-logs"
        self.logs.mkdir(exist_ok=True)
        self.executable = str(Path(sys.executable).with_name("dbt"))
        self.env = {
            **os.environ,
            "TUNELAKE_DUCKDB_PATH": str(duckdb_path.resolve()),
            "TUNELAKE_TARGET": "duckdb",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        self.count = 0

    def __call__(self, *args: str) -> Measured:
        self.count += 1
        command = [self.executable, *args, "--project-dir", str(self.project), "--profiles-dir", str(self.project)]
        measured = measure(command, self.logs / f"{self.count:02d}-{args[0]}.log", self.env)
        results = self.project / "target" / "run_results.json"
        if args[0] in ("run", "build", "test") and results.exists():
            data = json.loads(results.read_text())
            measured.dbt_elapsed = data.get("elapsed_time")
            measured.nodes = sorted(
                ((r["unique_id"].split(".")[2], r["execution_time"]) for r in data["results"]),
                key=lambda node: -node[1],
            )
            failed = [r["unique_id"] for r in data["results"] if r["status"] not in ("success", "pass", "no-op")]
            if failed:
                raise RuntimeError(f"dbt {args[0]}: {len(failed)} node(s) did not pass: {failed[:10]}")
        return measured


# the pandas baseline -----------------------------------------------------------------------------


def pandas_baseline(raw_zone: Path, out: Path) -> dict[str, float | int]:
    """The three dimensions from the raw zone's JSON, as the public tutorials write it.

    Returns seconds per phase and the rows of each dimension.
    """
    import pandas as pd

    phases: dict[str, float | int] = {}
    started = time.perf_counter()

    def read_table(table: str) -> pd.DataFrame:
        files = sorted((raw_zone / "spotify" / table).glob("load_date=*/*.jsonl.gz"))
        # dtype=False: no guessing that ids or release years are numbers
        return pd.concat((pd.read_json(file, lines=True, dtype=False) for file in files), ignore_index=True)

    raw = {table: read_table(table) for table in BASELINE_TABLES}
    phases["read_s"] = time.perf_counter() - started

    def latest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        """The raw zone keeps every load: the last load's copy of each key."""
        return frame.sort_values("_dlt_load_id").drop_duplicates(keys, keep="last")

    transform_started = time.perf_counter()
    tracks = latest(raw["tracks"], ["track_id"])
    albums = latest(raw["albums"], ["album_id"])
    artists = latest(raw["artists"], ["artist_id"])
    track_artists = latest(raw["track_artists"], ["track_id", "artist_position"])
    album_artists = latest(raw["album_artists"], ["album_id", "artist_position"])

    def first_and_last_seen(observations: pd.DataFrame, key: str) -> pd.DataFrame:
        daily = observations.sort_values("observed_at").drop_duplicates([key, "observed_date"], keep="last")
        return daily.groupby(key)["observed_date"].agg(first_seen_date="min", last_seen_date="max").reset_index()

    precision, released = albums["release_date_precision"], albums["release_date"]
    albums["release_date_raw"] = released
    albums["release_date"] = pd.to_datetime(
        released.where(precision != "year", released + "-01-01").where(precision != "month", released + "-01"),
        format="%Y-%m-%d",
    ).dt.date
    artist_names = artists[["artist_id", "name"]].rename(columns={"name": "artist_name"})

    named_credits = track_artists.merge(artist_names, on="artist_id", how="left")
    named_credits["artist_name"] = named_credits["artist_name"].fillna(named_credits["artist_id"])
    named_credits = named_credits.sort_values(["track_id", "artist_position"])
    by_track = named_credits.groupby("track_id")
    credited = pd.DataFrame(
        {"artist_names": by_track["artist_name"].agg(", ".join), "artist_count": by_track.size()}
    ).reset_index()
    primary = named_credits[named_credits["artist_position"] == 0][["track_id", "artist_id", "artist_name"]].rename(
        columns={"artist_id": "primary_artist_id", "artist_name": "primary_artist_name"}
    )
    dim_tracks = (
        tracks.rename(columns={"name": "track_name", "popularity": "latest_popularity"})
        .merge(
            albums[["album_id", "name", "release_date", "release_date_precision"]].rename(
                columns={"name": "album_name"}
            ),
            on="album_id",
            how="left",
        )
        .merge(primary, on="track_id", how="left")
        .merge(credited, on="track_id", how="left")
        .merge(first_and_last_seen(raw["track_observations"], "track_id"), on="track_id", how="left")
    )[
        [
            "track_id",
            "album_id",
            "primary_artist_id",
            "isrc",
            "track_name",
            "album_name",
            "primary_artist_name",
            "artist_names",
            "duration_ms",
            "disc_number",
            "track_number",
            "artist_count",
            "latest_popularity",
            "is_explicit",
            "release_date",
            "release_date_precision",
            "first_seen_date",
            "last_seen_date",
        ]
    ]

    album_primary = (
        album_artists[album_artists["artist_position"] == 0]
        .merge(artist_names, on="artist_id", how="left")[["album_id", "artist_id", "artist_name"]]
        .rename(columns={"artist_id": "primary_artist_id", "artist_name": "primary_artist_name"})
    )
    dim_albums = (
        albums.rename(columns={"name": "album_name", "popularity": "latest_popularity"})
        .merge(album_primary, on="album_id", how="left")
        .merge(first_and_last_seen(raw["album_observations"], "album_id"), on="album_id", how="left")
    )[
        [
            "album_id",
            "primary_artist_id",
            "upc",
            "album_name",
            "album_type",
            "primary_artist_name",
            "label",
            "image_url",
            "total_tracks",
            "latest_popularity",
            "release_date",
            "release_date_precision",
            "first_seen_date",
            "last_seen_date",
        ]
    ]

    track_counts = track_artists.groupby("artist_id")["track_id"].nunique().rename("track_count").reset_index()
    album_counts = album_artists.groupby("artist_id")["album_id"].nunique().rename("album_count").reset_index()
    dim_artists = (
        artists.rename(
            columns={"name": "artist_name", "popularity": "latest_popularity", "followers": "latest_followers"}
        )
        .merge(track_counts, on="artist_id", how="left")
        .merge(album_counts, on="artist_id", how="left")
        .merge(first_and_last_seen(raw["artist_observations"], "artist_id"), on="artist_id", how="left")
    )
    dim_artists[["track_count", "album_count"]] = dim_artists[["track_count", "album_count"]].fillna(0).astype("int64")
    dim_artists = dim_artists[
        [
            "artist_id",
            "artist_name",
            "image_url",
            "track_count",
            "album_count",
            "latest_popularity",
            "latest_followers",
            "first_seen_date",
            "last_seen_date",
        ]
    ]
    dims = {"dim_tracks": dim_tracks, "dim_albums": dim_albums, "dim_artists": dim_artists}
    for frame in dims.values():
        for column in ("first_seen_date", "last_seen_date"):
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").dt.date
    phases["transform_s"] = time.perf_counter() - transform_started

    write_started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in dims.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        phases[f"{name}_rows"] = len(frame)
    phases["write_s"] = time.perf_counter() - write_started
    phases["raw_rows"] = sum(len(frame) for frame in raw.values())
    phases["total_s"] = time.perf_counter() - started
    return phases


def compare_dims(duckdb_path: Path, out: Path) -> dict[str, tuple[int, int, int, list[str]]]:
    """Per dimension: rows from pandas, rows in dbt's mart, rows found in only one of them, columns not compared."""
    compared = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        for dim in DIMS:
            columns = con.sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = 'marts' AND table_name = '{dim}' ORDER BY ordinal_position"
            ).fetchall()
            # The columns the pandas script writes: dbt's dimensions have gained some it does not compute.
            parquet = out / f"{dim}.parquet"
            written = {row[0] for row in con.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()}
            skipped = [name for name, _ in columns if name not in written]
            columns = [(name, kind) for name, kind in columns if name in written]
            cast = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in columns)
            names = ", ".join(f'"{name}"' for name, _ in columns)
            pandas_rows = f"SELECT {cast} FROM read_parquet('{parquet}')"
            dbt_rows = f"SELECT {names} FROM marts.{dim}"
            differing = con.sql(
                f"SELECT (SELECT count(*) FROM ({pandas_rows} EXCEPT ALL {dbt_rows})) "
                f"+ (SELECT count(*) FROM ({dbt_rows} EXCEPT ALL {pandas_rows}))"
            ).fetchone()[0]
            counts = con.sql(f"SELECT (SELECT count(*) FROM ({pandas_rows})), (SELECT count(*) FROM ({dbt_rows}))")
            compared[dim] = (*counts.fetchone(), differing, skipped)
    return compared


# the run -------------------------------------------------------------------------------------------


@dataclass
class Result:
    scale: Scale
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    generate_s: float = 0.0
    raw_zone_s: float | None = None
    append_s: float = 0.0
    raw_rows: dict[str, int] = field(default_factory=dict)
    appended_rows: dict[str, int] = field(default_factory=dict)
    parse: Measured | None = None
    full: Measured | None = None
    incremental: Measured | None = None
    dims: Measured | None = None
    tests: Measured | None = None
    floor: Measured | None = None
    idle: Measured | None = None  # `dbt run` again after the incremental, nothing new
    baseline: Measured | None = None
    baseline_phases: dict[str, float | int] = field(default_factory=dict)
    compared: dict[str, tuple[int, int, int, list[str]]] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure_all(scale: Scale, with_tests: bool, baseline: bool) -> Result:
    from benchmarks import rawgen
    from ingestion.transform import MARTS

    result = Result(scale, os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-transform-") as scratch:
        work = Path(scratch)
        database, raw_zone = work / "tunelake.duckdb", work / "raw"
        started = time.perf_counter()
        with rawgen.Generator(database, scale) as generator:
            generator.create()
            generator.load_days(1, scale.days)
            result.generate_s = time.perf_counter() - started
            if baseline:
                started = time.perf_counter()
                generator.write_raw_zone(raw_zone, 1, scale.days)
                result.raw_zone_s = time.perf_counter() - started
            result.raw_rows = rawgen.row_counts(generator.con)

        dbt = Dbt(copy_project(work), database)
        result.parse = dbt("parse")
        result.full = dbt("run", "--full-refresh")

        started = time.perf_counter()
        with rawgen.Generator(database, scale) as generator:
            result.appended_rows = generator.load_days(scale.days + 1, scale.days + 1, raw_zone if baseline else None)
        result.append_s = time.perf_counter() - started

        result.incremental = dbt("run")
        result.idle = dbt("run")
        if with_tests:
            result.tests = dbt("test")
        result.dims = dbt("run", *DIMS_SELECTOR)
        result.floor = dbt("run", "--select", "stg_spotify__plays")
        with duckdb.connect(str(database), read_only=True) as con:
            result.mart_rows = {m: con.sql(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS}

        if baseline:
            out = work / "pandas"
            result.baseline = measure(
                [sys.executable, "-m", "benchmarks.bench_transform", "--pandas-baseline", str(raw_zone), str(out)],
                work / "pandas.log",
            )
            result.baseline_phases = json.loads(result.baseline.output.strip().splitlines()[-1])
            result.compared = compare_dims(database, out)
    result.load_after = os.getloadavg()
    return result


# the report ------------------------------------------------------------------------------------------


def _row(name: str, value: str, goal: str = "-", ratio: str = "-", reached: str = "-") -> str:
    return f"| {name} | {value} | {goal} | {ratio} | {reached} |"


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _slowest(measured: Measured, count: int = 4) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in measured.nodes[:count])


def report(r: Result, quick: bool, goals: Goals = GOALS) -> str:
    s = r.scale
    full, inc, dims = r.full, r.incremental, r.dims
    share = inc.seconds / full.seconds
    idle_share = r.idle.seconds / full.seconds
    added = inc.seconds - r.idle.seconds
    added_share = added / full.seconds
    size = f"{s.tracks:,} tracks, {s.album_count:,} albums, {s.artist_count:,} artists x {s.days} days"
    lines = [
        "## Transform",
        "",
        f"dbt on DuckDB over a generated raw schema: {size} "
        f"({r.raw_rows['track_observations']:,} track observations), {os.cpu_count()} cores, "
        f"DuckDB threads default, dbt threads 4. Times are wall clock per process (start, parse from the "
        f"partial-parse cache, run); dbt's own elapsed time is in brackets.",
        "",
        "| Transform | Measured | Goal | Ratio | Reached |",
        "|---|---|---|---|---|",
    ]
    full_goal_applies = s.tracks >= goals.tracks
    lines.append(
        _row(
            f"full build (`dbt run --full-refresh`, {len(r.mart_rows)} marts)",
            f"{full.seconds:.1f} s ({full.dbt_elapsed:.1f} s)",
            f"<= {goals.full_s:.0f} s" + ("" if full_goal_applies else f" at {goals.tracks:,} tracks"),
            f"{full.seconds / goals.full_s:.2f}x of the bound",
            _yes(full.seconds <= goals.full_s) if full_goal_applies else "- (smaller scale)",
        )
    )
    lines.append(
        _row(
            f"one-day incremental build (`dbt run`, day {s.days + 1})",
            f"{inc.seconds:.1f} s ({inc.dbt_elapsed:.1f} s)",
            f"<= {goals.incremental_share:.0%} of the full build",
            f"{share:.1%} of the full build ({inc.dbt_elapsed / full.dbt_elapsed:.1%} by dbt's elapsed)",
            _yes(share <= goals.incremental_share),
        )
    )
    peak = max(full.peak_rss_mb, inc.peak_rss_mb)
    if goals.peak_rss_mb is not None:
        lines.append(
            _row(
                "peak RSS, full build",
                f"{full.peak_rss_mb:,.0f} MB",
                f"< {goals.peak_rss_mb:,.0f} MB (both builds)",
                f"{peak / goals.peak_rss_mb:.2f}x of the bound",
                _yes(peak < goals.peak_rss_mb),
            )
        )
    else:
        lines.append(_row("peak RSS, full build", f"{full.peak_rss_mb:,.0f} MB"))
    lines.append(_row("peak RSS, incremental build", f"{inc.peak_rss_mb:,.0f} MB"))
    lines.append(
        _row(
            "the same `dbt run` again, nothing new (start, every model, same lookback)",
            f"{r.idle.seconds:.1f} s ({r.idle.dbt_elapsed:.1f} s)",
            "-",
            f"{idle_share:.1%} of the full build",
        )
    )
    lines.append(
        _row(
            "what the new day adds (one-day incremental minus the run with nothing new)",
            f"{added:+.1f} s",
            f"<= {goals.incremental_share:.0%} of the full build (the goal above, without dbt's fixed cost)",
            f"{added_share:+.1%} of the full build",
            _yes(added_share <= goals.incremental_share),
        )
    )
    lines.append(
        _row(
            "dbt, the 3 dimensions only, rebuilt whole (`--full-refresh --select dim_...`)",
            f"{dims.seconds:.1f} s ({dims.dbt_elapsed:.1f} s)",
        )
    )
    if r.baseline:
        ratio_dims = r.baseline.seconds / dims.seconds
        lines.append(
            _row(
                "pandas baseline (read JSON, drop_duplicates, merge, 3 dimensions to parquet)",
                f"{r.baseline.seconds:.1f} s",
            )
        )
        lines.append(
            _row(
                "pandas ÷ dbt, same 3 dimensions",
                f"{ratio_dims:.1f}x",
                f">= {GOAL_SPEEDUP:.0f}x",
                f"{ratio_dims / GOAL_SPEEDUP:.2f}x of the goal",
                _yes(ratio_dims >= GOAL_SPEEDUP),
            )
        )
        lines.append(
            _row(
                f"pandas (3 dimensions) ÷ dbt full build ({len(r.mart_rows)} marts: dbt does more)",
                f"{r.baseline.seconds / full.seconds:.1f}x",
            )
        )
        lines.append(_row("peak RSS, pandas baseline", f"{r.baseline.peak_rss_mb:,.0f} MB"))
    lines.append(_row("generation: raw schema in DuckDB", f"{r.generate_s:.1f} s"))
    if r.raw_zone_s is not None:
        lines.append(_row("generation: raw zone (gzipped JSON lines)", f"{r.raw_zone_s:.1f} s"))
    appended = "warehouse merge + raw zone" if r.raw_zone_s is not None else "warehouse merge"
    lines.append(_row(f"generation: day {s.days + 1} appended ({appended})", f"{r.append_s:.1f} s"))
    if r.tests:
        lines.append(_row("`dbt test` after the incremental build (all passed)", f"{r.tests.seconds:.1f} s"))

    lines += ["", "Goals:"]
    elapsed_share = inc.dbt_elapsed / full.dbt_elapsed
    floor_share = r.floor.seconds / full.seconds
    lines.append(
        f"- incremental ≤ {goals.incremental_share:.0%} of the full build, wall clock: "
        + ("goal reached" if share <= goals.incremental_share else f"goal not reached ({share:.1%})")
        + f"; by dbt's own elapsed time (the run after the process start): {elapsed_share:.1%}, "
        + ("reached" if elapsed_share <= goals.incremental_share else "not reached")
        + f". Any dbt command costs {r.floor.seconds:.1f} s before its first model ({floor_share:.0%} of this "
        f"full build), and the same run with nothing new takes {r.idle.seconds:.1f} s "
        f"({idle_share:.1%}). The rest of the share is the cost of starting dbt and running "
        f"its {len(r.idle.nodes)} models, whatever arrived."
    )
    lines.append(
        f"- what the new day adds ≤ {goals.incremental_share:.0%} of the full build: "
        + ("goal reached" if added_share <= goals.incremental_share else "goal not reached")
        + f" ({added:+.1f} s, {added_share:+.1%}; one-day incremental {inc.seconds:.1f} s, the same run with "
        f"nothing new {r.idle.seconds:.1f} s)"
    )
    if full_goal_applies:
        lines.append(
            f"- full build at {s.tracks:,} tracks under {goals.full_s:.0f} s: "
            + ("goal reached" if full.seconds <= goals.full_s else f"goal not reached ({full.seconds:.1f} s)")
        )
    else:
        lines.append(
            f"- full build under {goals.full_s:.0f} s: not measured at {goals.tracks:,} tracks (this run: {size})"
        )
    if goals.peak_rss_mb is not None:
        lines.append(
            f"- peak memory under {goals.peak_rss_mb:,.0f} MB: "
            + ("goal reached" if peak < goals.peak_rss_mb else f"goal not reached ({peak:,.0f} MB)")
        )
    if r.baseline:
        ratio_dims = r.baseline.seconds / dims.seconds
        lines.append(
            f"- transform ≥ {GOAL_SPEEDUP:.0f}x faster than pandas (same 3 dimensions): "
            + ("goal reached" if ratio_dims >= GOAL_SPEEDUP else f"goal not reached ({ratio_dims:.1f}x)")
        )
    else:
        lines.append(f"- transform ≥ {GOAL_SPEEDUP:.0f}x faster than pandas: baseline not run at this scale")

    lines += ["", "Details:"]
    lines.append(f"- slowest models, full build (dbt runs 4 at a time, so their times overlap): {_slowest(full)}")
    lines.append(f"- slowest models, incremental build: {_slowest(inc)}")
    in_full = dict(full.nodes)
    lines.append(
        "- the same models, full -> incremental: "
        + ", ".join(f"{name} {in_full.get(name, 0.0):.1f} -> {seconds:.1f} s" for name, seconds in inc.nodes[:5])
    )
    lines.append(
        f"- dbt's fixed cost per command (`dbt run` of one staging view): {r.floor.seconds:.1f} s "
        f"({r.floor.seconds / full.seconds:.0%} of the full build)"
    )
    lines.append(f"- `dbt parse` (warm-up for the partial-parse cache, not counted): {r.parse.seconds:.1f} s")
    if r.baseline:
        p = r.baseline_phases
        lines.append(
            f"- pandas phases: read {p['read_s']:.1f} s ({p['raw_rows']:,} JSON rows), transform "
            f"{p['transform_s']:.1f} s, write {p['write_s']:.1f} s; process total {r.baseline.seconds:.1f} s"
        )
        checks = []
        for dim, (pandas_rows, dbt_rows, differing, skipped) in r.compared.items():
            verdict = "identical" if pandas_rows == dbt_rows and differing == 0 else f"{differing} rows differ"
            unread = f"; not computed by pandas, not compared: {', '.join(skipped)}" if skipped else ""
            checks.append(f"{dim} {pandas_rows:,} vs {dbt_rows:,} ({verdict}{unread})")
        lines.append("- pandas vs dbt dimensions, rows: " + "; ".join(checks))
        lines.append(
            "- dbt reads the warehouse dlt loaded during ingestion (not timed here); pandas parses the raw "
            f"zone's JSON. pandas without its JSON read (transform + write): "
            f"{p['transform_s'] + p['write_s']:.1f} s, {(p['transform_s'] + p['write_s']) / dims.seconds:.1f}x "
            "dbt's dimensions run"
        )
    biggest = sorted(r.raw_rows.items(), key=lambda item: -item[1])[:8]
    lines.append("- raw rows (warehouse, after merge): " + ", ".join(f"{t} {n:,}" for t, n in biggest))
    lines.append(
        f"- day {s.days + 1} brought: " + ", ".join(f"{t} {n:,}" for t, n in r.appended_rows.items() if n >= 1000)
    )
    lines.append("- mart rows: " + ", ".join(f"{m} {n:,}" for m, n in r.mart_rows.items()))
    lines.append(
        "- load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *r.load_before, *r.load_after
        )
    )
    if quick:
        lines.append("- --quick: a development run, not the benchmark's scale.")
    lines += r.notes
    return "\n".join(lines)


def run(
    tracks: int = 100_000,
    days: int = 90,
    quick: bool = False,
    with_tests: bool = False,
    baseline: bool | None = None,
    scale: bool = False,
) -> str:
    """The `## Transform` section: builds, memory, the pandas comparison and the goals.

    `scale`: 1,000,000 tracks x 90 days, held to the scale goals (`SCALE_GOALS`).
    """
    if quick:
        tracks, days = QUICK_TRACKS, QUICK_DAYS
    if scale:
        tracks, days = SCALE_TRACKS, SCALE_DAYS
    from benchmarks.rawgen import Scale

    if baseline is None:
        baseline = tracks <= BASELINE_MAX_TRACKS
    result = measure_all(Scale(tracks=tracks, days=days), with_tests, baseline)
    if not baseline:
        result.notes.append(
            f"- pandas baseline skipped: above {BASELINE_MAX_TRACKS:,} tracks it would not fit in memory "
            "(it holds every JSON row); pass --baseline to force it."
        )
    return report(result, quick, SCALE_GOALS if scale else GOALS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000, help="Catalog tracks (albums /5, artists /10).")
    parser.add_argument("--days", type=int, default=90, help="Days of daily observations before the incremental day.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRACKS:,} tracks, {QUICK_DAYS} days.")
    parser.add_argument(
        "--scale", action="store_true", help=f"{SCALE_TRACKS:,} tracks, {SCALE_DAYS} days, the scale goals."
    )
    parser.add_argument("--with-tests", action="store_true", help="Also run `dbt test` after the incremental build.")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=None, help="Run pandas.")
    parser.add_argument("--pandas-baseline", nargs=2, metavar=("RAW_ZONE", "OUT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.pandas_baseline:
        raw_zone, out = (Path(p) for p in arguments.pandas_baseline)
        print(json.dumps(pandas_baseline(raw_zone, out)))
        return
    print(
        run(
            arguments.tracks,
            arguments.days,
            arguments.quick,
            arguments.with_tests,
            arguments.baseline,
            scale=arguments.scale,
        )
    )


if __name__ == "__main__":
    main()
