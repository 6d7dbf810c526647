with

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}

),

track_items as (

    select * from playlist_items
    where item_type = 'track'

),

reach as (

    select
        track_id,
        snapshot_date,
        count(distinct playlist_id) as playlist_count,
        count(*) as playlist_appearance_count,
        min(position) + 1 as best_playlist_position

    from track_items
    group by track_id, snapshot_date

)

select * from reach
