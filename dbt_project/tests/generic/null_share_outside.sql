{#
    Tier-dependent columns are all null (development mode) or nearly all filled (extended
    quota). A share of nulls between `low` and `high` means the loader mixed tiers or lost
    fields: one row comes back with the share. Spotify controls these values, so the check
    warns (the test policy in dbt_project.yml), looks at recent days only when `date_column`
    is given, and keeps its failing row for a person to look at.
#}
{% test null_share_outside(model, column_name, low=0.05, high=0.95, date_column=none) %}

{{ config(severity='warn', store_failures=true) }}

with counted as (

    select
        count(*) as row_count,
        sum(case when {{ column_name }} is null then 1 else 0 end) as null_count
    from {{ model }}
    {% if date_column %}
        where {{ date_column }} >= {{ recent_since(model, date_column) }}
    {% endif %}

)

select
    row_count,
    null_count
from counted
where
    row_count > 0
    and cast(null_count as double) / row_count > {{ low }}
    and cast(null_count as double) / row_count < {{ high }}

{% endtest %}
