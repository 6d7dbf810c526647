{{ incremental_fact_config(['playlist_id', 'snapshot_date', 'playlist_position'], 'snapshot_date') }}

with

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}
    {{ incremental_window('snapshot_date') }}

),

final as (

    select
        -- ids
        playlist_id,
        track_id,

        -- numerics
        position + 1 as playlist_position,

        -- dates
        snapshot_date,

        -- timestamps
        added_at

    from playlist_items
    where item_type = 'track'

)

select * from final
