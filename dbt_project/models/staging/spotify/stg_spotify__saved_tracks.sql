with

source as (

    select * from {{ source('spotify', 'saved_tracks') }}

),

renamed as (

    select
        -- ids
        track_id,

        -- timestamps
        saved_at,
        observed_at as last_observed_at

    from source

)

select * from renamed
