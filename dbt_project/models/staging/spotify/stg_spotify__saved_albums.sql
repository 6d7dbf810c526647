with

source as (

    select * from {{ source('spotify', 'saved_albums') }}

),

renamed as (

    select
        -- ids
        album_id,

        -- timestamps
        saved_at,
        observed_at as last_observed_at

    from source

)

select * from renamed
