with

plays as (

    select * from {{ ref('fct_plays') }}

),

daily as (

    select
        played_date,
        count(*) as play_count,
        count(distinct track_id) as distinct_track_count,
        count(distinct primary_artist_id) as distinct_artist_count,
        -- in double, as the contract says, on every engine (Athena and Snowflake divide by
        -- `60000.0` in exact decimals, DuckDB in double)
        round(cast(sum(coalesce(duration_ms, 0)) as double) / 60000, 1) as minutes_listened

    from plays
    group by played_date

)

select * from daily
