"""The raw zone on S3 (moto_server on 127.0.0.1): layout, and state restored from the bucket."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from ingestion.pipeline import Settings, ingest
from tests.support import crawler_for, reset_stats, stats, table_counts

BUCKET = "tunelake-raw"
KEY = re.compile(
    r"^zone/spotify/(?P<table>[a-z_]+)/load_date=\d{4}-\d{2}-\d{2}/(?P<load>\d+\.\d+)\.[0-9a-f]+\.jsonl\.gz$"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server with an empty bucket; dlt's destination and source pointed at it."""
    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(endpoint, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    for section in ("DESTINATION__FILESYSTEM__CREDENTIALS", "SOURCES__FILESYSTEM__CREDENTIALS"):
        monkeypatch.setenv(f"{section}__AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv(f"{section}__AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv(f"{section}__ENDPOINT_URL", endpoint)
        monkeypatch.setenv(f"{section}__REGION_NAME", "us-east-1")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.e2e
def test_s3_raw_zone_is_laid_out_by_table_and_load_date_and_restores_state(s3, sandbox, tmp_path):
    settings = Settings(
        raw_zone_url=f"s3://{BUCKET}/zone",
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    first = ingest(settings, crawler_for(sandbox))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    data = [k for k in keys if not k.startswith("zone/spotify/_dlt") and not k.endswith("/init")]
    assert data
    assert all(KEY.match(k) for k in data), [k for k in data if not KEY.match(k)]
    assert {KEY.match(k)["table"] for k in data} >= {"playlists", "playlist_items", "tracks", "albums", "artists"}
    assert any(k.startswith("zone/spotify/_dlt_pipeline_state/") for k in keys)

    # A machine with an empty working folder (a Lambda's /tmp): state comes back from the bucket.
    shutil.rmtree(settings.pipelines_dir)
    reset_stats(sandbox)
    second = ingest(settings, crawler_for(sandbox))
    assert sum(second.requests.values()) <= 0.05 * sum(first.requests.values())
    assert sum(stats(sandbox).values()) == sum(second.requests.values())
    assert table_counts(settings)["tracks"] == first.warehouse_rows["tracks"]
