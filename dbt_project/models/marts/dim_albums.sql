-- Incremental: a run writes only the albums whose row changed (macros/incremental.sql).
{{ incremental_dimension_config('album_id') }}

with

albums as (

    select * from {{ ref('int_albums') }}

),

album_artists as (

    select * from {{ ref('stg_spotify__album_artists') }}

),

artists as (

    select * from {{ ref('int_artists') }}

),

album_observations as (

    select * from {{ ref('stg_spotify__album_observations') }}

),

seen as (

    {{ seen_dates('album_observations', 'album_id') }}

),

final as (

    select
        -- ids
        albums.album_id,
        album_artists.artist_id as primary_artist_id,
        albums.upc,

        -- strings
        albums.album_name,
        albums.album_type,
        artists.artist_name as primary_artist_name,
        albums.label,
        albums.image_url,
        albums.restriction_reason,
        albums.unavailable_reason,

        -- numerics
        albums.total_tracks,
        albums.popularity as latest_popularity,

        -- booleans
        albums.is_playable,
        albums.is_unavailable,

        -- dates
        albums.release_date,
        albums.release_date_precision,
        seen.first_seen_date,
        seen.last_seen_date

    from albums
    left join album_artists
        on albums.album_id = album_artists.album_id and album_artists.is_primary_artist
    left join artists
        on album_artists.artist_id = artists.artist_id
    left join seen
        on albums.album_id = seen.album_id

)

{{ changed_rows('final') }}
