{#
    Discovery: the first listen of each track and of each artist the user has played, and how
    often they played it since. Music only. A track is its id when known, otherwise its names
    (account-data plays no known track matches); an artist is its name, the only artist the export
    gives. Only the extended streaming history reaches back far enough for "first ever" to hold:
    with account data or API plays alone, the first listen is the first one tunelake has.
#}

with

music as (

    select
        *,
        coalesce(track_id, lower(track_name) || ' - ' || lower(artist_name)) as track_key,
        lower(artist_name) as artist_key
    from {{ ref('fct_listens') }}
    where item_type = 'track'

),

tracks as (

    select
        'track' as discovery_kind,
        track_key as discovery_key,
        track_id,
        track_name,
        artist_name,
        source,
        ended_at,
        count(*) over (partition by track_key) as play_count
    from music
    where track_key is not null

),

artists as (

    select
        'artist' as discovery_kind,
        artist_key as discovery_key,
        cast(null as varchar) as track_id,
        track_name,
        artist_name,
        source,
        ended_at,
        count(*) over (partition by artist_key) as play_count
    from music
    where artist_key is not null

),

listens as (

    select * from tracks
    union all
    select * from artists

),

firsts as (

    {{ one_row_per_key(
        'listens',
        key=['discovery_kind', 'discovery_key'],
        order_by='ended_at, source, track_name',
        columns=['discovery_kind', 'discovery_key', 'track_id', 'track_name', 'artist_name', 'source', 'ended_at', 'play_count'],
    ) }}

),

final as (

    select
        -- ids
        discovery_kind,
        discovery_key,
        track_id,

        -- strings
        track_name as first_track_name,
        artist_name,
        source as first_source,

        -- numerics
        play_count,

        -- dates
        {{ utc_date('ended_at') }} as first_listened_date,

        -- timestamps
        ended_at as first_listened_at

    from firsts

)

select * from final
