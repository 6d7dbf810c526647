with

plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

counted as (

    select
        track_id,
        played_date,
        count(*) as play_count

    from plays
    group by track_id, played_date

)

select * from counted
