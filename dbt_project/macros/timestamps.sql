{#
    The UTC time of a timestamp loaded in UTC, and its day, hour and weekday. Reading a zoned
    timestamp as it is gives the session's zone wherever the timestamp carries one:
    - Athena and Trino: the raw timestamps have no zone (UTC by convention), or carry UTC itself.
    - DuckDB: a TIMESTAMP WITH TIME ZONE casts in the session's zone, the machine's local one.
    - Snowflake: the loader writes TIMESTAMP_TZ (UTC offsets), but a TIMESTAMP_LTZ column (loaded
      before tunelake chose TZ, or by another tool) casts in the session's TIMEZONE, which is
      America/Los_Angeles on an account that sets none: 02:00 UTC would be the day before.
      Converting to UTC first is right for both.
#}
{% macro utc_timestamp(timestamp) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'tunelake')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_timestamp(timestamp) -%}
    {{ timestamp }}
{%- endmacro %}

{% macro duckdb__utc_timestamp(timestamp) -%}
    timezone('UTC', {{ timestamp }})
{%- endmacro %}

{% macro snowflake__utc_timestamp(timestamp) -%}
    convert_timezone('UTC', {{ timestamp }})
{%- endmacro %}

{% macro utc_date(timestamp) -%}
    cast({{ utc_timestamp(timestamp) }} as date)
{%- endmacro %}

{# 0 to 23. #}
{% macro utc_hour(timestamp) -%}
    cast(extract(hour from {{ utc_timestamp(timestamp) }}) as integer)
{%- endmacro %}

{# ISO weekday of a date: 1 is Monday, 7 is Sunday (engines number `dow` differently). #}
{% macro iso_weekday(day) -%}
    {{ return(adapter.dispatch('iso_weekday', 'tunelake')(day)) }}
{%- endmacro %}

{% macro default__iso_weekday(day) -%}
    cast(day_of_week({{ day }}) as integer)
{%- endmacro %}

{% macro duckdb__iso_weekday(day) -%}
    cast(isodow({{ day }}) as integer)
{%- endmacro %}

{% macro snowflake__iso_weekday(day) -%}
    cast(dayofweekiso({{ day }}) as integer)
{%- endmacro %}

{# Seconds from `start` to `end`, fractions included, as a double (dbt.datediff counts whole boundaries). #}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'tunelake')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    (to_unixtime({{ end }}) - to_unixtime({{ start }}))
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    (epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}

{% macro snowflake__seconds_between(start, end) -%}
    (cast(datediff('millisecond', {{ start }}, {{ end }}) as double) / 1000)
{%- endmacro %}

{# Days from 1970-01-01 to a date, as an integer: what a window's `range between n preceding` counts in. #}
{% macro day_number(day) -%}
    {{ return(adapter.dispatch('day_number', 'tunelake')(day)) }}
{%- endmacro %}

{% macro default__day_number(day) -%}
    date_diff('day', cast('1970-01-01' as date), {{ day }})
{%- endmacro %}

{% macro snowflake__day_number(day) -%}
    datediff(day, cast('1970-01-01' as date), {{ day }})
{%- endmacro %}
