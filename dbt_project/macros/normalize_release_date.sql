{#
    Spotify gives album release dates at year ("1998"), month ("1998-07") or day precision.
    Returns the first day of the period as a date, so albums sort and filter by one column.
#}
{% macro normalize_release_date(release_date, precision) -%}
    {{ return(adapter.dispatch('normalize_release_date', 'tunelake')(release_date, precision)) }}
{%- endmacro %}

{% macro default__normalize_release_date(release_date, precision) -%}
    cast(
        case
            -- Spotify also answers "0000" (unknown): no date.
            when {{ release_date }} like '0000%' then null
            when {{ precision }} = 'year' then {{ dbt.concat([release_date, "'-01-01'"]) }}
            when {{ precision }} = 'month' then {{ dbt.concat([release_date, "'-01'"]) }}
            else {{ release_date }}
        end
        as date
    )
{%- endmacro %}
