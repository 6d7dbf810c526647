{#- No clustering on Snowflake, unlike the other daily facts: each run appends its days, so the
    micro-partitions follow the date anyway. (fakesnow, the offline stand-in, also cannot run a
    clustered create of a query with date arithmetic.) -#}
{{ incremental_fact_config(['track_id', 'observed_date'], 'observed_date', cluster_by_date=false) }}

{#- Each day compares with the same track 1, 7 and 28 days before: a window over the track's days,
    framed on the day number, so the day it names or nothing (a missing day is not the one
    before it). One sort by track and day, where three self-joins hashed the whole fact three
    times. An incremental run rebuilds the days from `since` on, reading 28 days more. -#}
{%- set since = incremental_since('observed_date') %}

with

daily as (

    select
        track_id,
        observed_date,
        signal_score,
        {{ day_number('observed_date') }} as day_number
    from {{ ref('fct_track_popularity_daily') }}
    {%- if since is not none %}
        where observed_date >= {{ date_literal(since - modules.datetime.timedelta(days=28)) }}
    {%- endif %}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

compared as (

    select
        track_id,
        observed_date,
        signal_score,
        signal_score - max(signal_score) over (
            partition by track_id
            order by day_number
            range between 1 preceding and 1 preceding
        ) as change_1d,
        signal_score - max(signal_score) over (
            partition by track_id
            order by day_number
            range between 7 preceding and 7 preceding
        ) as change_7d,
        signal_score - max(signal_score) over (
            partition by track_id
            order by day_number
            range between 28 preceding and 28 preceding
        ) as change_28d

    from daily

),

final as (

    select
        -- ids
        compared.track_id,

        -- strings
        case
            when coalesce(compared.change_7d, compared.change_1d) > 0 then 'rising'
            when coalesce(compared.change_7d, compared.change_1d) < 0 then 'falling'
            when coalesce(compared.change_7d, compared.change_1d) = 0 then 'steady'
            else 'new'
        end as trend,

        -- numerics
        compared.signal_score,
        compared.change_1d,
        compared.change_7d,
        compared.change_28d,
        rank() over (
            partition by compared.observed_date
            order by compared.signal_score desc
        ) as daily_rank,

        -- dates
        compared.observed_date,
        tracks.first_seen_date

    from compared
    left join tracks
        on compared.track_id = tracks.track_id
    {%- if since is not none %}
        where compared.observed_date >= {{ date_literal(since) }}
    {%- endif %}

)

select * from final
