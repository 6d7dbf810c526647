"""Ingestion: requests and wall time to load a catalog slice from the sandbox, against a tutorial baseline.

The slice (the same in both tiers): a 100,000-track sandbox catalog (seed 42, simulated date
2026-11-01), 50 playlists the app owns or collaborates on (so development mode may read their
items), and as many artists' discographies (artists 0, 7, 14, ...) as bring the distinct tracks
to about 10,000, with every album and artist those tracks and albums name.

The sandbox runs in its own process with 30 ms of latency on every API request, once per tier
(development, extended); its counters count both clients. tunelake runs `ingest()` (fetch, raw
zone, DuckDB warehouse) in a fresh process whose peak resident memory is its `ru_maxrss`, with
16 workers (`tunelake.workers`; the default is 4) and the rate limit raised, as an app with a
raised quota would set them, so that latency and workers are the bound. The
baseline is written as the public tutorials do it: spotipy with client credentials, one call
at a time, one entity per call, ids deduplicated with Python sets (more than most tutorials
do). Its run is cut after `--baseline-seconds` and its wall time extrapolated from the rate it
kept (it sends one request at a time, so each costs about the same); its request count is
computed from the catalog by the same walk, and checked against the sandbox when it finishes.

    python -m benchmarks.bench_ingestion [--quick] [--tracks 10000] [--workers 4] [--baseline-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from ingestion.spotify import settings
from sandbox import Catalog
from sandbox.catalog import SANDBOX_USER_ID
from sandbox.server import SandboxAddress

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 1)
SEED = 42
CATALOG_TRACKS = 100_000
LATENCY_MS = 30.0
PLAYLISTS, TRACKS = 50, 10_000
QUICK_PLAYLISTS, QUICK_TRACKS = 10, 1_000
BASELINE_SECONDS, QUICK_BASELINE_SECONDS = 30.0, 10.0
# High enough that latency and the workers bound the run, not the limiter.
BENCH_REQUESTS_PER_SECOND = 1_000.0
# Concurrent requests. With every request waiting the same latency, tunelake's lead over a
# one-at-a-time client is at most workers x (the baseline's requests / tunelake's): 4 workers
# (the default, sized for the default 5 req/s limit) cap it at 5.3x in development mode.
BENCH_WORKERS = 16
GOAL_SPEEDUP = 10.0
GOAL_REQUESTS_OVER_MINIMUM = 1.05
GOAL_RSS_MB = 500.0
GOAL_RSS_TRACKS = 10_000
TIERS = ("development", "extended")
DISCOGRAPHY_PAGE = settings.ARTIST_ALBUMS_PAGE
PLAYLIST_PAGE = {"development": settings.PAGE, "extended": 100}


# the slice -----------------------------------------------------------------------------------


@dataclass
class Slice:
    """What is tracked (catalog indices) and every entity it reaches."""

    catalog: Catalog
    playlists: list[int]
    artists: list[int]
    playlist_sizes: dict[int, int]
    playlist_tracks: set[int]
    discography: dict[int, list[int]]
    tracks: set[int]
    albums: set[int]
    artist_set: set[int]

    @property
    def entities(self) -> int:
        return len(self.playlists) + len(self.tracks) + len(self.albums) + len(self.artist_set)

    def ids(self, kind: str, indices: list[int]) -> list[str]:
        return [self.catalog.encode_id(kind, i) for i in indices]

    def describe(self) -> str:
        sizes = list(self.playlist_sizes.values())
        return (
            f"{self.catalog.track_count:,}-track sandbox catalog (seed {self.catalog.seed}, {DAY}); "
            f"{len(self.playlists)} playlists the app owns or collaborates on ({min(sizes)} to {max(sizes)} rows, "
            f"{sum(sizes):,} in all: {len(self.playlist_tracks):,} distinct tracks) and {len(self.artists)} artists' "
            f"discographies ({sum(len(a) for a in self.discography.values()):,} albums): {self.entities:,} entities, "
            f"{len(self.playlists)} playlists + {len(self.tracks):,} tracks + {len(self.albums):,} albums + "
            f"{len(self.artist_set):,} artists"
        )


def _owned(catalog: Catalog, playlist: int) -> bool:
    return catalog.playlist_owner(playlist) == SANDBOX_USER_ID or catalog.playlist_is_collaborative(playlist)


def choose_slice(playlists: int, tracks: int, catalog_tracks: int = CATALOG_TRACKS, seed: int = SEED) -> Slice:
    """The first `playlists` readable playlists, then artists' discographies until `tracks` tracks."""
    probe = Catalog(seed=seed, tracks=catalog_tracks, playlists=0)
    chosen = [p for p in range(4 * playlists + 12) if _owned(probe, p)][:playlists]
    catalog = Catalog(seed=seed, tracks=catalog_tracks, playlists=chosen[-1] + 1 if chosen else 0)
    sizes, playlist_tracks = {}, set()
    for playlist in chosen:
        entries = catalog.playlist_entries(playlist, DAY)
        sizes[playlist] = len(entries)
        playlist_tracks |= {e.index for e in entries if e.kind == "track"}
    all_tracks, discography, artists = set(playlist_tracks), {}, []
    step = max(1, catalog.artist_count // 400)
    order = [*range(0, catalog.artist_count, step), *(a for a in range(catalog.artist_count) if a % step)]
    for artist in order:
        if len(all_tracks) >= tracks:
            break
        artists.append(artist)
        discography[artist] = list(catalog.artist_albums(artist))
        all_tracks |= {t for album in discography[artist] for t in catalog.album_tracks(album)}
    albums = {catalog.track_album(t) for t in all_tracks} | {a for d in discography.values() for a in d}
    artist_set = {a for t in all_tracks for a in catalog.track_artists(t)}
    artist_set |= {a for album in albums for a in catalog.album_artists(album)} | set(artists)
    return Slice(catalog, chosen, artists, sizes, playlist_tracks, discography, all_tracks, albums, artist_set)


def _pages(size: int, page: int) -> int:
    return max(1, math.ceil(size / page))


def minimum_requests(s: Slice, tier: str) -> int:
    """The fewest requests a correct client loads the slice with (README, "How a run spends requests").

    A token; each playlist with its first page of items, then the further pages; each
    discography's pages; then albums, the tracks no answer delivered whole (discography
    tracks not in a playlist) and artists: one request each in development mode, batches of
    20 and 50 with extended quota. Albums come with their tracks (at most 50 here).
    """
    page = PLAYLIST_PAGE[tier]
    total = 1 + sum(1 + math.ceil(max(0, n - page) / page) for n in s.playlist_sizes.values())
    total += sum(_pages(len(albums), DISCOGRAPHY_PAGE[tier]) for albums in s.discography.values())
    fetched_tracks = len(s.tracks - s.playlist_tracks)
    if tier == "extended":
        batch = settings.BATCH_SIZE
        return (
            total
            + math.ceil(len(s.albums) / batch["album"])
            + math.ceil(fetched_tracks / batch["track"])
            + math.ceil(len(s.artist_set) / batch["artist"])
        )
    return total + len(s.albums) + fetched_tracks + len(s.artist_set)


def baseline_requests(s: Slice, tier: str) -> int:
    """What `baseline` sends for the slice: its walk, counted from the catalog."""
    total = 1 + sum(1 + _pages(n, PLAYLIST_PAGE[tier]) for n in s.playlist_sizes.values())
    total += sum(_pages(len(albums), DISCOGRAPHY_PAGE[tier]) for albums in s.discography.values())
    return total + len(s.tracks) + len(s.albums) + len(s.artist_set)


# the sandbox, in its own process ---------------------------------------------------------------


def serve_sandbox() -> None:
    """Child process: serve the sandbox (`tier seed tracks playlists latency_ms date` in argv).

    `tunelake sandbox` has no playlist count option; the benchmark needs more than its 12.
    """
    from sandbox import FaultPlan, SandboxApi, SandboxServer

    tier, seed, tracks, playlists, latency, day = sys.argv[1:7]
    catalog = Catalog(seed=int(seed), tracks=int(tracks), playlists=int(playlists))
    api = SandboxApi(catalog, tier=tier, today=date.fromisoformat(day), faults=FaultPlan(latency_ms=float(latency)))
    server = SandboxServer(api, port=0)
    print(server.url, flush=True)
    server.serve_forever()


@dataclass
class Sandbox(SandboxAddress):
    process: subprocess.Popen[str]
    url: str

    def stats(self) -> int:
        rows = requests.get(f"{self.url}/_sandbox/stats", timeout=10).json()["requests"]
        return sum(row["count"] for row in rows)

    def errors(self) -> int:
        rows = requests.get(f"{self.url}/_sandbox/stats", timeout=10).json()["requests"]
        return sum(row["count"] for row in rows if row["status"] != 200)

    def reset(self) -> None:
        requests.post(f"{self.url}/_sandbox/stats/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _python(code: str, *args: str, **popen) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environment, text=True, **popen
    )


def start_sandbox(s: Slice, tier: str, latency_ms: float) -> Sandbox:
    process = _python(
        "from benchmarks.bench_ingestion import serve_sandbox; serve_sandbox()",
        tier,
        str(s.catalog.seed),
        str(CATALOG_TRACKS),
        str(s.catalog.playlist_count),
        str(latency_ms),
        DAY.isoformat(),
        stdout=subprocess.PIPE,
    )
    banner = process.stdout.readline()
    match = re.match(r"(http://127\.0\.0\.1:\d+)", banner)
    if not match:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {banner!r}")
    return Sandbox(process, match[1])


# tunelake, in its own process ---------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest_child() -> None:
    """Child process: one `ingest()` run from the JSON on stdin; prints its figures as JSON."""
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    from ingestion import pipeline
    from ingestion.config import Settings
    from ingestion.pipeline import ingest
    from ingestion.spotify import spotify

    # Where the peak is: noted when the warehouse load starts (fetch and raw zone are done).
    before_warehouse: list[float] = []
    load_warehouse = pipeline.load_warehouse

    def noting_load_warehouse(*args, **kwargs):
        before_warehouse.append(_peak_rss_mb())
        return load_warehouse(*args, **kwargs)

    pipeline.load_warehouse = noting_load_warehouse

    job = json.loads(sys.stdin.read())
    root = Path(job["root"])
    responses: list[float] = []
    source = spotify(
        playlists=job["playlists"],
        artists=job["artists"],
        client_id="bench-client",
        client_secret="bench-secret",  # noqa: S106 (the sandbox accepts any pair)
        api_url=job["api_url"],
        token_url=job["token_url"],
        requests_per_second=job["requests_per_second"],
        workers=job["workers"],
        on_response=lambda: responses.append(time.monotonic()),
    )
    started = time.monotonic()
    summary = ingest(
        Settings(
            raw_zone_url=str(root / "raw"),
            duckdb_path=str(root / "tunelake.duckdb"),
            pipelines_dir=str(root / "pipelines"),
        ),
        source,
    )
    result = {
        "requests": sum(summary.requests.values()),
        "seconds": summary.seconds,
        "fetch_seconds": (max(responses) - started) if responses else 0.0,
        "raw_rows": summary.raw_rows,
        "tier": summary.tier,
        "stopped": summary.stopped,
        "skipped": len(summary.skipped),
        "peak_rss_mb": _peak_rss_mb(),
        "peak_rss_before_warehouse_mb": before_warehouse[0] if before_warehouse else None,
    }
    print(json.dumps(result))


def run_tunelake(s: Slice, sandbox: Sandbox, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as scratch:
        job = {
            "root": scratch,
            "api_url": sandbox.api_url,
            "token_url": sandbox.token_url,
            "requests_per_second": BENCH_REQUESTS_PER_SECOND,
            "workers": workers,
            "playlists": s.ids("playlist", s.playlists),
            "artists": s.ids("artist", s.artists),
        }
        process = _python(
            "from benchmarks.bench_ingestion import ingest_child; ingest_child()",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        out, _ = process.communicate(json.dumps(job), timeout=1_800)
        if process.returncode != 0:
            raise RuntimeError(f"the tunelake run failed (exit {process.returncode})")
    return json.loads(out.strip().splitlines()[-1])


# the baseline: how the tutorials do it ------------------------------------------------------


class _OutOfTimeError(Exception):
    pass


def baseline(api_url: str, token_url: str, tier: str, playlists: list[str], artists: list[str], seconds: float) -> dict:
    """Sequential spotipy calls, one entity per request, as the public tutorials write them.

    Page sizes are the largest each tier accepts (spotipy's defaults of 100 playlist items and
    20 artist albums answer 400 in development mode). Each playlist is read with
    `sp.playlist` and then its items from the first page; each tracked artist's albums with
    `sp.artist_albums` and each of those albums with `sp.album` (its tracks included); then
    every track, album and artist by id, each once. Stops after `seconds`.
    """
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    # The token is kept in memory: spotipy's default file cache (.cache) would outlive the sandbox.
    auth = SpotifyClientCredentials(
        client_id="tutorial-client",
        client_secret="tutorial-secret",  # noqa: S106 (the sandbox takes any secret)
        cache_handler=MemoryCacheHandler(),
    )
    auth.OAUTH_TOKEN_URL = token_url
    sp = spotipy.Spotify(auth_manager=auth, requests_timeout=10)
    sp.prefix = api_url.rstrip("/") + "/"
    deadline = time.monotonic() + seconds
    track_ids: dict[str, None] = {}
    album_ids: dict[str, None] = {}
    artist_ids: dict[str, None] = {}
    rows = {"playlists": [], "tracks": [], "albums": [], "artists": []}
    fetched_albums: set[str] = set()

    def call(fn, *args, **kwargs):
        if time.monotonic() >= deadline:
            raise _OutOfTimeError
        return fn(*args, **kwargs)

    def entity(fn, entity_id: str, **kwargs) -> dict | None:
        # The sandbox, as Spotify, answers 404 for entities it will not serve (a tutorial's script
        # would stop there; the baseline is given the benefit and goes on).
        try:
            return call(fn, entity_id, **kwargs)
        except spotipy.SpotifyException as error:
            if error.http_status == 404:
                return None
            raise

    def add_album(album: dict) -> None:
        fetched_albums.add(album["id"])
        rows["albums"].append({"id": album["id"], "name": album["name"], "release_date": album["release_date"]})
        for artist in album["artists"]:
            artist_ids.setdefault(artist["id"])
        page = album["tracks"]
        while page:
            for track in page["items"]:
                track_ids.setdefault(track["id"])
            page = call(sp.next, page) if page["next"] else None

    started = time.monotonic()
    completed = False
    try:
        for playlist_id in playlists:
            playlist = call(sp.playlist, playlist_id)
            rows["playlists"].append({"id": playlist["id"], "name": playlist["name"]})
            page = call(sp.playlist_items, playlist_id, limit=PLAYLIST_PAGE[tier])
            while page:
                for entry in page["items"]:
                    track = entry.get("item") or entry.get("track")
                    if track and track.get("type") == "track" and track.get("id") and not entry.get("is_local"):
                        track_ids.setdefault(track["id"])
                page = call(sp.next, page) if page["next"] else None
        for artist_id in artists:
            artist_ids.setdefault(artist_id)
            page = entity(
                sp.artist_albums, artist_id, include_groups=settings.DISCOGRAPHY_GROUPS, limit=DISCOGRAPHY_PAGE[tier]
            )
            while page:
                for album in page["items"]:
                    if album["id"] not in fetched_albums and (found := entity(sp.album, album["id"])):
                        add_album(found)
                page = call(sp.next, page) if page["next"] else None
        for track_id in track_ids:
            if not (track := entity(sp.track, track_id)):
                continue
            rows["tracks"].append({"id": track["id"], "name": track["name"], "album_id": track["album"]["id"]})
            album_ids.setdefault(track["album"]["id"])
            for artist in track["artists"]:
                artist_ids.setdefault(artist["id"])
        for album_id in album_ids:
            if album_id not in fetched_albums and (found := entity(sp.album, album_id)):
                add_album(found)
        for artist_id in artist_ids:
            if not (artist := entity(sp.artist, artist_id)):
                continue
            rows["artists"].append({"id": artist["id"], "name": artist["name"], "genres": artist.get("genres")})
        completed = True
    except _OutOfTimeError:
        pass
    return {
        "seconds": time.monotonic() - started,
        "completed": completed,
        "rows": {table: len(found) for table, found in rows.items()},
    }


# the report ---------------------------------------------------------------------------------


@dataclass
class TierResult:
    tier: str
    minimum: int
    entities: int
    tunelake: dict
    tunelake_counted: int
    tunelake_errors: int
    baseline: dict
    baseline_counted: int
    baseline_total: int
    notes: list[str] = field(default_factory=list)

    @property
    def tunelake_rate(self) -> float:
        return self.entities / self.tunelake["seconds"]

    @property
    def baseline_seconds(self) -> float:
        if self.baseline["completed"]:
            return self.baseline["seconds"]
        return self.baseline["seconds"] * self.baseline_total / max(1, self.baseline_counted)

    @property
    def baseline_rate(self) -> float:
        return self.entities / self.baseline_seconds

    @property
    def speedup(self) -> float:
        return self.tunelake_rate / self.baseline_rate


def measure_tier(s: Slice, tier: str, workers: int, baseline_seconds: float, latency_ms: float) -> TierResult:
    sandbox = start_sandbox(s, tier, latency_ms)
    try:
        sandbox.reset()
        tunelake = run_tunelake(s, sandbox, workers)
        counted, errors = sandbox.stats(), sandbox.errors()
        sandbox.reset()
        base = baseline(
            sandbox.api_url,
            sandbox.token_url,
            tier,
            s.ids("playlist", s.playlists),
            s.ids("artist", s.artists),
            baseline_seconds,
        )
        base_counted = sandbox.stats()
    finally:
        sandbox.stop()
    result = TierResult(
        tier,
        minimum_requests(s, tier),
        s.entities,
        tunelake,
        counted,
        errors,
        base,
        base_counted,
        baseline_requests(s, tier),
    )
    expected = {"playlists": len(s.playlists), "tracks": len(s.tracks), "albums": len(s.albums)}
    expected["artists"] = len(s.artist_set)
    loaded = {table: tunelake["raw_rows"].get(table, 0) for table in expected}
    if loaded != expected or tunelake["stopped"] or tunelake["tier"] != tier:
        result.notes.append(
            f"tunelake loaded {loaded} (tier {tunelake['tier']}, stopped {tunelake['stopped']}), expected {expected}"
        )
    if counted != tunelake["requests"]:
        result.notes.append(f"tunelake counted {tunelake['requests']} requests, the sandbox {counted}")
    if errors:
        result.notes.append(f"{errors} tunelake requests were not answered 200")
    if base["completed"] and (base_counted != result.baseline_total or base["rows"] != expected):
        result.notes.append(
            f"the baseline sent {base_counted} requests (computed {result.baseline_total}) for rows {base['rows']}"
        )
    return result


def _ratio(value: float, goal: float, higher_is_better: bool) -> str:
    reached = value >= goal if higher_is_better else value <= goal
    return "reached" if reached else "NOT reached"


def tier_table(r: TierResult, workers: int) -> str:
    t, b = r.tunelake, r.baseline
    t_requests, b_requests = t["requests"], r.baseline_total
    t_rate, b_rate = t_requests / t["seconds"], b_requests / r.baseline_seconds
    default_rate = settings.REQUESTS_PER_SECOND
    baseline_wall = (
        f"{r.baseline_seconds:,.1f}"
        if b["completed"]
        else f"{r.baseline_seconds:,.0f} (extrapolated: {r.baseline_counted:,} requests in {b['seconds']:.1f} s)"
    )
    rows = [
        ("requests (counted by the sandbox)", f"{r.tunelake_counted:,}", _baseline_requests_cell(r)),
        ("minimum requests", f"{r.minimum:,}", f"{r.minimum:,}"),
        ("requests ÷ minimum", f"{t_requests / r.minimum:.3f}x", f"{b_requests / r.minimum:.2f}x"),
        ("requests per entity", f"{t_requests / r.entities:.3f}", f"{b_requests / r.entities:.3f}"),
        (
            "wall s",
            f"{t['seconds']:,.1f} (fetching until the last answer: {t['fetch_seconds']:,.1f})",
            baseline_wall,
        ),
        ("entities", f"{r.entities:,}", f"{r.entities:,}"),
        ("entities/s", f"{r.tunelake_rate:,.1f}", f"{r.baseline_rate:,.1f}"),
        ("ratio to the baseline", f"{r.speedup:.1f}x", "1.0x"),
        ("achieved req/s", f"{t_rate:,.1f}", f"{b_rate:,.1f}"),
        (
            "achieved req/s ÷ configured rate limit",
            f"{t_rate / BENCH_REQUESTS_PER_SECOND:.3f} of {BENCH_REQUESTS_PER_SECOND:,.0f} req/s ({workers} workers)",
            "no limiter",
        ),
        (
            f"achieved req/s ÷ default rate limit ({default_rate:.0f} req/s)",
            f"{t_rate / default_rate:.1f}x",
            f"{b_rate / default_rate:.1f}x",
        ),
        (
            f"entities/s at {default_rate:.0f} req/s (the real bound)",
            f"{default_rate * r.entities / t_requests:,.1f} ({t_requests / default_rate / 60:,.1f} min)",
            f"{default_rate * r.entities / b_requests:,.1f} ({b_requests / default_rate / 60:,.1f} min)",
        ),
        ("peak RSS (limit 500 MB)", f"{t['peak_rss_mb']:,.0f} MB", "-"),
        (
            "peak RSS before the warehouse load (fetch, raw zone)",
            f"{t['peak_rss_before_warehouse_mb']:,.0f} MB",
            "-",
        ),
    ]
    lines = [f"### {r.tier} tier", "", "| | tunelake | tutorial baseline |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b_} |" for name, a, b_ in rows]
    return "\n".join(lines)


def _baseline_requests_cell(r: TierResult) -> str:
    if r.baseline["completed"]:
        return f"{r.baseline_counted:,}"
    return f"{r.baseline_total:,} (computed; {r.baseline_counted:,} counted before the cut)"


def goals(results: list[TierResult], s: Slice, workers: int) -> list[str]:
    lines = []
    for r in results:
        over_minimum = r.tunelake["requests"] / r.minimum
        # Every request waits the same latency: `workers` at a time against one at a time.
        ceiling = workers * r.baseline_total / r.tunelake["requests"]
        lines.append(
            f"- {r.tier}: entities/s at least {GOAL_SPEEDUP:.0f}x the baseline's: {r.speedup:.1f}x, "
            f"{_ratio(r.speedup, GOAL_SPEEDUP, True)} (latency-bound ceiling with {workers} workers: "
            f"{workers} x {r.baseline_total:,} / {r.tunelake['requests']:,} requests = {ceiling:.1f}x)"
        )
        lines.append(
            f"- {r.tier}: requests at most {GOAL_REQUESTS_OVER_MINIMUM}x the minimum: {over_minimum:.3f}x, "
            f"{_ratio(over_minimum, GOAL_REQUESTS_OVER_MINIMUM, False)}"
        )
    peak = max(r.tunelake["peak_rss_mb"] for r in results)
    scope = (
        ""
        if len(s.tracks) >= GOAL_RSS_TRACKS
        else f" (measured on {len(s.tracks):,} tracks only, not the goal's {GOAL_RSS_TRACKS:,})"
    )
    lines.append(
        f"- peak memory of a {len(s.tracks):,}-track ingestion under {GOAL_RSS_MB:.0f} MB: {peak:,.0f} MB, "
        f"{_ratio(peak, GOAL_RSS_MB, False)}{scope}"
    )
    return lines


def run(
    quick: bool = False,
    tracks: int | None = None,
    workers: int = BENCH_WORKERS,
    baseline_seconds: float | None = None,
    latency_ms: float = LATENCY_MS,
) -> str:
    """Measure both tiers and return the `## Ingestion` markdown section."""
    started = time.monotonic()
    load_before = os.getloadavg()
    s = choose_slice(QUICK_PLAYLISTS if quick else PLAYLISTS, tracks or (QUICK_TRACKS if quick else TRACKS))
    cap = baseline_seconds or (QUICK_BASELINE_SECONDS if quick else BASELINE_SECONDS)
    results = [measure_tier(s, tier, workers, cap, latency_ms) for tier in TIERS]
    load_after = os.getloadavg()
    lines = [
        "## Ingestion",
        "",
        f"Slice: {s.describe()}. Sandbox in its own process, {latency_ms:.0f} ms added to every API request. "
        f"tunelake: `ingest()` (fetch, raw zone, DuckDB warehouse) in its own process, {workers} workers, "
        f"rate limit raised to {BENCH_REQUESTS_PER_SECOND:,.0f} req/s so that latency and workers bound it; wall "
        "time is the whole `ingest()` call. Baseline: tutorial-style spotipy, one request at a time, one entity "
        "per request (every track, album and artist by id, no batch endpoint even with extended quota), ids "
        "deduplicated; it only fetches (no files, no warehouse). "
        + (
            f"It is cut after {cap:.0f} s and its wall time extrapolated from the rate it kept."
            if not all(r.baseline["completed"] for r in results)
            else "It ran to the end."
        ),
        "",
    ]
    for r in results:
        lines += [tier_table(r, workers), ""]
        lines += [f"Check: {note}" for note in r.notes]
        if r.notes:
            lines.append("")
    lines += ["Goals:", "", *goals(results, s, workers), ""]
    lines.append(
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"{time.monotonic() - started:.0f} s in all on {os.cpu_count()} cores."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_PLAYLISTS} playlists, {QUICK_TRACKS:,} tracks by default."
    )
    parser.add_argument("--tracks", type=int, default=None, help=f"Tracks in the slice (default {TRACKS:,}).")
    parser.add_argument("--workers", type=int, default=BENCH_WORKERS, help="tunelake's workers.")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help=f"Cut the baseline after this (default {BASELINE_SECONDS:.0f}).",
    )
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS, help="Latency the sandbox adds per request.")
    arguments = parser.parse_args()
    print(run(arguments.quick, arguments.tracks, arguments.workers, arguments.baseline_seconds, arguments.latency_ms))


if __name__ == "__main__":
    main()
