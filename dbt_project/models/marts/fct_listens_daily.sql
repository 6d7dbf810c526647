{#
    The user's listening per UTC day over the whole history (every source of fct_listens), music
    apart from podcasts and audiobooks. Minutes are the time actually played; a play only the API
    saw counts as a play without minutes (recently played says when, not for how long).
#}

with

listens as (

    select * from {{ ref('fct_listens') }}

),

daily as (

    select
        ended_date as listened_date,
        count(*) as play_count,
        count(case when item_type = 'track' then 1 end) as music_play_count,
        count(case when is_skipped then 1 end) as skip_count,
        {{ distinct_tracks_played() }} as distinct_track_count,
        {{ distinct_artists_played() }} as distinct_artist_count,
        -- in double on every engine (Athena and Snowflake would divide in exact decimals)
        round(cast(sum(coalesce(ms_played, 0)) as double) / 60000, 1) as minutes_played,
        round(cast(sum(case when item_type = 'track' then coalesce(ms_played, 0) else 0 end) as double) / 60000, 1)
            as music_minutes_played
    from listens
    group by ended_date

)

select * from daily
