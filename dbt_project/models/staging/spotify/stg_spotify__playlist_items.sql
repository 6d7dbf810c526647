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
        -- Editorial playlists give every entry the epoch (1970-01-01): no date, not a date.
        case
            when {{ utc_date('added_at') }} < cast('2000-01-01' as date) then null
            else added_at
        end as added_at,
        observed_at

    from source

)

select * from renamed
