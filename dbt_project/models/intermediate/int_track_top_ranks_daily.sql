with

top_items as (

    select * from {{ ref('stg_spotify__user_top_items') }}

),

top_tracks as (

    select * from top_items
    where item_type = 'track'

),

pivoted as (

    select
        entity_id as track_id,
        observed_date,
        min(case when time_range = 'short_term' then top_rank end) as top_rank_short_term,
        min(case when time_range = 'medium_term' then top_rank end) as top_rank_medium_term,
        min(case when time_range = 'long_term' then top_rank end) as top_rank_long_term

    from top_tracks
    group by entity_id, observed_date

)

select * from pivoted
