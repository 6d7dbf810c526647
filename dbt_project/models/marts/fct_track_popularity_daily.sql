with

track_observations as (

    select * from {{ ref('stg_spotify__track_observations') }}

),

playlist_reach as (

    select * from {{ ref('int_track_playlist_reach_daily') }}

),

final as (

    select
        -- ids
        track_observations.track_id,

        -- dates
        track_observations.observed_date,

        -- numerics
        track_observations.popularity,
        coalesce(playlist_reach.playlist_count, 0) as playlist_count,
        coalesce(playlist_reach.playlist_appearance_count, 0) as playlist_appearance_count,
        playlist_reach.best_playlist_position,

        -- booleans
        playlist_reach.track_id is not null as is_in_tracked_playlists,

        -- timestamps
        track_observations.observed_at

    from track_observations
    left join playlist_reach
        on
            track_observations.track_id = playlist_reach.track_id
            and track_observations.observed_date = playlist_reach.snapshot_date

)

select * from final
