"""The raw zone on S3 (moto_server on 127.0.0.1): layout, and state restored from the bucket."""

from __future__ import annotations

import re
import shutil

import pytest

from ingestion import raw_zone
from ingestion.config import Settings
from ingestion.pipeline import ingest
from tests.standins import moto
from tests.standins.moto import aws_environment, moto_server
from tests.support import reset_stats, source_for, stats, table_counts

BUCKET = "tunelake-raw"
KEY = re.compile(
    r"^zone/spotify/(?P<table>[a-z_]+)/load_date=\d{4}-\d{2}-\d{2}/(?P<load>\d+\.\d+)\.[0-9a-f]+\.jsonl\.gz$"
)


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server with an empty bucket; dlt's destination and source pointed at it."""
    with moto_server() as endpoint:
        for name, value in aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        s3_client = moto.client("s3", endpoint)
        s3_client.create_bucket(Bucket=BUCKET)
        yield s3_client


@pytest.mark.e2e
def test_s3_raw_zone_is_laid_out_by_table_and_load_date_and_restores_state(s3, sandbox, tmp_path):
    settings = Settings(
        raw_zone_url=f"s3://{BUCKET}/zone",
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    first = ingest(settings, source_for(sandbox))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    data = [
        k for k in keys if not k.startswith(("zone/spotify/_dlt", "zone/spotify/_tunelake")) and not k.endswith("/init")
    ]
    assert data
    assert all(KEY.match(k) for k in data), [k for k in data if not KEY.match(k)]
    assert {KEY.match(k)["table"] for k in data} >= {"playlists", "playlist_items", "tracks", "albums", "artists"}
    assert any(k.startswith("zone/spotify/_dlt_pipeline_state/") for k in keys)
    # The load's index entry names exactly its files, from the raw zone's root.
    (load_id,) = first.raw_load_ids
    (entry,) = raw_zone.pending(settings.raw_zone_url, None)
    assert entry.load_id == load_id
    assert sorted(f"zone/{path}" for paths in entry.files.values() for path in paths) == sorted(data)

    # A machine with an empty working folder (a Lambda's /tmp): state comes back from the bucket.
    shutil.rmtree(settings.pipelines_dir)
    reset_stats(sandbox)
    second = ingest(settings, source_for(sandbox))
    assert sum(second.requests.values()) <= 0.05 * sum(first.requests.values())
    assert sum(stats(sandbox).values()) == sum(second.requests.values())
    assert table_counts(settings)["tracks"] == first.warehouse_rows["tracks"]
