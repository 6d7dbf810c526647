with

source as (

    select * from {{ source('spotify', 'album_observations') }}

),

renamed as (

    select
        -- ids
        album_id,

        -- numerics
        popularity,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

)

select * from renamed
