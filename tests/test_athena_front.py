"""The Athena-API front's rewrites (tests/standins/athena.py), one per statement dlt or dbt-athena sends.

Each input is a statement as dlt 1.31 or dbt-athena 1.11 sent it to the front in the Athena
tests; the expected output is what Trino then ran. The end-to-end tests (test_warehouse_athena,
tests/dbt/test_athena_build) prove that Trino accepts them.
"""

from __future__ import annotations

import pytest

from tests.standins.athena import FrontError, Plan, hive_type, statement_kind, translate, trino_type

pytestmark = pytest.mark.timeout(60)

LOCATION = "s3://tunelake-lake/zone/_warehouse/spotify"


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
    assert statement_kind("create or replace view v as select 1") == ("DDL", "CREATE_OR")
    assert statement_kind("show tables") == ("DDL", "SHOW_TABLES")
