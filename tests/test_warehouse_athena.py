"""The Athena warehouse load, executed: dlt's athena destination through the Athena-API front on Trino.

dlt stages parquet in the lake, declares it as a Glue table (Athena's Hive DDL) and merges it
into the raw Iceberg tables with DELETE and INSERT, each statement sent to the Athena API and
executed by the Trino stand-in (tests/standins/athena.py). Glue and S3 are moto's. What Athena
itself would do differently from Trino is for a smoke run on a real account (`make smoke-athena`).
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import s3fs

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.pipeline import ingest
from ingestion.spotify.tables import TABLES
from sandbox import export as exports
from tests.standins import moto
from tests.support import source_for

SCHEMAS = ("spotify", "spotify_staging")
# The merge key of some raw tables, as the loader declares it.
KEYS = {"plays": "played_at", "tracks": "track_id", "artists": "artist_id", "albums": "album_id"}


@pytest.fixture
def athena(athena_standin, monkeypatch):
    """The front, with the environment a user of the athena engine sets; the raw schemas dropped around the test."""
    athena_standin.drop_schemas(*SCHEMAS)
    for name, value in athena_standin.environment().items():
        monkeypatch.setenv(name, value)
    yield athena_standin
    athena_standin.drop_schemas(*SCHEMAS)


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_athena_load_lands_the_raw_tables_as_iceberg_tables_holding_the_staged_rows(athena, sandbox, tmp_path):
    trino, bucket = athena.trino, athena.trino.bucket
    settings = Settings(
        raw_zone_url=f"s3://{bucket}/zone", warehouse="athena", pipelines_dir=str(tmp_path / "pipelines")
    )
    summary = ingest(settings, source_for(sandbox, user=True))
    loaded = {table: rows for table, rows in summary.raw_rows.items() if rows}
    assert set(loaded) >= {"plays", "tracks", "artists", "albums", "playlist_items"}

    # Every raw table is an Iceberg table in Glue (merges need one), its data in the lake's warehouse folder.
    glue = moto.client("glue", trino.moto_endpoint)
    for table in TABLES:
        entry = glue.get_table(DatabaseName="spotify", Name=table)["Table"]
        assert entry["Parameters"]["table_type"] == "ICEBERG", table
        assert entry["StorageDescriptor"]["Location"] == f"s3://{bucket}/zone/_warehouse/spotify/{table}"

    # What the tables hold is exactly the parquet dlt staged: the staged files, read through
    # Athena's Hive table over them, and the Iceberg table merged from it, row for row.
    lake = s3fs.S3FileSystem(endpoint_url=trino.moto_endpoint, key=moto.KEY, secret=moto.KEY)
    for table, rows in loaded.items():
        files = lake.glob(f"{bucket}/zone/_warehouse/spotify_staging/{table}/*.parquet")
        assert sum(pq.ParquetFile(lake.open(f)).metadata.num_rows for f in files) == rows, table
        assert trino.sql(f"select count(*) from spotify_staging.{table}") == [[rows]], table
        assert trino.sql(f"select count(*) from spotify.{table}") == [[rows]], table
    staged = pq.read_table(
        [f"s3://{f}" for f in lake.glob(f"{bucket}/zone/_warehouse/spotify_staging/plays/*.parquet")],
        filesystem=lake,
        columns=["played_at", "track_id"],
    )
    played = sorted((row["played_at"].replace(tzinfo=None), row["track_id"]) for row in staged.to_pylist())
    assert [tuple(row) for row in trino.sql("select played_at, track_id from spotify.plays order by 1, 2")] == played

    # A second run of the same day replaces keys instead of adding rows: dlt's DELETE then INSERT ran.
    ingest(settings, source_for(sandbox, user=True))
    for table, key in KEYS.items():
        [[rows, keys]] = trino.sql(f"select count(*), count(distinct ({key})) from spotify.{table}")
        assert rows == keys >= loaded[table], table
    assert any(
        statement.startswith('DELETE FROM "awsdatacatalog"."spotify"') for statement in athena.executed("delete")
    )

    # A privacy export of both formats takes the same way: raw zone in the lake, then Iceberg tables.
    export = exports.write_zip(
        tmp_path / "export.zip",
        {"endsong_0.json": exports.extended(30), "StreamingHistory_music_0.json": exports.account_music(10)},
    )
    assert import_history(settings, [export]).complete
    assert trino.sql("select count(*) from spotify.history_streams") == [[30]]
    assert trino.sql("select count(*) from spotify.history_account_plays") == [[10]]
