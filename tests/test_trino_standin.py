"""The Trino stand-in for Athena (tests/standins/trino.py): Iceberg on moto's Glue and S3.

This checks the stand-in itself, so that tests running dbt-trino or dbt-athena on it can trust it:
a table Trino creates is a Glue entry pointing at Iceberg metadata in the bucket, partitioned by
day, and MERGE rewrites it. Trino is never skipped: without it the fixture fails, naming
`make install-dev`.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.standins import moto

SCHEMA = "standin_check"
# Plain timestamp(6), UTC by convention: Athena's Iceberg tables have no zoned timestamp type.
PLAYED = """
    select *
    from (
        values
            (1, 'first', timestamp '2026-11-01 02:00:00.000000'),
            (2, 'second', timestamp '2026-11-01 23:59:59.000000')
    ) as plays (play_id, track_name, played_at)
"""
MERGE = f"""
    merge into {SCHEMA}.plays as target
    using (
        values
            (2, 'second, renamed', timestamp '2026-11-01 23:59:59.000000'),
            (3, 'third', timestamp '2026-11-02 00:00:00.000000')
    ) as source (play_id, track_name, played_at)
    on target.play_id = source.play_id
    when matched then update set track_name = source.track_name
    when not matched then insert (play_id, track_name, played_at)
        values (source.play_id, source.track_name, source.played_at)
"""


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second)


@pytest.mark.timeout(300)
def test_trino_standin_keeps_day_partitioned_iceberg_tables_in_moto_glue_and_merges_into_them(trino_standin):
    trino = trino_standin
    trino.sql(f"create schema {SCHEMA}")
    assert trino.sql(f"create table {SCHEMA}.plays with (partitioning = array['day(played_at)']) as {PLAYED}") == [[2]]

    # The table is a Glue entry, as Athena's Iceberg tables are, pointing at metadata in the bucket.
    table = moto.client("glue", trino.moto_endpoint).get_table(DatabaseName=SCHEMA, Name="plays")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    # Trino also fills the Hive-typed columns and location that Glue readers (dbt-athena) expect.
    columns = {column["Name"]: column["Type"] for column in table["StorageDescriptor"]["Columns"]}
    assert columns == {"play_id": "int", "track_name": "string", "played_at": "timestamp"}
    metadata = table["Parameters"]["metadata_location"]
    assert metadata.startswith(f"{trino.warehouse}/{SCHEMA}.db/plays-")
    s3 = moto.client("s3", trino.moto_endpoint)
    s3.head_object(Bucket=trino.bucket, Key=metadata.removeprefix(f"s3://{trino.bucket}/"))

    assert trino.sql(MERGE) == [[2]]

    rows = trino.sql(f"select play_id, track_name, played_at from {SCHEMA}.plays order by play_id")
    assert [tuple(row) for row in rows] == [
        (1, "first", at(1, 2)),
        (2, "second, renamed", at(1, 23, 59, 59)),
        (3, "third", at(2, 0)),
    ]
    # One partition per UTC day, each a folder of parquet files in the table's location.
    partitions = trino.sql(f'select partition.played_at_day from {SCHEMA}."plays$partitions" order by 1')
    assert [day.isoformat() for (day,) in partitions] == ["2026-11-01", "2026-11-02"]
    location = table["StorageDescriptor"]["Location"].removeprefix(f"s3://{trino.bucket}/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=trino.bucket, Prefix=f"{location}/data/")["Contents"]]
    assert {key.split("/")[-2] for key in keys} == {"played_at_day=2026-11-01", "played_at_day=2026-11-02"}
