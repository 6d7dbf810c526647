-- Incremental: a run writes only the tracks whose row changed (macros/incremental.sql).
{{ incremental_dimension_config('track_id') }}

with

members as (

    select * from {{ ref('int_entity_members') }}

),

tracks as (

    select * from {{ ref('stg_spotify__tracks') }}

),

albums as (

    select * from {{ ref('int_albums') }}

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

    {{ seen_dates('track_popularity_daily', 'track_id') }}

),

final as (

    select
        -- ids
        members.entity_id as track_id,
        coalesce(tracks.album_id, members.referenced_album_id) as album_id,
        tracks_with_artists.primary_artist_id,
        tracks.playable_track_id,
        tracks.isrc,

        -- strings
        coalesce(tracks.track_name, members.referenced_name) as track_name,
        albums.album_name,
        tracks_with_artists.primary_artist_name,
        tracks_with_artists.artist_names,
        tracks.restriction_reason,
        members.unavailable_reason,

        -- numerics
        tracks.duration_ms,
        tracks.disc_number,
        tracks.track_number,
        tracks_with_artists.artist_count,
        tracks.popularity as latest_popularity,

        -- booleans
        tracks.is_explicit,
        tracks.is_playable,
        coalesce(tracks.is_relinked, false) as is_relinked,
        coalesce(tracks.is_ghost, false) as is_ghost,
        members.is_unavailable,

        -- dates
        albums.release_date,
        albums.release_date_precision,
        seen.first_seen_date,
        seen.last_seen_date

    from members
    left join tracks
        on members.entity_id = tracks.track_id
    left join albums
        on coalesce(tracks.album_id, members.referenced_album_id) = albums.album_id
    left join tracks_with_artists
        on members.entity_id = tracks_with_artists.track_id
    left join seen
        on members.entity_id = seen.track_id
    where members.entity_type = 'track'

)

{{ changed_rows('final') }}
