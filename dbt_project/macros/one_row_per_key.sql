{#
    One row per `key` (a list of columns) of `relation`, a CTE or a relation: the first in
    `order_by`, so 'observed_at desc' keeps the latest copy. `columns` are the ones to keep, named
    because no engine-neutral "all but the row number" exists (Athena has no `exclude`).
#}
{% macro one_row_per_key(relation, key, order_by, columns) -%}
    select
        {{ columns | join(',\n        ') }}

    from (
        select
            *,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by {{ order_by }}
            ) as copy_number
        from {{ relation }}
    ) as numbered
    where copy_number = 1
{%- endmacro %}
