{#
    The staging model of a raw `<entity_type>_observations` table: one observation per entity and
    UTC day, the latest should a day have been loaded twice. `measures` are the values the table
    observes, in the order of its columns.
#}
{% macro daily_observations(entity_type, measures=['popularity']) -%}
{%- set entity_id = entity_type ~ '_id' -%}
with

source as (

    select * from {{ source('spotify', entity_type ~ '_observations') }}

),

renamed as (

    select
        -- ids
        {{ entity_id }},

        -- numerics
        {%- for measure in measures %}
        {{ measure }},
        {%- endfor %}

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

),

deduplicated as (

    {{ one_row_per_key(
        'renamed',
        key=[entity_id, 'observed_date'],
        order_by='observed_at desc',
        columns=[entity_id] + measures + ['observed_date', 'observed_at'],
    ) }}

)

select * from deduplicated
{%- endmacro %}
