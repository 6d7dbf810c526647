{#
    Every `entity_type` (album or artist) a loaded answer references, from int_entity_members:
    the `columns` of its row in the staging model `fetched`, or for one that was not fetched
    (an inferred member) the name a mentioning answer carried and why it is missing.
#}
{% macro inferred_members(entity_type, fetched, columns) -%}
{%- set entity_id = entity_type ~ '_id' -%}
{%- set entity_name = entity_type ~ '_name' -%}
with

members as (

    select * from {{ ref('int_entity_members') }}

),

fetched as (

    select * from {{ ref(fetched) }}

),

final as (

    select
        members.entity_id as {{ entity_id }},
        coalesce(fetched.{{ entity_name }}, members.referenced_name) as {{ entity_name }},
        {%- for column in columns %}
        fetched.{{ column }},
        {%- endfor %}
        members.unavailable_reason,
        members.is_unavailable

    from members
    left join fetched
        on members.entity_id = fetched.{{ entity_id }}
    where members.entity_type = '{{ entity_type }}'

)

select * from final
{%- endmacro %}
