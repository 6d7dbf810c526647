"""Sandbox API throughput and memory.

The server runs in its own process pinned to one core (core 0) with a 1,000,000-track
catalog; the load comes from this process, pinned to the other core, over keep-alive
connections. Reports single-entity GETs per second per endpoint and the server's peak
resident memory, against the goals (2,000 GETs/s on one core, 500 MB).

    python -m benchmarks.bench_sandbox [--seconds 5] [--tracks 1000000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import Catalog

GOAL_GETS_PER_S = 2_000
GOAL_RSS_MB = 500
CLIENT_THREADS = 4


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    goal: float
    higher_is_better: bool

    @property
    def reached(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def line(self) -> str:
        ratio = self.value / self.goal
        relation = "of the goal" if self.higher_is_better else "of the limit"
        return (
            f"| {self.name} | {self.value:,.0f} {self.unit} | {'>=' if self.higher_is_better else '<='} "
            f"{self.goal:,.0f} {self.unit} | {ratio:.2f}x {relation} | {'yes' if self.reached else 'NO'} |"
        )


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and core < os.cpu_count():
        os.sched_setaffinity(0, {core})


def start_server(tracks: int, seed: int) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "ingestion.cli",
        "sandbox",
        "--port",
        "0",
        "--tracks",
        str(tracks),
        "--seed",
        str(seed),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: _pin(0))  # noqa: S603
    banner = process.stdout.readline()
    match = re.search(r"http://(127\.0\.0\.1):(\d+)", banner)
    if not match:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {banner!r}")
    return process, f"{match[1]}:{match[2]}"


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def token(address: str) -> str:
    connection = http.client.HTTPConnection(address)
    connection.request(
        "POST",
        "/api/token",
        body="grant_type=client_credentials&client_id=bench&client_secret=bench",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return json.loads(connection.getresponse().read())["access_token"]


def load(address: str, paths: list[str], access_token: str, seconds: float) -> tuple[float, int]:
    """GETs per second over `seconds`, and the number of non-200 answers."""
    counts, failures = [0] * CLIENT_THREADS, [0] * CLIENT_THREADS

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(address)
        headers = {"Authorization": f"Bearer {access_token}"}
        deadline, done = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            connection.request("GET", paths[(slot + done * CLIENT_THREADS) % len(paths)], headers=headers)
            response = connection.getresponse()
            response.read()
            failures[slot] += response.status != 200
            done += 1
        counts[slot] = done

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(CLIENT_THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


def run(seconds: float, tracks: int, seed: int = 42) -> list[Figure]:
    _pin(1)
    catalog = Catalog(seed=seed, tracks=tracks)
    process, address = start_server(tracks, seed)
    figures = []
    try:
        access_token = token(address)
        for kind in ("track", "album", "artist"):
            count = catalog.count(kind)
            # Entities the sandbox serves (it withholds a few with a 404, as Spotify does).
            indexes = ((k * 7919) % count for k in range(50_000))
            paths = [f"/v1/{kind}s/{catalog.encode_id(kind, i)}" for i in indexes if not catalog.is_withheld(kind, i)]
            rate, failed = load(address, paths, access_token, seconds)
            if failed:
                raise RuntimeError(f"{failed} GET /v1/{kind}s/{{id}} answers were not 200")
            figures.append(Figure(f"GET /v1/{kind}s/{{id}}, server on 1 core", rate, "req/s", GOAL_GETS_PER_S, True))
        figures.append(
            Figure(
                f"peak RSS, {catalog.track_count:,}-track catalog", peak_rss_mb(process.pid), "MB", GOAL_RSS_MB, False
            )
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    return figures


def report(figures: list[Figure]) -> str:
    lines = ["| Sandbox API | Measured | Goal | Ratio | Reached |", "|---|---|---|---|---|"]
    return "\n".join(lines + [figure.line() for figure in figures])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Load duration per endpoint.")
    parser.add_argument("--tracks", type=int, default=1_000_000, help="Catalog size.")
    arguments = parser.parse_args()
    print(report(run(arguments.seconds, arguments.tracks)))


if __name__ == "__main__":
    main()
