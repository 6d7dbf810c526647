-- Incremental: a run writes only the artists whose row changed (macros/incremental.sql).
{{ incremental_dimension_config('artist_id') }}

with

artists as (

    select * from {{ ref('int_artists') }}

),

track_artists as (

    select * from {{ ref('stg_spotify__track_artists') }}

),

album_artists as (

    select * from {{ ref('stg_spotify__album_artists') }}

),

artist_observations as (

    select * from {{ ref('stg_spotify__artist_observations') }}

),

track_counts as (

    select
        artist_id,
        count(distinct track_id) as track_count

    from track_artists
    group by artist_id

),

album_counts as (

    select
        artist_id,
        count(distinct album_id) as album_count

    from album_artists
    group by artist_id

),

seen as (

    {{ seen_dates('artist_observations', 'artist_id') }}

),

final as (

    select
        -- ids
        artists.artist_id,

        -- strings
        artists.artist_name,
        artists.image_url,
        artists.unavailable_reason,

        -- numerics
        coalesce(track_counts.track_count, 0) as track_count,
        coalesce(album_counts.album_count, 0) as album_count,
        artists.popularity as latest_popularity,
        artists.followers as latest_followers,

        -- booleans
        artists.is_unavailable,

        -- dates
        seen.first_seen_date,
        seen.last_seen_date

    from artists
    left join track_counts
        on artists.artist_id = track_counts.artist_id
    left join album_counts
        on artists.artist_id = album_counts.artist_id
    left join seen
        on artists.artist_id = seen.artist_id

)

{{ changed_rows('final') }}
