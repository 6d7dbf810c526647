with

playlists as (

    select * from {{ ref('stg_spotify__playlists') }}

),

playlist_tracks as (

    select * from {{ ref('fct_playlist_tracks') }}

),

snapshots as (

    select
        playlist_id,
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_date) as last_snapshot_date

    from playlist_tracks
    group by playlist_id

),

final as (

    select
        -- ids
        playlists.playlist_id,
        playlists.owner_id,

        -- strings
        playlists.playlist_name,
        playlists.owner_name,

        -- numerics
        playlists.total_items,
        playlists.followers,

        -- booleans
        playlists.is_public,
        playlists.is_collaborative,
        playlists.are_items_readable,

        -- dates
        snapshots.first_snapshot_date,
        snapshots.last_snapshot_date

    from playlists
    left join snapshots
        on playlists.playlist_id = snapshots.playlist_id

)

select * from final
