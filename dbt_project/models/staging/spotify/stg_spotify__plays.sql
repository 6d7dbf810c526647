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

-- Overlapping recently-played windows see a play more than once; its start time is its identity.
deduplicated as (

    {{ one_row_per_key(
        'renamed',
        key=['played_at'],
        order_by='track_id',
        columns=['track_id', 'context_type', 'context_uri', 'played_date', 'played_at'],
    ) }}

)

select * from deduplicated
