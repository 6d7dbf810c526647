"""The Athena-API front's rewrites (tests/standins/athena.py), one per statement dlt or dbt-athena sends.

Each input is a statement as dlt 1.31 or dbt-athena 1.11 sent it to the front in the Athena
tests; the expected output is what Trino then ran. The end-to-end tests (test_warehouse_athena,
tests/dbt/test_athena_build) prove that Trino accepts them. The last tests call the front with
boto3, as pyathena and dbt-athena do: paginated results and a stopped query, on Trino.
"""

from __future__ import annotations

import time

import boto3
import pytest

from tests.standins import moto
from tests.standins.athena import FrontError, Plan, hive_type, statement_kind, translate, trino_type

pytestmark = pytest.mark.timeout(60)

LOCATION = "s3://tunelake-lake/zone/_warehouse/spotify"
# A trillion rows: hours on two cores, so it is still running when stopped.
LONG_JOIN = " cross join ".join(f"unnest(sequence(1, 10000)) {t} ({t}{t})" for t in "abc")


def test_backtick_identifiers_become_double_quoted_outside_string_literals():
    plan = translate("DROP TABLE IF EXISTS `awsdatacatalog`.`spotify_staging`.`plays_delete_x`")
    assert plan == Plan(['DROP TABLE IF EXISTS "awsdatacatalog"."spotify_staging"."plays_delete_x"'])
    assert translate("select '`kept`' as `a`").trino == ["select '`kept`' as \"a\""]


def test_create_database_becomes_create_schema():
    assert translate("CREATE DATABASE `awsdatacatalog`.`spotify`").trino == ['CREATE SCHEMA "awsdatacatalog"."spotify"']


def test_dlts_iceberg_create_table_gets_trino_types_and_table_properties():
    plan = translate(f"""CREATE TABLE IF NOT EXISTS `awsdatacatalog`.`spotify`.`plays`
        (`played_at` timestamp, `track_id` string, `n` int, `tags` array<struct<a:string,b:float>>)
        LOCATION '{LOCATION}/plays'
        TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')""")
    assert plan.trino == [
        'CREATE TABLE IF NOT EXISTS "awsdatacatalog"."spotify"."plays" ("played_at" timestamp(6), '
        '"track_id" varchar, "n" integer, "tags" array(row("a" varchar, "b" real))) '
        f"WITH (location = '{LOCATION}/plays', format = 'PARQUET')"
    ]


def test_an_external_table_over_staged_parquet_is_a_glue_entry_not_a_trino_statement():
    plan = translate(f"""CREATE EXTERNAL TABLE `awsdatacatalog`.`spotify_staging`.`plays`
        (`played_at` timestamp, `track_id` string)
        STORED AS PARQUET
        LOCATION '{LOCATION}_staging/plays/'""")
    assert plan.trino == []
    assert plan.glue_table is not None
    name, table, if_not_exists = plan.glue_table
    assert (name, if_not_exists) == (["awsdatacatalog", "spotify_staging", "plays"], False)
    storage = table["StorageDescriptor"]
    assert storage["Columns"] == [{"Name": "played_at", "Type": "timestamp"}, {"Name": "track_id", "Type": "string"}]
    assert storage["Location"] == f"{LOCATION}_staging/plays/"
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")


def test_add_columns_becomes_one_add_column_per_column():
    plan = translate("ALTER TABLE `awsdatacatalog`.`spotify`.`tracks` ADD COLUMNS (`isrc` string, `rank` bigint)")
    assert plan.trino == [
        'ALTER TABLE "awsdatacatalog"."spotify"."tracks" ADD COLUMN "isrc" varchar',
        'ALTER TABLE "awsdatacatalog"."spotify"."tracks" ADD COLUMN "rank" bigint',
    ]


def test_an_iceberg_ctas_loses_athenas_own_properties_only():
    plan = translate("""create table "awsdatacatalog"."marts"."fct_plays"
    with (
      table_type='iceberg',
      is_external=false,
      location='s3://b/marts/fct_plays/1',
      partitioning=ARRAY['day(played_date)'],
      format='parquet'
    )
    as
      select 1 as x""")
    assert plan.trino == [
        'create table "awsdatacatalog"."marts"."fct_plays"\n    WITH (location = \'s3://b/marts/fct_plays/1\', '
        "partitioning = ARRAY['day(played_date)'], format = 'parquet')\n    as\n      select 1 as x"
    ]


