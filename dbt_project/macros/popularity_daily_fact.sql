{#
    A daily popularity fact (fct_<entity_type>_popularity_daily): the signals of
    int_<entity_type>_signals_daily it carries (`signals`, in its contract's order) and the
    attention score they add up to (signal_score.sql), built incrementally by day.
#}
{% macro popularity_daily_fact(entity_type, signals) -%}
{%- set entity_id = entity_type ~ '_id' -%}
{{ incremental_fact_config([entity_id, 'observed_date'], 'observed_date') }}

with

entity_signals as (

    select * from {{ ref('int_' ~ entity_type ~ '_signals_daily') }}
    {{ incremental_window('observed_date') }}

),

final as (

    select
        -- ids
        {{ entity_id }},

        -- dates
        observed_date,

        -- numerics
        {%- for signal in signals %}
        {{ signal }},
        {%- endfor %}
        {{ signal_score('popularity', 'playlist_count', 'best_search_rank', 'play_count') }} as signal_score,

        -- booleans
        playlist_count > 0 as is_in_tracked_playlists

    from entity_signals

)

select * from final
{%- endmacro %}
