with

observations as (

    select * from {{ ref('stg_spotify__track_observations') }}

),

playlist_reach as (

    select * from {{ ref('int_track_playlist_reach_daily') }}

),

search_ranks as (

    select * from {{ ref('int_track_search_ranks_daily') }}

),

top_ranks as (

    select * from {{ ref('int_user_top_ranks_daily') }}
    where item_type = 'track'

),

plays as (

    select * from {{ ref('int_track_plays_daily') }}

),

joined as (

    select
        observations.track_id,
        observations.observed_date,
        observations.popularity,
        coalesce(playlist_reach.playlist_count, 0) as playlist_count,
        coalesce(playlist_reach.playlist_appearance_count, 0) as playlist_appearance_count,
        playlist_reach.best_playlist_position,
        search_ranks.best_search_rank,
        top_ranks.top_rank_short_term,
        top_ranks.top_rank_medium_term,
        top_ranks.top_rank_long_term,
        coalesce(plays.play_count, 0) as play_count

    from observations
    left join playlist_reach
        on
            observations.track_id = playlist_reach.track_id
            and observations.observed_date = playlist_reach.snapshot_date
    left join search_ranks
        on
            observations.track_id = search_ranks.track_id
            and observations.observed_date = search_ranks.observed_date
    left join top_ranks
        on
            observations.track_id = top_ranks.entity_id
            and observations.observed_date = top_ranks.observed_date
    left join plays
        on
            observations.track_id = plays.track_id
            and observations.observed_date = plays.played_date

)

select * from joined
