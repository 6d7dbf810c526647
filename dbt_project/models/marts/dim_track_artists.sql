with

track_artists as (

    select * from {{ ref('stg_spotify__track_artists') }}

),

artists as (

    select * from {{ ref('int_artists') }}

),

final as (

    select
        -- ids
        track_artists.track_id,
        track_artists.artist_id,

        -- strings
        artists.artist_name,

        -- numerics
        track_artists.artist_position + 1 as credit_position,

        -- booleans
        track_artists.is_primary_artist

    from track_artists
    left join artists
        on track_artists.artist_id = artists.artist_id

)

select * from final
