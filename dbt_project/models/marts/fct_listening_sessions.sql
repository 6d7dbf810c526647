{#
    Listening sessions: plays with no gap of more than 30 minutes between one play's end and the
    next one's start. A play only the API saw has no known start and counts from its time.
#}

{% set session_gap_minutes = 30 %}
{% set session_seconds = seconds_between('session_started_at', 'session_ended_at') %}

with

listens as (

    select
        *,
        coalesce(started_at, ended_at) as began_at
    from {{ ref('fct_listens') }}

),

ordered as (

    select
        *,
        max(ended_at) over (
            order by began_at, ended_at, source, listen_key
            rows between unbounded preceding and 1 preceding
        ) as previous_ended_at
    from listens

),

flagged as (

    select
        *,
        case
            when previous_ended_at is null then 1
            when began_at > {{ dbt.dateadd('minute', session_gap_minutes, 'previous_ended_at') }} then 1
            else 0
        end as starts_session
    from ordered

),

numbered as (

    select
        *,
        sum(starts_session) over (
            order by began_at, ended_at, source, listen_key
            rows between unbounded preceding and current row
        ) as session_number
    from flagged

),

sessions as (

    select
        min(began_at) as session_started_at,
        max(ended_at) as session_ended_at,
        count(*) as play_count,
        count(case when is_skipped then 1 end) as skip_count,
        {{ distinct_tracks_played() }} as distinct_track_count,
        round(cast(sum(coalesce(ms_played, 0)) as double) / 60000, 1) as minutes_played
    from numbered
    group by session_number

),

final as (

    select
        -- numerics
        play_count,
        skip_count,
        distinct_track_count,
        minutes_played,
        round(cast({{ session_seconds }} as double) / 60, 1) as duration_minutes,

        -- dates
        {{ utc_date('session_started_at') }} as session_started_date,

        -- timestamps
        session_started_at,
        session_ended_at

    from sessions

)

select * from final
