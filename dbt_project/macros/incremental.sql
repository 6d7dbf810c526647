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
