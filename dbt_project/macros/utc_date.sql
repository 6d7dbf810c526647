{#
    The UTC day of a timestamp loaded in UTC. A plain cast takes the day in the session's zone
    wherever the timestamp carries one:
    - Athena and Trino: the raw timestamps have no zone (UTC by convention), so a cast is the UTC day.
    - DuckDB: a TIMESTAMP WITH TIME ZONE casts in the session's zone, the machine's local one.
    - Snowflake: the loader writes TIMESTAMP_TZ (UTC offsets), but a TIMESTAMP_LTZ column (loaded
      before tunelake chose TZ, or by another tool) casts in the session's TIMEZONE, which is
      America/Los_Angeles on an account that sets none: 02:00 UTC would be the day before.
      Converting to UTC first is right for both.
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

{% macro snowflake__utc_date(timestamp) -%}
    cast(convert_timezone('UTC', {{ timestamp }}) as date)
{%- endmacro %}
