with

source as (

    select * from {{ source('spotify', 'followed_artists') }}

),

renamed as (

    select
        -- ids
        artist_id,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
