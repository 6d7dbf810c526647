with

source as (

    select * from {{ source('spotify', 'tracks') }}

),

renamed as (

    select
        -- ids
        track_id,
        album_id,

        -- strings
        name as track_name,
        isrc,

        -- numerics
        duration_ms,
        disc_number,
        track_number,
        popularity,

        -- booleans
        is_explicit,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
