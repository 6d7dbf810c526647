{#- No clustering on Snowflake, unlike the other daily facts: each run appends its days, so the
    micro-partitions follow the date anyway. (fakesnow, the offline stand-in, also cannot run a
    clustered create of a query with date arithmetic.) -#}
{{ incremental_fact_config(['track_id', 'observed_date'], 'observed_date', cluster_by_date=false) }}

{#- An incremental run rebuilds the days from `since` to the latest built (`latest`), which compare
    with the same days 1, 7 and 28 days before: each side of a comparison reads those days only,
    so the joins hash a few days rather than a month. -#}
{%- set since = incremental_since('observed_date') %}
{%- set days = modules.datetime.timedelta %}
{%- if since is not none %}
    {%- set latest = run_query('select max(observed_date) from ' ~ ref('fct_track_popularity_daily')).columns[0].values()[0] %}
    {%- set latest = since if latest is none else modules.datetime.date.fromisoformat((latest | string)[:10]) %}
{%- endif %}

with

daily as (

    select * from {{ ref('fct_track_popularity_daily') }}
    {%- if since is not none %}
        where observed_date >= {{ date_literal(since - modules.datetime.timedelta(days=28)) }}
    {%- endif %}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),
{% for name, back in [('day_before', 1), ('week_before', 7), ('month_before', 28)] %}
{{ name }} as (

    select * from daily
    {%- if since is not none %}
    where
        observed_date >= {{ date_literal(since - days(days=back)) }}
        and observed_date <= {{ date_literal(latest - days(days=back)) }}
    {%- endif %}

),
{% endfor %}

compared as (

    select
        today.track_id,
        today.observed_date,
        today.signal_score,
        today.signal_score - day_before.signal_score as change_1d,
        today.signal_score - week_before.signal_score as change_7d,
        today.signal_score - month_before.signal_score as change_28d

    from daily as today
    left join day_before
        on
            today.track_id = day_before.track_id
            and day_before.observed_date = cast({{ dbt.dateadd('day', -1, 'today.observed_date') }} as date)
    left join week_before
        on
            today.track_id = week_before.track_id
            and week_before.observed_date = cast({{ dbt.dateadd('day', -7, 'today.observed_date') }} as date)
    left join month_before
        on
            today.track_id = month_before.track_id
            and month_before.observed_date = cast({{ dbt.dateadd('day', -28, 'today.observed_date') }} as date)
    {%- if since is not none %}
        where today.observed_date >= {{ date_literal(since) }}
    {%- endif %}

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

)

select * from final
