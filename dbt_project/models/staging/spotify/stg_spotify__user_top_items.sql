with

source as (

    select * from {{ source('spotify', 'user_top_items') }}

),

renamed as (

    select
        -- ids
        entity_id,

        -- strings
        item_type,
        time_range,

        -- numerics
        rank as top_rank,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

)

select * from renamed
