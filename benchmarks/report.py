"""`make bench`: every benchmark in one run, written to a markdown report with the machine and versions.

Each part compares within the run: tunelake against a baseline done the way public tutorials do
it, or a figure against its bound; every figure is given in its unit and as a ratio.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "artifacts" / "bench-report.md"
SCALE_REPORT = REPORT.with_name("bench-scale-report.md")
VERSIONS = ("dlt", "dbt-core", "dbt-duckdb", "duckdb", "spotipy", "pyarrow", "pandas", "sqlglot")


def machine() -> list[str]:
    cpu_lines = [line for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")]
    cpu = cpu_lines[0].split(":", 1)[1].strip() if cpu_lines else platform.processor() or platform.machine()
    memory = next((line.split()[1] for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), "0")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {int(memory) / 1024**2:.0f} GiB, {platform.system()} "
        f"{platform.release()} ({platform.machine()})",
        f"- Load average when the run started: {load[0]:.2f} (1 min)",
        f"- Python {platform.python_version()}; " + ", ".join(f"{name} {_version(name)}" for name in VERSIONS),
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def lambda_section() -> str:
    from benchmarks import bench_lambda

    build = bench_lambda.build
    figures, notes = bench_lambda.run(5, build.DEFAULT_ARCH, build.Flavor("athena"))
    return "\n\n".join(["## Lambda", "\n".join(f"- {note}" for note in notes), bench_lambda.report(figures)])


def sandbox_section(quick: bool) -> str:
    from benchmarks import bench_sandbox

    figures = bench_sandbox.run(2.0 if quick else 5.0, 100_000 if quick else 1_000_000)
    return "## Sandbox API\n\n" + bench_sandbox.report(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes, for trying the suite out.")
    parser.add_argument("--tracks", type=int, default=100_000, help="Tracks of the transform benchmark's raw zone.")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="Only the transform at 1,000,000 tracks x 90 days, which does not fit in the suite's 20 minutes "
        f"(report: {SCALE_REPORT.name}).",
    )
    parser.add_argument("--out", type=Path, help=f"Where to write the report (default {REPORT.name}).")
    arguments = parser.parse_args()
    arguments.out = arguments.out or (SCALE_REPORT if arguments.scale else REPORT)

    from benchmarks import (
        bench_compaction,
        bench_dashboard,
        bench_history,
        bench_ingestion,
        bench_raw_history,
        bench_state,
        bench_transform,
    )

    parts: list[tuple[str, Callable[[], str]]] = [
        ("ingestion", lambda: bench_ingestion.run(quick=arguments.quick)),
        ("transform", lambda: bench_transform.run(tracks=arguments.tracks, quick=arguments.quick)),
        ("lambda", lambda_section),
        (
            "privacy-export import",
            lambda: "## Privacy-export import\n\n" + bench_history.run(15_000 if arguments.quick else 150_000),
        ),
        ("history", lambda: bench_raw_history.run(quick=arguments.quick)),
        ("compaction", lambda: bench_compaction.run(quick=arguments.quick)),
        ("dashboard", lambda: bench_dashboard.run(quick=arguments.quick)),
        ("state", lambda: bench_state.run(quick=arguments.quick)),
        ("sandbox API", lambda: sandbox_section(arguments.quick)),
    ]
    if arguments.scale:
        parts = [("transform at scale", lambda: bench_transform.run(scale=True))]
    started = time.monotonic()
    header = ["# tunelake benchmarks", "", f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", *machine()]
    sections, failed = [], []
    for number, (name, part) in enumerate(parts, 1):
        print(f"[{number}/{len(parts)}] {name} ...", file=sys.stderr, flush=True)
        part_started = time.monotonic()
        try:
            sections.append(part())
        except Exception:  # one broken part must not hide the others' figures
            failed.append(name)
            sections.append(f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()}```")
        print(f"[{number}/{len(parts)}] {name}: {time.monotonic() - part_started:.0f} s", file=sys.stderr, flush=True)
    bound = "" if arguments.scale else " (bound: 20 minutes)"
    header.append(f"- Whole suite: {time.monotonic() - started:.0f} s{bound}")
    text = "\n".join(header) + "\n\n" + "\n\n".join(sections) + "\n"
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(text)
    print(text)
    print(f"Report written to {arguments.out}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
