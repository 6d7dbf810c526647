with

source as (

    select * from {{ source('spotify', 'artist_observations') }}

),

renamed as (

    select
        -- ids
        artist_id,

        -- numerics
        popularity,
        followers,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

)

select * from renamed
