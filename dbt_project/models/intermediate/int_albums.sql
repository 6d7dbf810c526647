-- Every album a loaded answer references, fetched or inferred: the one place album names and
-- release dates come from.
with

members as (

    select * from {{ ref('int_entity_members') }}

),

albums as (

    select * from {{ ref('stg_spotify__albums') }}

),

final as (

    select
        -- ids
        members.entity_id as album_id,
        albums.upc,

        -- strings
        coalesce(albums.album_name, members.referenced_name) as album_name,
        albums.album_type,
        albums.label,
        albums.image_url,
        albums.release_date_precision,
        albums.restriction_reason,
        members.unavailable_reason,

        -- numerics
        albums.total_tracks,
        albums.popularity,

        -- booleans
        albums.is_playable,
        members.is_unavailable,

        -- dates
        albums.release_date

    from members
    left join albums
        on members.entity_id = albums.album_id
    where members.entity_type = 'album'

)

select * from final
