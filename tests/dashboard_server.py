"""The dashboard as a real server, for the page tests and the dashboard benchmark (test support).

Both build marts with `dbt build` in a process of its own (run in-process, dbt keeps the DuckDB
file locked against the dashboard) on a copy of the dbt project, never `dbt_project/` itself,
whose `target/` other tests use; then start `streamlit run dashboard/app.py` as `make dashboard`
does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from ingestion.transform import DBT_PROJECT_DIR, PROFILES_TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
# The pages alone, served without the app's start-up warm-up: the dashboard benchmark's "before".
PAGES_SCRIPT = ROOT / "dashboard" / "pages.py"
WAIT_SECONDS = 60.0


def dbt_build(duckdb_path: Path, work: Path) -> None:
    """`dbt build` of a copy of the project (in `work`) over the warehouse at `duckdb_path`."""
    project = work / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    shutil.copyfile(PROFILES_TEMPLATE, project / "profiles.yml")
    dbt = str(Path(sys.executable).with_name("dbt"))
    subprocess.run(
        [dbt, "build", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**os.environ, "TUNELAKE_DUCKDB_PATH": str(duckdb_path), "TUNELAKE_TARGET": "duckdb"},
        check=True,
        capture_output=True,
        timeout=600,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_dashboard(
    duckdb_path: Path, log: Path, script: Path = APP, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """`streamlit run dashboard/app.py` (or `script`) on 127.0.0.1; returns once it answers, with its URL."""
    port = port or free_port()
    with log.open("a") as sink:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("streamlit")),
                "run",
                str(script.relative_to(ROOT) if script.is_relative_to(ROOT) else script),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env={**os.environ, "TUNELAKE_DUCKDB_PATH": str(duckdb_path), "TUNELAKE_TARGET": "duckdb"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                return process, url
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or warming up
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            stop(process)
            raise RuntimeError(f"the dashboard did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
