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


def run_ingest(env: dict[str, str], cwd, kill_after: float | None) -> int | None:
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
        return process.returncode
    try:
        return process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return None


@pytest.mark.e2e
def test_an_ingestion_killed_five_times_ends_with_the_rows_of_a_clean_run(start_sandbox, tmp_path):
    clean_server, server = start_sandbox(), start_sandbox()
    clean, killed = other_settings(tmp_path, "clean"), other_settings(tmp_path, "killed")
    ingest(clean, source_for(clean_server))
    # A little latency spreads the run out, so the kills land in every phase of it.
    server.api.faults.configure({"latency_ms": 4})
    env = environment(server, killed)

    started = time.monotonic()
    assert run_ingest(env, tmp_path, kill_after=None) == 0
    full_run = time.monotonic() - started
    # Start again from nothing, now with the kills.
    for path in (killed.raw_zone_url, killed.pipelines_dir):
        subprocess.run(["rm", "-rf", path], check=True)
    os.remove(killed.duckdb_path)

    chooser = random.Random(2026)
    outcomes = []
    for _ in range(KILLS):
        outcomes.append(run_ingest(env, tmp_path, kill_after=chooser.uniform(0.5, full_run)))
    assert outcomes.count(None) >= 3, f"most runs should have been killed mid-way: {outcomes}"
    assert run_ingest(env, tmp_path, kill_after=None) == 0
    assert mart_rows(killed) == mart_rows(clean)
