-- Every artist a loaded answer references, fetched or inferred: the one place artist names
-- come from, so every mart names an artist the same way.
with

members as (

    select * from {{ ref('int_entity_members') }}

),

artists as (

    select * from {{ ref('stg_spotify__artists') }}

),

final as (

    select
        -- ids
        members.entity_id as artist_id,

        -- strings
        coalesce(artists.artist_name, members.referenced_name) as artist_name,
        artists.image_url,
        members.unavailable_reason,

        -- numerics
        artists.popularity,
        artists.followers,

        -- booleans
        members.is_unavailable

    from members
    left join artists
        on members.entity_id = artists.artist_id
    where members.entity_type = 'artist'

)

select * from final
