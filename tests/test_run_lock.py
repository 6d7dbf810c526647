"""One run at a time per raw zone (ingestion/run_lock.py): the CLI, the sandbox API, DuckDB and moto's S3, all real."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion import run_lock
from ingestion.cli import EXIT_LOCKED
from ingestion.config import Settings
from ingestion.errors import ConfigurationError, RunInProgressError
from ingestion.pipeline import ingest
from ingestion.project import PROJECT_VARIABLE
from ingestion.run_lock import LOCK_NAME
from sandbox import export as exports
from tests.conftest import S3_BUCKET
from tests.support import ALBUMS, ARTISTS, QUERIES, cli_environment, mart_rows, other_settings, source_for, stats

ROOT = Path(__file__).resolve().parents[1]
# A process that takes the raw zone's lock, says so, and keeps it until it is killed.
HOLD = """
import sys, time
from ingestion import run_lock
with run_lock.hold(sys.argv[1], "ingest"):
    print("held", flush=True)
    time.sleep(600)
"""


@dataclass
class Ended:
    pid: int
    code: int
    seconds: float
    # CPU seconds the process used: how much of `seconds` was its own work on a busy machine.
    cpu: float
    output: str


def environment(server, root: Path) -> dict[str, str]:
    """`tunelake ingest`'s environment: the whole sandbox catalog tracked, data under `root`."""
    catalog = server.api.catalog
    return {
        **os.environ,
        **cli_environment(
            server,
            root,
            playlists=[catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
            artists=[catalog.encode_id("artist", a) for a in ARTISTS],
            albums=[catalog.encode_id("album", a) for a in ALBUMS],
            queries=list(QUERIES),
        ),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }


def tunelake(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_all(processes: list[subprocess.Popen[str]], started: float, timeout: float = 300) -> list[Ended]:
    """Each process's exit code, output, and wall and CPU seconds from `started` to its end (measured as it ends).

    CPU seconds: the growth of the reaped children's usage as each one is reaped, so the
    processes must be the only children started since `started`.
    """
    ended: dict[int, tuple[float, float]] = {}
    cpu = children_cpu()
    while len(ended) < len(processes) and time.monotonic() - started < timeout:
        for process in processes:
            if process.pid not in ended and process.poll() is not None:
                now = children_cpu()
                ended[process.pid], cpu = (time.monotonic() - started, now - cpu), now
        time.sleep(0.02)
    results = []
    for process in processes:
        output, _ = process.communicate(timeout=10)
        results.append(Ended(process.pid, process.returncode, *ended[process.pid], output))
    return results


@pytest.fixture
def holder(settings):
    """Another process holding the raw zone's lock, as a run in progress does; killed afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, settings.raw_zone_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait(timeout=10)


# --- a local raw zone ---------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_two_ingests_started_together_one_runs_the_other_exits_locked_without_a_request(start_sandbox, tmp_path):
    clean_server, server = start_sandbox(), start_sandbox()
    clean, together = other_settings(tmp_path, "clean"), other_settings(tmp_path, "together")
    ingest(clean, source_for(clean_server))
    # A little latency: the running ingestion lasts well beyond the other process's start-up.
    server.api.faults.configure({"latency_ms": 4})
    env = environment(server, tmp_path / "together")

    started = time.monotonic()
    ended = wait_all([tunelake(env, tmp_path, "ingest"), tunelake(env, tmp_path, "ingest")], started)

    codes = sorted(e.code for e in ended)
    assert codes == [0, EXIT_LOCKED], [e.output[-3000:] for e in ended]
    (ran,) = [e for e in ended if e.code == 0]
    (refused,) = [e for e in ended if e.code == EXIT_LOCKED]
    load = os.getloadavg()[0]
    assert refused.seconds < 5, f"{refused.seconds:.1f} s ({refused.cpu:.1f} s of CPU, load average {load:.1f})"
    assert "Traceback" not in refused.output
    assert f"raw zone {together.raw_zone_url}" in refused.output
    assert f"pid {ran.pid}," in refused.output
    # Every request the sandbox answered is one the finished run counted: the refused run sent none.
    requests = int(re.search(r"Ingestion finished\. [\d.]+ s, (\d+) requests", ran.output)[1])
    assert sum(stats(server).values()) == requests
    assert not Path(together.raw_zone_url, LOCK_NAME).exists()
    assert mart_rows(together) == mart_rows(clean)


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_run_holding_the_raw_zone_refuses_another_and_a_killed_ones_lock_is_taken_over(sandbox, settings, holder):
    with pytest.raises(RunInProgressError) as refused:
        ingest(settings, source_for(sandbox))
    message = str(refused.value)
    assert settings.raw_zone_url in message
    assert f"pid {holder.pid}," in message
    assert "released when that process ends" in message
    assert stats(sandbox) == {}

    # kill -9: no `finally` runs, the file stays with the dead run's pid in it.
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    left = Path(settings.raw_zone_url, LOCK_NAME)
    assert json.loads(left.read_text())["pid"] == holder.pid

    summary = ingest(settings, source_for(sandbox))
    assert summary.warehouse_rows["tracks"] > 0
    assert not left.exists()


@pytest.mark.timeout(300)
def test_import_history_is_refused_with_its_exit_code_while_an_ingestion_runs(settings, holder, tmp_path):
    export = tmp_path / "Streaming_History_Audio_2026.json"
    export.write_text(json.dumps(exports.extended(5)))
    env = {
        **os.environ,
        "TUNELAKE__RAW_ZONE_URL": settings.raw_zone_url,
        "TUNELAKE__DUCKDB_PATH": settings.duckdb_path,
        "TUNELAKE__PIPELINES_DIR": settings.pipelines_dir,
        PROJECT_VARIABLE: str(tmp_path),
    }
    (ended,) = wait_all([tunelake(env, tmp_path, "import-history", str(export))], time.monotonic())
    assert ended.code == EXIT_LOCKED, ended.output
    assert "Nothing imported" in ended.output
    assert "`tunelake ingest` on host" in ended.output
    assert f"pid {holder.pid}," in ended.output
    assert "Traceback" not in ended.output
    assert not Path(settings.duckdb_path).exists()


@pytest.mark.timeout(120)
def test_runs_racing_for_a_local_lock_never_hold_it_together(tmp_path):
    """Threads taking and releasing the lock as fast as they can: one holder at a time, always."""
    url = str(tmp_path / "raw")
    holding, most, taken, refused = [0], [0], [0], [0]
    count = threading.Lock()

    def runs() -> None:
        for _ in range(100):
            try:
                with run_lock.hold(url, "ingest"):
                    with count:
                        holding[0] += 1
                        most[0] = max(most[0], holding[0])
                        taken[0] += 1
                    time.sleep(0.0005)
                    with count:
                        holding[0] -= 1
            except RunInProgressError:
                with count:
                    refused[0] += 1

    threads = [threading.Thread(target=runs) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    # They did race: some took the lock, others found it held.
    assert taken[0] > 0
    assert refused[0] > 0
    assert not Path(url, LOCK_NAME).exists()


def test_ctrl_c_releases_the_lock(tmp_path):
    url = str(tmp_path / "raw")
    with pytest.raises(KeyboardInterrupt), run_lock.hold(url, "ingest"):
        raise KeyboardInterrupt
    assert not Path(url, LOCK_NAME).exists()
    with run_lock.hold(url, "ingest"):
        pass


def test_a_run_taking_its_own_lock_again_keeps_it_until_its_outer_hold_ends(tmp_path):
    """The CLI holds the lock before its imports and `ingest` holds it again: the inner hold must not
    refuse its own run, nor release the lock another run would then take mid-run."""
    url = str(tmp_path / "raw")

    def another_run_is_refused() -> bool:
        outcome: list[bool] = []

        def attempt() -> None:
            try:
                with run_lock.hold(url, "ingest"):
                    outcome.append(False)
            except RunInProgressError:
                outcome.append(True)

        thread = threading.Thread(target=attempt)
        thread.start()
        thread.join(timeout=30)
        return outcome == [True]

    with run_lock.hold(url, "ingest"):
        with run_lock.hold(url, "ingest"):
            assert another_run_is_refused()
        assert another_run_is_refused()
    assert not Path(url, LOCK_NAME).exists()
    assert not another_run_is_refused()


# --- S3 (moto) ----------------------------------------------------------------------------------


def s3_settings(tmp_path, duckdb_path: str | None = None) -> Settings:
    return Settings(
        raw_zone_url=f"s3://{S3_BUCKET}/raw",
        duckdb_path=duckdb_path or str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def lock_body(expires_in: timedelta) -> bytes:
    """The lock object another run (a Lambda invocation) wrote."""
    now = datetime.now(UTC)
    return json.dumps(
        {
            "host": "169.254.10.1",
            "pid": 8,
            "command": "ingest",
            "started_at": (now - timedelta(minutes=12)).isoformat(timespec="seconds"),
            "expires_at": (now + expires_in).isoformat(timespec="seconds"),
        }
    ).encode()


def lock_keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=S3_BUCKET, Prefix=f"raw/{LOCK_NAME}").get("Contents", [])]


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_an_s3_lock_refuses_while_it_holds_and_is_taken_over_once_expired(s3, sandbox, tmp_path):
    settings = s3_settings(tmp_path)
    held = lock_body(timedelta(minutes=5))
    s3.put_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}", Body=held)
    with pytest.raises(RunInProgressError) as refused:
        ingest(settings, source_for(sandbox))
    message = str(refused.value)
    assert f"s3://{S3_BUCKET}/raw/{LOCK_NAME}" in message
    assert "host 169.254.10.1, pid 8," in message
    assert json.loads(held)["expires_at"] in message
    assert stats(sandbox) == {}
    assert s3.get_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}")["Body"].read() == held

    # The invocation was killed at its timeout: its lock expired a minute ago.
    s3.put_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}", Body=lock_body(-timedelta(minutes=1)))
    summary = ingest(settings, source_for(sandbox))
    assert summary.warehouse_rows["tracks"] > 0
    assert lock_keys(s3) == []


@pytest.mark.timeout(120)
def test_an_s3_lock_is_created_by_one_run_only_and_released_by_its_owner(s3):
    url = f"s3://{S3_BUCKET}/raw"
    with run_lock.hold(url, "ingest"):
        body = json.loads(s3.get_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}")["Body"].read())
        assert body["pid"] == os.getpid()
        assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC) + run_lock.LIFETIME / 2
        # Another run (here another thread: `hold` is re-entrant within one thread only).
        refusals: list[Exception] = []

        def another_run() -> None:
            try:
                with run_lock.hold(url, "import-history"):
                    pass
            except RunInProgressError as error:
                refusals.append(error)

        other = threading.Thread(target=another_run)
        other.start()
        other.join(timeout=60)
        assert [f"pid {os.getpid()}," in str(e) for e in refusals] == [True]
        # The refused run left the holder's lock alone.
        assert json.loads(s3.get_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}")["Body"].read()) == body
    assert lock_keys(s3) == []


@pytest.mark.timeout(120)
def test_a_raw_zone_in_a_bucket_that_does_not_exist_is_a_configuration_error_before_any_request(s3, sandbox, tmp_path):
    settings = Settings(raw_zone_url="s3://no-such-tunelake-bucket/raw", pipelines_dir=str(tmp_path / "pipelines"))
    with pytest.raises(
        ConfigurationError,
        match=r"cannot write to s3://no-such-tunelake-bucket/raw: the bucket does not exist \(NoSuchBucket\)",
    ):
        ingest(settings, source_for(sandbox))
    assert stats(sandbox) == {}


@pytest.mark.timeout(120)
def test_an_s3_lock_is_renewed_while_its_run_lasts_longer_than_its_lifetime(s3):
    """A long local run against the bucket keeps its lock; the hourly Lambda does not take it over."""
    url = f"s3://{S3_BUCKET}/raw"
    lock = run_lock.S3Lock(url, lifetime=timedelta(seconds=2))
    lock.acquire(run_lock.Holder.me("ingest", lock.lifetime))
    try:
        first = json.loads(s3.get_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}")["Body"].read())
        time.sleep(4)
        now = json.loads(s3.get_object(Bucket=S3_BUCKET, Key=f"raw/{LOCK_NAME}")["Body"].read())
        assert now["started_at"] == first["started_at"]
        assert datetime.fromisoformat(now["expires_at"]) > datetime.now(UTC)
        with pytest.raises(RunInProgressError), run_lock.hold(url, "ingest"):
            pass
    finally:
        lock.release()
    assert lock_keys(s3) == []


# --- after a failed run -------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.parametrize("where", ["local", "s3"])
def test_the_lock_is_gone_after_a_failed_run(where, request, sandbox, tmp_path):
    # A folder where the DuckDB file should be: the warehouse load fails after the raw zone's.
    broken = tmp_path / "not-a-file.duckdb"
    broken.mkdir()
    if where == "s3":
        s3 = request.getfixturevalue("s3")
        settings = s3_settings(tmp_path, str(broken))
    else:
        settings = other_settings(tmp_path, "local")
        settings = Settings(settings.raw_zone_url, duckdb_path=str(broken), pipelines_dir=settings.pipelines_dir)
    with pytest.raises(PipelineStepFailed):
        ingest(settings, source_for(sandbox))
    if where == "s3":
        assert lock_keys(s3) == []
    else:
        assert not Path(settings.raw_zone_url, LOCK_NAME).exists()
    # The next run is not refused, and loads what the failed one collected.
    fixed = Settings(
        settings.raw_zone_url, duckdb_path=str(tmp_path / "tunelake.duckdb"), pipelines_dir=settings.pipelines_dir
    )
    assert ingest(fixed, source_for(sandbox)).warehouse_rows["tracks"] > 0
