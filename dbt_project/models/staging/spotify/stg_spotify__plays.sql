with

source as (

    select * from {{ source('spotify', 'plays') }}

),

renamed as (

    select
        -- ids
        track_id,

        -- strings
        context_type,
        context_uri,

        -- dates
        {{ utc_date('played_at') }} as played_date,

        -- timestamps
        played_at

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by played_at
            order by track_id
        ) as copy_number

    from renamed

),

-- Overlapping recently-played windows see a play more than once; its start time is its identity.
deduplicated as (

    select
        track_id,
        context_type,
        context_uri,
        played_date,
        played_at

    from numbered
    where copy_number = 1

)

select * from deduplicated
