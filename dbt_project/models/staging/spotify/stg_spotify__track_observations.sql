with

source as (

    select * from {{ source('spotify', 'track_observations') }}

),

renamed as (

    select
        -- ids
        track_id,

        -- numerics
        popularity,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

)

select * from renamed
