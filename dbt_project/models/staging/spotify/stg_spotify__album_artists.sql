with

source as (

    select * from {{ source('spotify', 'album_artists') }}

),

renamed as (

    select
        -- ids
        album_id,
        artist_id,

        -- numerics
        artist_position,

        -- booleans
        artist_position = 0 as is_primary_artist

    from source

)

select * from renamed
