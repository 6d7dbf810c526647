"""`tunelake ingest` killed with SIGKILL at random points and restarted ends like a clean run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.pipeline import ingest
from tests.support import ALBUMS, ARTISTS, QUERIES, cli_environment, mart_rows, other_settings, source_for

KILLS = 5
MAX_ATTEMPTS = 12


def environment(server, settings) -> dict[str, str]:
    catalog = server.api.catalog
    return {
        **os.environ,
        **cli_environment(
            server,
            Path(settings.raw_zone_url).parent,
            playlists=[catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
            artists=[catalog.encode_id("artist", a) for a in ARTISTS],
            albums=[catalog.encode_id("album", a) for a in ALBUMS],
            queries=list(QUERIES),
        ),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }


def run_ingest(env: dict[str, str], cwd, kill_after: float | None) -> tuple[int | None, float]:
    """Run `tunelake ingest`; with `kill_after`, SIGKILL it then if it is still running.

    Returns its exit code (None when killed) and how long it ran.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "ingest"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if kill_after is None:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output[-3000:]
        return process.returncode, time.monotonic() - started
    try:
        return process.wait(timeout=kill_after), time.monotonic() - started
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return None, time.monotonic() - started


@pytest.mark.e2e
def test_an_ingestion_killed_five_times_ends_with_the_rows_of_a_clean_run(start_sandbox, tmp_path):
    clean_server, server = start_sandbox(), start_sandbox()
    clean, killed = other_settings(tmp_path, "clean"), other_settings(tmp_path, "killed")
    ingest(clean, source_for(clean_server))
    # A little latency spreads the run out, so the kills land in every phase of it.
    server.api.faults.configure({"latency_ms": 4})
    env = environment(server, killed)

    code, full_run = run_ingest(env, tmp_path, kill_after=None)
    assert code == 0
    # Start again from nothing, now with the kills.
    for path in (killed.raw_zone_url, killed.pipelines_dir):
        subprocess.run(["rm", "-rf", path], check=True)
    os.remove(killed.duckdb_path)

    # A run resumed after a kill has less left to do, and may finish before its kill: each kill
    # lands within the last finished run's length, until KILLS runs were killed.
    chooser = random.Random(2026)
    outcomes: list[int | None] = []
    longest = full_run
    while outcomes.count(None) < KILLS and len(outcomes) < MAX_ATTEMPTS:
        code, seconds = run_ingest(env, tmp_path, kill_after=chooser.uniform(0.5, longest))
        outcomes.append(code)
        assert code in (None, 0), f"a run after a kill failed: {outcomes}"
        if code == 0:
            longest = seconds
    assert outcomes.count(None) == KILLS, f"every run finished before its kill: {outcomes}"
    assert outcomes[0] is None, "the first kill should land in a run with everything to fetch"
    assert run_ingest(env, tmp_path, kill_after=None)[0] == 0
    assert mart_rows(killed) == mart_rows(clean)
