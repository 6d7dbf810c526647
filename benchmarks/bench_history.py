"""Privacy-export import: rows per second and peak memory for ten years of heavy listening.

Writes an extended streaming history of 150,000 streams (about 100 MB of JSON, in files of about
12 MB as Spotify cuts them, zipped as Spotify sends them), then times `tunelake import-history`
into an empty raw zone and DuckDB warehouse in its own process, against the goals (under a
minute, well under 1 GB). Its CPU time is given too: on a busy machine the wall time grows, the
CPU time hardly.

    python -m benchmarks.bench_history [--streams 150000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from ingestion.project import PROJECT_VARIABLE
from sandbox import export

GOAL_SECONDS = 60
GOAL_RSS_MB = 1024
STREAMS_PER_FILE = 18_000  # about 12 MB of JSON, the size of Spotify's files


def write_export(root: Path, streams: int) -> tuple[Path, int]:
    """The zip and the bytes of JSON it holds."""
    files = {
        f"Spotify Extended Streaming History/Streaming_History_Audio_{n}.json": export.extended(
            min(STREAMS_PER_FILE, streams - first), first=first, old=n % 2 == 1
        )
        for n, first in enumerate(range(0, streams, STREAMS_PER_FILE))
    }
    path = export.write_zip(root / "my_spotify_data.zip", files)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    return path, unpacked


def run(streams: int = 150_000) -> str:
    with tempfile.TemporaryDirectory(prefix="tunelake-bench-history-") as folder:
        root = Path(folder)
        path, unpacked = write_export(root, streams)
        environment = os.environ | {
            "TUNELAKE__RAW_ZONE_URL": str(root / "raw"),
            "TUNELAKE__DUCKDB_PATH": str(root / "tunelake.duckdb"),
            "TUNELAKE__PIPELINES_DIR": str(root / "pipelines"),
            PROJECT_VARIABLE: str(root),
        }
        started = time.monotonic()
        with (root / "import.log").open("w+") as log:
            process = subprocess.Popen(  # noqa: S603 (this interpreter, a path it wrote)
                [sys.executable, "-m", "ingestion.cli", "import-history", str(path)],
                cwd=root,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            # This process's own figures (and its children's), not every child the caller ever waited for:
            # `make bench` runs the other parts' processes before this one.
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.monotonic() - started
            log.seek(0)
            output = log.read()
        returncode = os.waitstatus_to_exitcode(status)
        peak_mb = usage.ru_maxrss / 1024
        # What the import itself computed: unlike the wall time, barely moved by other work on the machine.
        cpu_seconds = usage.ru_utime + usage.ru_stime
    if returncode != 0:
        raise RuntimeError(f"import-history exited {returncode}: {output[-2000:]}")
    rate = streams / seconds
    return "\n".join(
        [
            f"{streams:,} streams, {unpacked / 1e6:.0f} MB of JSON in {len(range(0, streams, STREAMS_PER_FILE))} "
            "files, zipped; imported into an empty raw zone and DuckDB warehouse (one process, timed whole).",
            "",
            "| Figure | Value | Goal | Ratio | Reached |",
            "|---|---|---|---|---|",
            f"| Wall time | {seconds:.1f} s | <= {GOAL_SECONDS} s | {seconds / GOAL_SECONDS:.2f}x of the limit | "
            f"{'yes' if seconds <= GOAL_SECONDS else 'NO'} |",
            f"| Rows per second | {rate:,.0f} | >= {streams / GOAL_SECONDS:,.0f} | "
            f"{rate / (streams / GOAL_SECONDS):.2f}x of the goal | {'yes' if seconds <= GOAL_SECONDS else 'NO'} |",
            f"| CPU time (user + system) | {cpu_seconds:.1f} s | | {cpu_seconds / seconds:.2f}x the wall time | |",
            f"| Peak memory (RSS) | {peak_mb:,.0f} MB | <= {GOAL_RSS_MB:,} MB | "
            f"{peak_mb / GOAL_RSS_MB:.2f}x of the limit | {'yes' if peak_mb <= GOAL_RSS_MB else 'NO'} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=150_000)
    print(run(parser.parse_args().streams))


if __name__ == "__main__":
    main()
