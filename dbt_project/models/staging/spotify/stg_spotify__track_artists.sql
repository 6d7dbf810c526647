with

source as (

    select * from {{ source('spotify', 'track_artists') }}

),

renamed as (

    select
        -- ids
        track_id,
        artist_id,

        -- numerics
        artist_position,

        -- booleans
        artist_position = 0 as is_primary_artist

    from source

)

select * from renamed
