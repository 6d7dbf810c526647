{#
    Every play the user made, from every source, once: the extended streaming history of the
    privacy export (the account's whole life), its account data (the last year, names only) and
    the Web API's recently played (the last 50, with the context). The same play seen twice is one
    row: an account-data play of the same name ending within 90 s of a stream is that stream; an
    API play of the same track within 60 s of a stream's end or start (90 s for account data) is
    that stream, which then keeps the API's context.
#}

with

streams as (

    select * from {{ ref('stg_spotify__history_streams') }}

),

account_plays as (

    select * from {{ ref('stg_spotify__history_account_plays') }}

),

api_plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

-- Account data names its tracks without ids: a name and artist that match a known track resolve to it.
named_tracks as (

    select
        track_id,
        lower(track_name) as track_name_key,
        lower(primary_artist_name) as artist_name_key
    from tracks
    where not is_ghost

),

track_names as (

    {{ one_row_per_key(
        'named_tracks',
        key=['track_name_key', 'artist_name_key'],
        order_by='track_id',
        columns=['track_id', 'track_name_key', 'artist_name_key'],
    ) }}

),

extended_listens as (

    select
        'extended_history' as source,
        streams.item_key || ':' || cast(streams.ms_played as varchar) as listen_key,
        streams.item_type,
        streams.track_id,
        streams.episode_id,
        streams.track_name,
        streams.album_artist_name as artist_name,
        streams.album_name,
        streams.show_name,
        streams.episode_name,
        streams.platform,
        streams.conn_country,
        streams.reason_start,
        streams.reason_end,
        streams.ms_played,
        streams.is_skipped,
        streams.is_shuffle,
        streams.started_at,
        streams.ended_at
    from streams

),

account_in_streams as (

    select distinct
        account_plays.item_key,
        account_plays.ended_at,
        account_plays.ms_played
    from account_plays
    inner join streams
        on
            account_plays.item_type = streams.item_type
            and lower(coalesce(account_plays.track_name, account_plays.episode_name))
            = lower(coalesce(streams.track_name, streams.episode_name))
            and {{ within_seconds('streams.ended_at', 'account_plays.ended_at', 90) }}

),

account_listens as (

    select
        'account_data' as source,
        account_plays.item_key || ':' || cast(account_plays.ms_played as varchar) as listen_key,
        account_plays.item_type,
        track_names.track_id,
        cast(null as varchar) as episode_id,
        account_plays.track_name,
        coalesce(account_plays.artist_name, account_plays.show_name) as artist_name,
        cast(null as varchar) as album_name,
        account_plays.show_name,
        account_plays.episode_name,
        cast(null as varchar) as platform,
        cast(null as varchar) as conn_country,
        cast(null as varchar) as reason_start,
        cast(null as varchar) as reason_end,
        account_plays.ms_played,
        -- Account data says nothing of skips: under 30 s (Spotify's own threshold) is the signal.
        account_plays.ms_played < 30000 as is_skipped,
        cast(null as boolean) as is_shuffle,
        account_plays.started_at,
        account_plays.ended_at
    from account_plays
    left join track_names
        on
            account_plays.item_type = 'track'
            and lower(account_plays.track_name) = track_names.track_name_key
            and lower(account_plays.artist_name) = track_names.artist_name_key
    left join account_in_streams
        on
            account_plays.item_key = account_in_streams.item_key
            and account_plays.ended_at = account_in_streams.ended_at
            and account_plays.ms_played = account_in_streams.ms_played
    where account_in_streams.item_key is null

),

export_listens as (

    select * from extended_listens
    union all
    select * from account_listens

),

-- An API play and a stream of the same track whose end or start lies within the window of the
-- API's time (`played_at` is seen as a play's start at some times and its end at others).
api_candidates as (

    select
        api_plays.played_at,
        export_listens.source,
        export_listens.listen_key,
        export_listens.ended_at
    from api_plays
    inner join export_listens
        on api_plays.track_id = export_listens.track_id
    where
        (
            export_listens.source = 'extended_history'
            and (
                {{ within_seconds('export_listens.ended_at', 'api_plays.played_at', 60) }}
                or {{ within_seconds('export_listens.started_at', 'api_plays.played_at', 60) }}
            )
        )
        or (
            export_listens.source = 'account_data'
            and (
                {{ within_seconds('export_listens.ended_at', 'api_plays.played_at', 90) }}
                or {{ within_seconds('export_listens.started_at', 'api_plays.played_at', 90) }}
            )
        )

),

-- One stream per API play, the extended history's before the account data's.
closest_per_api_play as (

    {{ one_row_per_key(
        'api_candidates',
        key=['played_at'],
        order_by="case when source = 'extended_history' then 0 else 1 end, ended_at, listen_key",
        columns=['played_at', 'source', 'listen_key', 'ended_at'],
    ) }}

),

matches as (

    {{ one_row_per_key(
        'closest_per_api_play',
        key=['source', 'listen_key', 'ended_at'],
        order_by='played_at',
        columns=['played_at', 'source', 'listen_key', 'ended_at'],
    ) }}

),

listens as (

    select
        export_listens.*,
        api_plays.context_type,
        api_plays.context_uri
    from export_listens
    left join matches
        on
            export_listens.source = matches.source
            and export_listens.listen_key = matches.listen_key
            and export_listens.ended_at = matches.ended_at
    left join api_plays
        on matches.played_at = api_plays.played_at

    union all

    select
        'api' as source,
        'spotify:track:' || api_plays.track_id as listen_key,
        'track' as item_type,
        api_plays.track_id,
        cast(null as varchar) as episode_id,
        tracks.track_name,
        tracks.primary_artist_name as artist_name,
        tracks.album_name,
        cast(null as varchar) as show_name,
        cast(null as varchar) as episode_name,
        cast(null as varchar) as platform,
        cast(null as varchar) as conn_country,
        cast(null as varchar) as reason_start,
        cast(null as varchar) as reason_end,
        -- Recently played says when, not for how long: the time played is unknown.
        cast(null as bigint) as ms_played,
        cast(null as boolean) as is_skipped,
        cast(null as boolean) as is_shuffle,
        -- A null of played_at's own type (zoned or not, per engine), which a cast cannot name.
        nullif(api_plays.played_at, api_plays.played_at) as started_at,
        api_plays.played_at as ended_at,
        api_plays.context_type,
        api_plays.context_uri
    from api_plays
    left join tracks
        on api_plays.track_id = tracks.track_id
    left join matches
        on api_plays.played_at = matches.played_at
    where matches.played_at is null

),

final as (

    select
        -- ids
        listen_key,
        track_id,
        episode_id,

        -- strings
        source,
        item_type,
        track_name,
        artist_name,
        album_name,
        show_name,
        episode_name,
        context_type,
        context_uri,
        platform,
        conn_country,
        reason_start,
        reason_end,

        -- numerics
        ms_played,

        -- booleans
        is_skipped,
        is_shuffle,
        item_type = 'track' and track_id is not null as is_resolved,

        -- dates
        {{ utc_date('ended_at') }} as ended_date,

        -- timestamps
        started_at,
        ended_at

    from listens

)

select * from final
