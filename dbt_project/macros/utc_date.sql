{#
    The UTC day of a timestamp. Athena runs every session in UTC and Snowflake casts a
    TIMESTAMP_TZ in its own (UTC) offset, so a cast is enough there; DuckDB casts a timestamp with
    time zone in the session's zone, which is the machine's local one unless set.
#}
{% macro utc_date(timestamp) -%}
    {{ return(adapter.dispatch('utc_date', 'tunelake')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_date(timestamp) -%}
    cast({{ timestamp }} as date)
{%- endmacro %}

{% macro duckdb__utc_date(timestamp) -%}
    cast(timezone('UTC', {{ timestamp }}) as date)
{%- endmacro %}
