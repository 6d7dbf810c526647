{#
    The bridge between `entity_type`s (track or album) and the artists they credit, in credit
    order, each artist named as int_artists names it.
#}
{% macro artist_credits(entity_type) -%}
{%- set entity_id = entity_type ~ '_id' -%}
with

credits as (

    select * from {{ ref('stg_spotify__' ~ entity_type ~ '_artists') }}

),

artists as (

    select * from {{ ref('int_artists') }}

),

final as (

    select
        -- ids
        credits.{{ entity_id }},
        credits.artist_id,

        -- strings
        artists.artist_name,

        -- numerics
        credits.artist_position + 1 as credit_position,

        -- booleans
        credits.is_primary_artist

    from credits
    left join artists
        on credits.artist_id = artists.artist_id

)

select * from final
{%- endmacro %}
