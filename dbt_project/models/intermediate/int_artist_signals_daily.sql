with

observations as (

    select * from {{ ref('stg_spotify__artist_observations') }}

),

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}

),

track_artists as (

    select * from {{ ref('stg_spotify__track_artists') }}

),

search_results as (

    select * from {{ ref('stg_spotify__search_results') }}

),

plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

reach as (

    select
        track_artists.artist_id,
        playlist_items.snapshot_date as observed_date,
        count(distinct playlist_items.playlist_id) as playlist_count,
        min(playlist_items.position) + 1 as best_playlist_position

    from playlist_items
    inner join track_artists
        on playlist_items.track_id = track_artists.track_id
    where playlist_items.item_type = 'track'
    group by track_artists.artist_id, playlist_items.snapshot_date

),

searched as (

    select
        entity_id as artist_id,
        observed_date,
        min(search_rank) as best_search_rank

    from search_results
    where result_type = 'artist'
    group by entity_id, observed_date

),

topped as (

    select
        entity_id as artist_id,
        observed_date,
        top_rank_short_term,
        top_rank_medium_term,
        top_rank_long_term

    from {{ ref('int_user_top_ranks_daily') }}
    where item_type = 'artist'

),

played as (

    select
        track_artists.artist_id,
        plays.played_date as observed_date,
        count(*) as play_count

    from plays
    inner join track_artists
        on plays.track_id = track_artists.track_id
    group by track_artists.artist_id, plays.played_date

),

all_days as (

    select
        artist_id,
        observed_date
    from observations
    union all
    select
        artist_id,
        observed_date
    from reach
    union all
    select
        artist_id,
        observed_date
    from searched
    union all
    select
        artist_id,
        observed_date
    from topped
    union all
    select
        artist_id,
        observed_date
    from played

),

days as (

    select distinct
        artist_id,
        observed_date
    from all_days

),

joined as (

    select
        days.artist_id,
        days.observed_date,
        observations.popularity,
        observations.followers,
        coalesce(reach.playlist_count, 0) as playlist_count,
        reach.best_playlist_position,
        searched.best_search_rank,
        topped.top_rank_short_term,
        topped.top_rank_medium_term,
        topped.top_rank_long_term,
        coalesce(played.play_count, 0) as play_count

    from days
    left join observations
        on days.artist_id = observations.artist_id and days.observed_date = observations.observed_date
    left join reach
        on days.artist_id = reach.artist_id and days.observed_date = reach.observed_date
    left join searched
        on days.artist_id = searched.artist_id and days.observed_date = searched.observed_date
    left join topped
        on days.artist_id = topped.artist_id and days.observed_date = topped.observed_date
    left join played
        on days.artist_id = played.artist_id and days.observed_date = played.observed_date

)

select * from joined
