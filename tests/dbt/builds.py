"""Running dbt in a subprocess against a stand-in engine, and reading what its nodes did.

dbt runs as a child process with a timeout (a stand-in that cannot answer must not hang the
suite), writing `target/run_results.json` in the project copy, which these helpers read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DBT = Path(sys.executable).parent / "dbt"


def dbt_results(project: Path, target: str, *args: str, timeout: float) -> tuple[int, list[dict]]:
    """Run one dbt command on the copy against `target`; its exit code and the per-node results it wrote."""
    results_file = project / "target" / "run_results.json"
    results_file.unlink(missing_ok=True)
    command = [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project), "--target", target]
    finished = subprocess.run(
        command, env=os.environ.copy(), capture_output=True, text=True, timeout=timeout, check=False
    )
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    if not results:
        raise AssertionError(f"dbt {' '.join(args)} wrote no results:\n{finished.stdout[-3000:]}")
    return finished.returncode, results


def not_passed(results: list[dict]) -> list[tuple[str, str, str]]:
    return [
        (r["unique_id"], r["status"], (r["message"] or "")[:300])
        for r in results
        if r["status"] not in ("success", "pass", "no-op")
    ]


def kinds(results: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def incremental_models(project: Path) -> set[str]:
    nodes = json.loads((project / "target" / "manifest.json").read_text())["nodes"].values()
    return {
        n["unique_id"] for n in nodes if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    }
