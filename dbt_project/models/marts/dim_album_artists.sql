with

album_artists as (

    select * from {{ ref('stg_spotify__album_artists') }}

),

artists as (

    select * from {{ ref('int_artists') }}

),

final as (

    select
        -- ids
        album_artists.album_id,
        album_artists.artist_id,

        -- strings
        artists.artist_name,

        -- numerics
        album_artists.artist_position + 1 as credit_position,

        -- booleans
        album_artists.is_primary_artist

    from album_artists
    left join artists
        on album_artists.artist_id = artists.artist_id

)

select * from final
