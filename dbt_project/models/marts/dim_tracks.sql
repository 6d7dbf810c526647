with

tracks as (

    select * from {{ ref('stg_spotify__tracks') }}

),

albums as (

    select * from {{ ref('stg_spotify__albums') }}

),

tracks_with_artists as (

    select * from {{ ref('int_tracks_with_artists') }}

),

-- The daily fact holds one row per observation day of each track (its days come from the
-- observations alone), deduplicated: cheaper to scan for first and last seen than the
-- observations, which the staging view deduplicates on every read.
track_popularity_daily as (

    select * from {{ ref('fct_track_popularity_daily') }}

),

seen as (

    select
        track_id,
        min(observed_date) as first_seen_date,
        max(observed_date) as last_seen_date

    from track_popularity_daily
    group by track_id

),

final as (

    select
        -- ids
        tracks.track_id,
        tracks.album_id,
        tracks_with_artists.primary_artist_id,
        tracks.isrc,

        -- strings
        tracks.track_name,
        albums.album_name,
        tracks_with_artists.primary_artist_name,
        tracks_with_artists.artist_names,

        -- numerics
        tracks.duration_ms,
        tracks.disc_number,
        tracks.track_number,
        tracks_with_artists.artist_count,
        tracks.popularity as latest_popularity,

        -- booleans
        tracks.is_explicit,

        -- dates
        albums.release_date,
        albums.release_date_precision,
        seen.first_seen_date,
        seen.last_seen_date

    from tracks
    left join albums
        on tracks.album_id = albums.album_id
    left join tracks_with_artists
        on tracks.track_id = tracks_with_artists.track_id
    left join seen
        on tracks.track_id = seen.track_id

)

select * from final
