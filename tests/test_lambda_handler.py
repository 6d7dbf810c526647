"""The Lambda handler, called in-process as Lambda calls it.

Spotify is the sandbox API, S3 (the raw zone and the pipeline state) and Secrets Manager are
moto_server, all on 127.0.0.1. The handler file is loaded from `lambda/` as Lambda loads it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from ingestion import run_lock
from ingestion.config import Settings
from ingestion.pipeline import RunSummary, ingest, load_warehouse
from ingestion.spotify.tables import TABLES
from tests.standins import moto
from tests.standins.moto import aws_environment, moto_server
from tests.support import (
    ALBUMS,
    ARTISTS,
    QUERIES,
    cli_environment,
    held_by_another_run,
    refresh_token,
    reset_stats,
    source_for,
    stats,
    table_counts,
)

HANDLER = Path(__file__).resolve().parents[1] / "lambda" / "handler.py"
BUCKET = "tunelake-raw"
SECRET = "tunelake/spotify"


def load_handler():
    spec = importlib.util.spec_from_file_location("tunelake_lambda_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Context:
    """What the handler uses of Lambda's context: the time left."""

    seconds_left: float

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


@pytest.fixture
def aws(monkeypatch):
    # The handler writes secrets into the environment, as Lambda's process keeps them; empty
    # values here make pytest remove them after each test.
    for key in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN"):
        monkeypatch.setenv(f"SOURCES__SPOTIFY__{key}", "")
    with moto_server() as endpoint:
        for name, value in aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        moto.client("s3", endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint


@pytest.fixture
def lambda_environment(aws, sandbox, tmp_path, monkeypatch):
    """The function's environment: sources and S3 raw zone in variables, credentials in a secret."""
    catalog = sandbox.api.catalog
    environment = cli_environment(
        sandbox,
        tmp_path,
        playlists=[catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
        artists=[catalog.encode_id("artist", a) for a in ARTISTS],
        albums=[catalog.encode_id("album", a) for a in ALBUMS],
        queries=list(QUERIES),
    )
    for name in ("SOURCES__SPOTIFY__CLIENT_ID", "SOURCES__SPOTIFY__CLIENT_SECRET"):
        environment[name] = ""
    environment |= {
        "TUNELAKE__RAW_ZONE_URL": f"s3://{BUCKET}/raw",
        "TUNELAKE__PIPELINES_DIR": str(tmp_path / "lambda-tmp" / "pipelines"),
        "TUNELAKE_SPOTIFY_SECRET": SECRET,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    secret = {"client_id": "test-client", "client_secret": "test-secret", "refresh_token": refresh_token(sandbox)}
    moto.client("secretsmanager", aws).create_secret(Name=SECRET, SecretString=json.dumps(secret))
    return environment


def duplicate_keys(duckdb_path: str) -> dict[str, int]:
    with duckdb.connect(duckdb_path, read_only=True) as con:
        return {
            table: count
            for table, spec in TABLES.items()
            if (
                count := con.sql(
                    f"select count(*) - count(distinct ({', '.join(spec['primary_key'])})) from spotify.{table}"
                ).fetchone()[0]
            )
        }


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_an_invocation_with_an_empty_tmp_resumes_from_the_bucket_state(lambda_environment, sandbox, caplog):
    handler = load_handler().handler
    with caplog.at_level(logging.INFO):
        first = handler({}, Context(seconds_left=900))
    assert first["status"] == "ok"
    assert first["rows"]["tracks"] > 0
    assert first["rows"]["plays"] > 0  # the refresh token came from Secrets Manager
    # One structured log line carries the summary.
    (finished,) = [r for r in caplog.records if r.getMessage() == "ingestion finished"]
    assert finished.summary == first

    # A new container: /tmp is empty, the state comes back from the bucket.
    shutil.rmtree(lambda_environment["TUNELAKE__PIPELINES_DIR"])
    counts = table_counts(Settings(duckdb_path=lambda_environment["TUNELAKE__DUCKDB_PATH"]))
    second = handler({}, Context(seconds_left=900))
    assert second["status"] == "ok"
    assert second["requests"] <= 0.05 * first["requests"]
    assert table_counts(Settings(duckdb_path=lambda_environment["TUNELAKE__DUCKDB_PATH"])) == counts
    assert duplicate_keys(lambda_environment["TUNELAKE__DUCKDB_PATH"]) == {}


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_an_invocation_while_another_run_holds_the_raw_zone_is_skipped_without_error(
    lambda_environment, sandbox, caplog
):
    """Skipped, not failed: Lambda neither retries nor alarms, and no Spotify request is spent."""
    handler = load_handler().handler
    reset_stats(sandbox)  # the fixture's authorization, for the refresh token in the secret
    with held_by_another_run(lambda_environment["TUNELAKE__RAW_ZONE_URL"]), caplog.at_level(logging.INFO):
        skipped = handler({}, Context(seconds_left=900))
    assert skipped["status"] == "skipped"
    assert skipped["reason"] == "run_in_progress"
    assert skipped["lock"]["pid"] == os.getpid()
    assert stats(sandbox) == {}
    (line,) = [r for r in caplog.records if r.getMessage().startswith("ingestion skipped: ")]
    assert f"s3://{BUCKET}/raw/{run_lock.LOCK_NAME}" in line.getMessage()
    assert line.summary == skipped

    # Released, the next invocation runs.
    assert handler({}, Context(seconds_left=900))["status"] == "ok"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_an_invocation_out_of_time_stops_cleanly_and_the_next_completes_the_work(
    lambda_environment, sandbox, start_sandbox, tmp_path, monkeypatch
):
    handler = load_handler().handler
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"latency_ms": 300}, timeout=5).raise_for_status()
    monkeypatch.setenv("TUNELAKE_FINISH_SECONDS", "60")

    # An 8 s budget: at 300 ms each on 4 workers, the day's ~200 requests need 15 s at least, and
    # a loaded machine that spends seconds getting ready still sends some before the budget ends.
    short = handler({}, Context(seconds_left=68.0))
    assert short["status"] == "out_of_time"
    assert "time budget" in short["stopped"]
    assert sum(short["rows"].values()) > 0  # what it collected is loaded

    shutil.rmtree(lambda_environment["TUNELAKE__PIPELINES_DIR"])
    full = handler({}, Context(seconds_left=900))
    assert full["status"] == "ok"

    # Together the two invocations hold what one uninterrupted run of the same day holds.
    clean_sandbox = start_sandbox()
    clean = Settings(
        raw_zone_url=str(tmp_path / "clean" / "raw"),
        duckdb_path=str(tmp_path / "clean" / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "clean" / "pipelines"),
    )
    ingest(clean, source_for(clean_sandbox, user=True))
    warehouse = Settings(duckdb_path=lambda_environment["TUNELAKE__DUCKDB_PATH"])
    resumed, uninterrupted = table_counts(warehouse), table_counts(clean)
    # Plays are the user's listening so far on each sandbox's clock; everything else must match.
    assert {t: n for t, n in resumed.items() if t != "plays"} == {
        t: n for t, n in uninterrupted.items() if t != "plays"
    }
    assert duplicate_keys(warehouse.duckdb_path) == {}


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_compact_event_compacts_closed_days_in_the_bucket_and_is_skipped_while_a_run_holds_it(
    aws, lambda_environment, sandbox, caplog
):
    """The template's daily event: no Spotify request; a held raw zone is skipped, not failed."""
    handler = load_handler().handler
    assert handler({}, Context(seconds_left=900))["status"] == "ok"
    assert handler({}, Context(seconds_left=900))["status"] == "ok"
    reset_stats(sandbox)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    event = {"action": "compact", "until": tomorrow}

    with held_by_another_run(lambda_environment["TUNELAKE__RAW_ZONE_URL"]):
        skipped = handler(event, Context(seconds_left=900))
    assert skipped["status"] == "skipped"
    assert skipped["lock"]["pid"] == os.getpid()

    today = handler({"action": "compact"}, Context(seconds_left=900))
    assert today["status"] == "ok"
    assert today["days"] == 0, "today's loads are left to tomorrow's compaction"
    with caplog.at_level(logging.INFO):
        compacted = handler(event, Context(seconds_left=900))
    assert compacted["status"] == "ok"
    assert compacted["days"] == 1
    assert compacted["loads"] == 2
    # The second run of the day found little new: each table's files become one.
    assert compacted["files_before"] >= compacted["files_after"] > 10
    lines = [r for r in caplog.records if r.getMessage() == "compaction finished"]
    assert lines[-1].summary == compacted
    assert stats(sandbox) == {}
    listed = moto.client("s3", aws).list_objects_v2(Bucket=BUCKET, Prefix="raw/spotify/tracks/")
    assert len(listed["Contents"]) == 1, "one file of the day's tracks"

    # The warehouse rebuilt from the compacted bucket has the rows the runs loaded.
    counts = table_counts(Settings(duckdb_path=lambda_environment["TUNELAKE__DUCKDB_PATH"]))
    rebuilt = Settings(
        raw_zone_url=lambda_environment["TUNELAKE__RAW_ZONE_URL"],
        duckdb_path=str(Path(lambda_environment["TUNELAKE__DUCKDB_PATH"]).with_name("rebuilt.duckdb")),
        pipelines_dir=str(Path(lambda_environment["TUNELAKE__PIPELINES_DIR"]).with_name("rebuilt-pipelines")),
    )
    load_warehouse(rebuilt, RunSummary())
    assert table_counts(rebuilt) == counts


@pytest.mark.timeout(120)
def test_a_secret_that_is_not_json_is_named_and_never_echoed(aws, monkeypatch):
    monkeypatch.setenv("TUNELAKE_SPOTIFY_PARAMETER", "/tunelake/spotify")
    moto.client("ssm", aws).put_parameter(Name="/tunelake/spotify", Value="s3cr3t-value", Type="SecureString")
    module = load_handler()
    with pytest.raises(ValueError, match="/tunelake/spotify") as raised:
        module.load_secrets()
    assert "s3cr3t-value" not in str(raised.value)


@pytest.mark.timeout(120)
def test_a_secure_string_parameter_configures_spotify(aws, monkeypatch):
    monkeypatch.setenv("TUNELAKE_SPOTIFY_PARAMETER", "/tunelake/spotify")
    value = json.dumps({"client_id": "from-ssm", "client_secret": "also-from-ssm"})
    moto.client("ssm", aws).put_parameter(Name="/tunelake/spotify", Value=value, Type="SecureString")
    load_handler().load_secrets()
    assert os.environ["SOURCES__SPOTIFY__CLIENT_ID"] == "from-ssm"


@pytest.mark.timeout(60)
def test_the_transform_function_refuses_the_embedded_warehouse_by_name(monkeypatch):
    monkeypatch.setenv("TUNELAKE__WAREHOUSE", "duckdb")
    with pytest.raises(ValueError, match=r"tunelake\.warehouse"):
        load_handler().transform_handler({}, Context(seconds_left=900))


@pytest.mark.timeout(120)
def test_a_snowflake_key_in_the_warehouse_secret_becomes_a_private_file_for_dbt(aws, tmp_path, monkeypatch):
    secret = {"SNOWFLAKE_ACCOUNT": "acme-tunelake", "SNOWFLAKE_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIE\n"}
    moto.client("secretsmanager", aws).create_secret(Name="tunelake/snowflake", SecretString=json.dumps(secret))
    monkeypatch.setenv("TUNELAKE_WAREHOUSE_SECRET", "tunelake/snowflake")
    monkeypatch.setenv("TUNELAKE_KEY_DIR", str(tmp_path))
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_PRIVATE_KEY_PATH"):
        monkeypatch.setenv(name, "")
    load_handler().load_secrets()
    key_file = Path(os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"])
    assert key_file.read_text() == secret["SNOWFLAKE_PRIVATE_KEY"]
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert os.environ["SNOWFLAKE_ACCOUNT"] == "acme-tunelake"
    assert "SNOWFLAKE_PRIVATE_KEY" not in os.environ
