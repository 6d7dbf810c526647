with

observations as (

    select * from {{ ref('stg_spotify__album_observations') }}

),

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}

),

tracks as (

    select * from {{ ref('stg_spotify__tracks') }}

),

search_results as (

    select * from {{ ref('stg_spotify__search_results') }}

),

plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

reach as (

    select
        tracks.album_id,
        playlist_items.snapshot_date as observed_date,
        count(distinct playlist_items.playlist_id) as playlist_count,
        min(playlist_items.position) + 1 as best_playlist_position

    from playlist_items
    inner join tracks
        on playlist_items.track_id = tracks.track_id
    where playlist_items.item_type = 'track'
    group by tracks.album_id, playlist_items.snapshot_date

),

searched as (

    select
        entity_id as album_id,
        observed_date,
        min(search_rank) as best_search_rank

    from search_results
    where result_type = 'album'
    group by entity_id, observed_date

),

played as (

    select
        tracks.album_id,
        plays.played_date as observed_date,
        count(*) as play_count

    from plays
    inner join tracks
        on plays.track_id = tracks.track_id
    group by tracks.album_id, plays.played_date

),

all_days as (

    select
        album_id,
        observed_date
    from observations
    union all
    select
        album_id,
        observed_date
    from reach
    union all
    select
        album_id,
        observed_date
    from searched
    union all
    select
        album_id,
        observed_date
    from played

),

days as (

    select distinct
        album_id,
        observed_date
    from all_days
    -- Tracks Spotify sent without their album count for no album.
    where album_id is not null

),

joined as (

    select
        days.album_id,
        days.observed_date,
        observations.popularity,
        coalesce(reach.playlist_count, 0) as playlist_count,
        reach.best_playlist_position,
        searched.best_search_rank,
        coalesce(played.play_count, 0) as play_count

    from days
    left join observations
        on days.album_id = observations.album_id and days.observed_date = observations.observed_date
    left join reach
        on days.album_id = reach.album_id and days.observed_date = reach.observed_date
    left join searched
        on days.album_id = searched.album_id and days.observed_date = searched.observed_date
    left join played
        on days.album_id = played.album_id and days.observed_date = played.observed_date

)

select * from joined
