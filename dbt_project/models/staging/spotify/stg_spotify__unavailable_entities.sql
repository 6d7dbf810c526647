with

source as (

    select * from {{ source('spotify', 'unavailable_entities') }}

),

renamed as (

    select
        -- ids
        entity_id,
        album_id,

        -- strings
        entity_type,
        name as entity_name,
        reason as unavailable_reason,

        -- numerics
        status as http_status,

        -- dates
        observed_date as last_refused_date,

        -- timestamps
        observed_at as last_observed_at

    from source

),

-- One row per entity: Spotify's latest refusal. Each mention carries the same name, so the
-- latest is as good as any.
latest as (

    {{ one_row_per_key(
        'renamed',
        key=['entity_type', 'entity_id'],
        order_by='last_observed_at desc',
        columns=[
            'entity_id', 'album_id', 'entity_type', 'entity_name', 'unavailable_reason', 'http_status',
            'last_refused_date', 'last_observed_at',
        ],
    ) }}

)

select * from latest
