with

top_items as (

    select * from {{ ref('stg_spotify__user_top_items') }}

),

pivoted as (

    select
        entity_id,
        item_type,
        observed_date,
        min(case when time_range = 'short_term' then top_rank end) as top_rank_short_term,
        min(case when time_range = 'medium_term' then top_rank end) as top_rank_medium_term,
        min(case when time_range = 'long_term' then top_rank end) as top_rank_long_term

    from top_items
    group by entity_id, item_type, observed_date

)

select * from pivoted
