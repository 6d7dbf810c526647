with

source as (

    select * from {{ source('spotify', 'artist_albums') }}

),

renamed as (

    select
        -- ids
        artist_id,
        album_id,

        -- strings
        album_group,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
