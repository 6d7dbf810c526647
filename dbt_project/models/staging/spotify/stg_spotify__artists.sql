with

source as (

    select * from {{ source('spotify', 'artists') }}

),

renamed as (

    select
        -- ids
        artist_id,

        -- strings
        name as artist_name,
        image_url,

        -- numerics
        popularity,
        followers,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
