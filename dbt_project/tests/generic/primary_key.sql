{#
    A primary key over one or more columns: no nulls in any of them, and no two rows with the
    same combination. Fails with one row per offending key.
#}
{% test primary_key(model, column_names) %}

with keyed as (

    select
        {{ column_names | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ column_names | join(', ') }}

)

select *
from keyed
where
    row_count > 1
    {% for column in column_names %}
        or {{ column }} is null
    {% endfor %}

{% endtest %}
