with

source as (

    select * from {{ source('spotify', 'playlist_items') }}

),

renamed as (

    select
        -- ids
        playlist_id,
        track_id,
        episode_id,
        added_by_id,

        -- strings
        item_type,
        item_name,

        -- numerics
        position,

        -- dates
        snapshot_date,

        -- timestamps
        added_at,
        observed_at

    from source

)

select * from renamed
