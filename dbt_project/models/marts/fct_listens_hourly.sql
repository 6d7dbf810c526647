{#
    The user's listening per UTC hour over the whole history: when in the day and the week the
    user listens. A play counts in the hour it ended.
#}

with

listens as (

    select
        *,
        {{ utc_hour('ended_at') }} as hour_of_day
    from {{ ref('fct_listens') }}

),

hourly as (

    select
        ended_date as listened_date,
        hour_of_day,
        {{ iso_weekday('ended_date') }} as iso_weekday,
        count(*) as play_count,
        count(case when item_type = 'track' then 1 end) as music_play_count,
        count(case when is_skipped then 1 end) as skip_count,
        round(cast(sum(coalesce(ms_played, 0)) as double) / 60000, 1) as minutes_played
    from listens
    group by ended_date, hour_of_day

)

select * from hourly
