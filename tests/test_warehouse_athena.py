"""The Athena warehouse load, against moto (S3, Glue and Athena on 127.0.0.1).

moto records the statements Athena is sent and executes none of them, so this checks what dlt
asks Athena to do and what it writes to S3; that Athena runs it is for a smoke run on a real
account (`make smoke-athena`).
"""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest
import s3fs

from ingestion.config import Settings
from ingestion.pipeline import ingest
from ingestion.spotify.tables import TABLES
from tests.standins import moto
from tests.standins.moto import athena_queries, aws_environment, moto_server
from tests.support import source_for

BUCKET = "tunelake-lake"
CREATE_TABLE = re.compile(r"CREATE TABLE `awsdatacatalog`\.`spotify`\.`(?P<table>\w+)`")
DELETE = re.compile(r'DELETE FROM "awsdatacatalog"\."spotify"\."(?P<table>\w+)"')
INSERT = re.compile(r'INSERT INTO "awsdatacatalog"\."spotify"\."(?P<table>\w+)"')


@pytest.fixture
def aws(monkeypatch):
    with moto_server() as endpoint:
        for name, value in aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DESTINATION__ATHENA__QUERY_RESULT_BUCKET", f"s3://{BUCKET}/athena-results/")
        moto.client("s3", endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint


def matches(pattern: re.Pattern[str], queries: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for query in queries:
        if match := pattern.match(query.strip()):
            found.setdefault(match["table"], []).append(query)
    return found


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_athena_load_makes_iceberg_tables_over_the_parquet_it_stages(aws, sandbox, tmp_path):
    settings = Settings(
        raw_zone_url=f"s3://{BUCKET}/zone", warehouse="athena", pipelines_dir=str(tmp_path / "pipelines")
    )
    summary = ingest(settings, source_for(sandbox, user=True))
    queries = athena_queries(aws)

    # Every raw table is an Iceberg table (merges need one), its data in the lake's warehouse folder.
    created = matches(CREATE_TABLE, queries)
    assert set(created) == set(TABLES)
    for table, (statement,) in created.items():
        assert "'table_type'='ICEBERG'" in statement, statement
        assert f"LOCATION 's3://{BUCKET}/zone/_warehouse/spotify/{table}'" in statement, statement

    # Each table with rows is merged: replaced keys deleted, then the new rows inserted.
    loaded = {table for table, rows in summary.raw_rows.items() if rows}
    assert set(matches(DELETE, queries)) == loaded
    assert set(matches(INSERT, queries)) >= loaded

    # What Athena reads is exactly what the raw zone holds: the staged parquet files, row for row.
    lake = s3fs.S3FileSystem(endpoint_url=aws, key=moto.KEY, secret=moto.KEY)
    for table, rows in summary.raw_rows.items():
        files = lake.glob(f"{BUCKET}/zone/_warehouse/spotify_staging/{table}/*.parquet")
        assert sum(pq.ParquetFile(lake.open(f)).metadata.num_rows for f in files) == rows, table

    # Nothing points outside the configured bucket.
    assert all(url.startswith(f"s3://{BUCKET}/") for q in queries for url in re.findall(r"s3://[^'\"]+", q))
