"""Lambda artifact: cold import time of the handler, and package size.

Builds the artifact (lambda/build.py) into a temporary folder, then imports `handler` from it
in fresh interpreters that see the artifact and the standard library only (`python -I -S`)
and write no bytecode (`-B`, as in Lambda's read-only code folder): median of 5 runs with the
shipped .pyc files and, for comparison, from a copy without them. One unmeasured run first
puts both copies in the page cache, so both are timed warm from disk. Sizes are those of the
artifact for the Lambda's architecture; the import is timed on a build for this machine's
architecture, since native modules built for another one do not load here.

    python -m benchmarks.bench_lambda [--runs 5] [--arch arm64] [--warehouse athena]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_IMPORT_S = 1.5


def load_build_module():
    """lambda/build.py (`lambda` is a keyword, so the folder is no package)."""
    spec = importlib.util.spec_from_file_location("tunelake_lambda_build", ROOT / "lambda" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = load_build_module()


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    bound: float | None
    note: str = ""

    def line(self) -> str:
        if self.bound is None:
            return f"| {self.name} | {self.value:,.2f} {self.unit} | - | - | - |"
        reached = "yes" if self.value <= self.bound else "NO"
        return (
            f"| {self.name} | {self.value:,.2f} {self.unit} | <= {self.bound:,.1f} {self.unit} "
            f"| {self.value / self.bound:.2f}x of the bound | {reached} |"
        )


IMPORT_TIMER = (
    "import sys, time; sys.path.insert(0, {folder!r}); started = time.perf_counter(); import handler; "
    "print(time.perf_counter() - started)"
)


def import_seconds(folder: Path) -> tuple[float, float]:
    """One fresh interpreter: seconds to import the handler, and the whole process's wall time."""
    command = build.isolated_import_command(folder, "")
    command[-1] = IMPORT_TIMER.format(folder=str(folder))
    environment = {"PATH": os.environ.get("PATH", "")}
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)  # noqa: S603
    return float(result.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def median_import(folder: Path, runs: int) -> tuple[float, float]:
    import_seconds(folder)  # page cache
    samples = [import_seconds(folder) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def import_time_by_package(folder: Path, count: int = 6) -> list[tuple[float, str]]:
    """Where the import spends its time: `-X importtime` self times, summed per top-level package."""
    command = build.isolated_import_command(folder, "import handler")
    command[1:1] = ["-X", "importtime"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| (.*)$", line)
        if match:
            package = match[2].strip().split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match[1]) / 1e6
    return sorted(((seconds, name) for name, seconds in totals.items()), reverse=True)[:count]


def without_bytecode(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def run(runs: int, arch: str, flavor) -> tuple[list[Figure], list[str]]:
    notes = []
    host = build.host_arch()
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as scratch:
        work = Path(scratch)
        shipped = build.build(work, arch, flavor, make_zip=True, name=f"lambda-{arch}")
        notes.append(shipped.summary())
        if host == arch:
            timed = shipped
        elif host is None:
            raise SystemExit(f"cannot time imports on {platform.machine()}")
        else:
            timed = build.build(work, host, flavor, make_zip=False, name=f"lambda-{host}")
            notes.append(
                f"Import timed on the {host} build of the same artifact (same lock, trims and bytecode): "
                f"this host is {platform.machine()}, and the {arch} build's native modules do not load here."
            )
        build.check_import(timed.folder)
        with_pyc, with_pyc_process = median_import(timed.folder, runs)
        source_only = without_bytecode(timed.folder, work / "source-only")
        no_pyc, no_pyc_process = median_import(source_only, runs)
        by_package = import_time_by_package(timed.folder)
    notes.append(
        f"Whole interpreter process (start + import), median: {with_pyc_process:.2f} s with .pyc, "
        f"{no_pyc_process:.2f} s without."
    )
    notes.append(
        "Import time by top-level package with .pyc (self time, one run): "
        + ", ".join(f"{name} {seconds:.2f} s" for seconds, name in by_package)
    )
    figures = [
        Figure(f"cold `import handler`, shipped .pyc (median of {runs})", with_pyc, "s", GOAL_IMPORT_S),
        Figure(f"cold `import handler`, source only (median of {runs})", no_pyc, "s", GOAL_IMPORT_S),
        Figure(f"unzipped size ({arch})", shipped.size_bytes / build.MIB, "MiB", build.LIMIT_BYTES / build.MIB),
        Figure(f"zip size ({arch})", shipped.zip_bytes / build.MIB, "MiB", None),
    ]
    return figures, notes


def report(figures: list[Figure]) -> str:
    lines = ["| Lambda artifact | Measured | Bound | Ratio | Within |", "|---|---|---|---|---|"]
    return "\n".join(lines + [figure.line() for figure in figures])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Fresh interpreters per variant.")
    parser.add_argument("--arch", choices=sorted(build.ARCHES), default=build.DEFAULT_ARCH)
    parser.add_argument("--warehouse", choices=sorted(build.WAREHOUSE_REQUIREMENTS), default="athena")
    arguments = parser.parse_args()
    flavor = build.Flavor(arguments.warehouse)
    figures, notes = run(arguments.runs, arguments.arch, flavor)
    print("\n".join(notes))
    print()
    print(report(figures))


if __name__ == "__main__":
    main()