def test_a_hive_ctas_becomes_an_iceberg_ctas_at_the_same_location():
    plan = translate("""create table "awsdatacatalog"."staging"."t__dbt_tmp"
    with (
      table_type='hive',
      is_external=true,external_location='s3://b/staging/t__dbt_tmp/1',
      format='parquet'
    )
    as
      select 1 as x""")
    assert plan.trino == [
        'create table "awsdatacatalog"."staging"."t__dbt_tmp"\n'
        "    WITH (format = 'parquet', location = 's3://b/staging/t__dbt_tmp/1')\n    as\n      select 1 as x"
    ]


def test_ddl_the_front_cannot_translate_fails_naming_the_front():
    with pytest.raises(FrontError, match="Athena front"):
        translate(
            "CREATE TABLE `s`.`t` (`a` int) PARTITIONED BY (`a`) "
            "LOCATION 's3://b/t' TBLPROPERTIES ('table_type'='ICEBERG')"
        )


def test_types_map_both_ways_as_athena_writes_them_to_glue():
    assert trino_type("map<string,decimal(38,9)>") == "map(varchar, decimal(38,9))"
    assert hive_type("array(row(a varchar, b integer))") == "array<struct<a:string,b:int>>"
    assert hive_type("timestamp(6)") == "timestamp"
    assert hive_type("decimal(38,9)") == "decimal(38,9)"


def test_statement_kinds_decide_whether_results_carry_a_header_row():
    assert statement_kind("-- /* dbt */\nselect 1") == ("DML", "SELECT")
    assert statement_kind("with a as (select 1) select * from a") == ("DML", "SELECT")
    assert statement_kind("merge into t using s on true when matched then delete") == ("DML", "MERGE")
    assert statement_kind("create table t with (format='parquet') as select 1") == ("DDL", "CREATE_TABLE_AS_SELECT")
    assert statement_kind("create or replace view v as select 1") == ("DDL", "CREATE_VIEW")
    assert statement_kind("CREATE EXTERNAL TABLE `s`.`t` (`a` int)") == ("DDL", "CREATE_TABLE")
    assert statement_kind("show tables") == ("DDL", "SHOW_TABLES")


def athena_client(front):
    return boto3.client(
        "athena",
        endpoint_url=front.url,
        aws_access_key_id=moto.KEY,
        aws_secret_access_key=moto.KEY,
        region_name=moto.REGION,
    )


def wait_for(athena, query_id: str, states: set[str], seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in states or time.monotonic() > deadline:
            return execution
        time.sleep(0.2)


@pytest.mark.timeout(300)
def test_query_results_come_in_pages_of_1000_rows_after_a_header_row(athena_standin):
    athena = athena_client(athena_standin)
    query_id = athena.start_query_execution(
        QueryString="select n, cast(n as varchar) as label from unnest(sequence(1, 2500)) as t (n)",
        ResultConfiguration={"OutputLocation": "s3://tunelake-lake/athena-results/"},
    )["QueryExecutionId"]
    assert wait_for(athena, query_id, {"SUCCEEDED", "FAILED"})["Status"]["State"] == "SUCCEEDED"
    pages = list(athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id))
    assert [len(page["ResultSet"]["Rows"]) for page in pages] == [1000, 1000, 501]
    columns = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("n", "bigint"), ("label", "varchar")]
    rows = [[d.get("VarCharValue") for d in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]
    assert rows[0] == ["n", "label"]
    assert rows[1:] == [[str(n), str(n)] for n in range(1, 2501)]


@pytest.mark.timeout(300)
def test_a_stopped_query_is_cancelled_on_trino(athena_standin):
    athena = athena_client(athena_standin)
    query_id = athena.start_query_execution(
        QueryString=f"select count(*) from {LONG_JOIN}",
        ResultConfiguration={"OutputLocation": "s3://tunelake-lake/athena-results/"},
    )["QueryExecutionId"]
    started = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert started["State"] == "RUNNING", started
    athena.stop_query_execution(QueryExecutionId=query_id)
    assert wait_for(athena, query_id, {"CANCELLED"})["Status"]["State"] == "CANCELLED"
    # Trino ended it too: no query of that text is still running there.
    running = athena_standin.trino.sql(
        "select count(*) from system.runtime.queries where state = 'RUNNING' and query like '%sequence(1, 10000)%'"
        " and query not like '%system.runtime.queries%'"
    )
    assert running == [[0]]
