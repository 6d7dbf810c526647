{#
    The incremental strategy each engine supports for "replace these keys": delete+insert on
    DuckDB and Snowflake, merge into Iceberg tables on Athena.
#}
{% macro incremental_strategy() -%}
    {{ return(adapter.dispatch('incremental_strategy', 'tunelake')()) }}
{%- endmacro %}

{% macro default__incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro athena__incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{#
    Filter for an incremental run: rows on or after the last loaded date minus a few days, so
    late observations (a re-run later the same day, a stopped run resumed) replace their day.
#}
{% macro incremental_window(date_column) -%}
    {#- `--vars '{offline_compile: true}'` compiles without asking the warehouse whether the
        table exists (what is_incremental() does), for checks on machines with no warehouse. -#}
    {%- if not var('offline_compile', false) and is_incremental() -%}
        where {{ date_column }} >= (
            select {{ dbt.dateadd('day', -var('incremental_lookback_days', 3), 'max(' ~ date_column ~ ')') }}
            from {{ this }}
        )
    {%- endif -%}
{%- endmacro %}

{#
    Physical layout of the daily facts. Athena: Iceberg partitions by day, so a query for a
    date range reads only those days. Snowflake clusters on the date through `cluster_by` in the
    model config, which pays once a fact spans many micro-partitions (automatic clustering
    costs credits; see the README). DuckDB partitions only DuckLake tables, so it gets nothing.
#}
{% macro partition_by_day(date_column) -%}
    {{ return(adapter.dispatch('partition_by_day', 'tunelake')(date_column)) }}
{%- endmacro %}

{% macro default__partition_by_day(date_column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro athena__partition_by_day(date_column) -%}
    {{ return(['day(' ~ date_column ~ ')']) }}
{%- endmacro %}
