with

source as (

    select * from {{ source('spotify', 'search_results') }}

),

renamed as (

    select
        -- ids
        entity_id,

        -- strings
        query as search_query,
        result_type,

        -- numerics
        rank as search_rank,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

)

select * from renamed
