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
        observed_date,

        -- timestamps
        observed_at

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by entity_type, entity_id
            order by observed_at desc
        ) as copy_number

    from renamed

),

-- One row per entity: Spotify's latest refusal. Each mention carries the same name, so the
-- latest is as good as any.
latest as (

    select
        entity_id,
        album_id,
        entity_type,
        entity_name,
        unavailable_reason,
        http_status,
        observed_date as last_refused_date,
        observed_at as last_observed_at

    from numbered
    where copy_number = 1

)

select * from latest
