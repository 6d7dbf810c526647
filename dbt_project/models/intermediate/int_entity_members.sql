-- Every track, album and artist id the loaded answers reference, fetched or not, so each
-- dimension has a row for every id a fact or bridge holds (Kimball's inferred members).
-- An id Spotify would not serve keeps the name the mentioning answer carried and the reason;
-- one no run has fetched yet (a stopped run's backlog) says so.
with

tracks as (

    select * from {{ ref('stg_spotify__tracks') }}

),

albums as (

    select * from {{ ref('stg_spotify__albums') }}

),

artists as (

    select * from {{ ref('stg_spotify__artists') }}

),

track_artists as (

    select * from {{ ref('stg_spotify__track_artists') }}

),

album_artists as (

    select * from {{ ref('stg_spotify__album_artists') }}

),

artist_albums as (

    select * from {{ ref('stg_spotify__artist_albums') }}

),

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}

),

plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

search_results as (

    select * from {{ ref('stg_spotify__search_results') }}

),

user_top_items as (

    select * from {{ ref('stg_spotify__user_top_items') }}

),

saved_tracks as (

    select * from {{ ref('stg_spotify__saved_tracks') }}

),

saved_albums as (

    select * from {{ ref('stg_spotify__saved_albums') }}

),

followed_artists as (

    select * from {{ ref('stg_spotify__followed_artists') }}

),

unavailable_entities as (

    select * from {{ ref('stg_spotify__unavailable_entities') }}

),

fetched as (

    select
        'track' as entity_type,
        track_id as entity_id
    from tracks
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from albums
    union all
    select
        'artist' as entity_type,
        artist_id as entity_id
    from artists

),

referenced as (

    select
        entity_type,
        entity_id
    from fetched
    union all
    select
        'track' as entity_type,
        track_id as entity_id
    from playlist_items
    where item_type = 'track'
    union all
    select
        'track' as entity_type,
        track_id as entity_id
    from plays
    union all
    select
        'track' as entity_type,
        track_id as entity_id
    from saved_tracks
    union all
    select
        'track' as entity_type,
        track_id as entity_id
    from track_artists
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from tracks
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from album_artists
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from artist_albums
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from saved_albums
    union all
    select
        'album' as entity_type,
        album_id as entity_id
    from unavailable_entities
    where entity_type = 'track'
    union all
    select
        'artist' as entity_type,
        artist_id as entity_id
    from track_artists
    union all
    select
        'artist' as entity_type,
        artist_id as entity_id
    from album_artists
    union all
    select
        'artist' as entity_type,
        artist_id as entity_id
    from artist_albums
    union all
    select
        'artist' as entity_type,
        artist_id as entity_id
    from followed_artists
    union all
    select
        result_type as entity_type,
        entity_id
    from search_results
    union all
    select
        item_type as entity_type,
        entity_id
    from user_top_items
    union all
    select
        entity_type,
        entity_id
    from unavailable_entities

),

members as (

    select distinct
        entity_type,
        entity_id
    from referenced
    where entity_id is not null

),

final as (

    select
        -- ids
        members.entity_id,
        unavailable_entities.album_id as referenced_album_id,

        -- strings
        members.entity_type,
        unavailable_entities.entity_name as referenced_name,
        case
            when fetched.entity_id is not null then null
            when unavailable_entities.entity_id is not null then unavailable_entities.unavailable_reason
            else 'not fetched yet'
        end as unavailable_reason,

        -- booleans
        fetched.entity_id is null as is_unavailable

    from members
    left join fetched
        on
            members.entity_type = fetched.entity_type
            and members.entity_id = fetched.entity_id
    left join unavailable_entities
        on
            members.entity_type = unavailable_entities.entity_type
            and members.entity_id = unavailable_entities.entity_id

)

select * from final
