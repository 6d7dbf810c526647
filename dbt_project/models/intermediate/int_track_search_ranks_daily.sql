with

search_results as (

    select * from {{ ref('stg_spotify__search_results') }}

),

track_results as (

    select * from search_results
    where result_type = 'track'

),

ranked as (

    select
        entity_id as track_id,
        observed_date,
        min(search_rank) as best_search_rank,
        count(distinct search_query) as search_query_count

    from track_results
    group by entity_id, observed_date

)

select * from ranked
