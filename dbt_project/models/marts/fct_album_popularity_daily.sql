{{
    config(
        materialized='incremental',
        unique_key=['album_id', 'observed_date'],
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
        partitioned_by=partition_by_day('observed_date'),
        cluster_by=['observed_date'],
    )
}}

with

album_signals as (

    select * from {{ ref('int_album_signals_daily') }}
    {{ incremental_window('observed_date') }}

),

final as (

    select
        -- ids
        album_id,

        -- dates
        observed_date,

        -- numerics
        popularity,
        playlist_count,
        best_playlist_position,
        best_search_rank,
        play_count,
        {{ signal_score('popularity', 'playlist_count', 'best_search_rank', 'play_count') }} as signal_score,

        -- booleans
        playlist_count > 0 as is_in_tracked_playlists

    from album_signals

)

select * from final
