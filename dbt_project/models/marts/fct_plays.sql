{{ incremental_fact_config(['played_at'], 'played_date') }}

with

plays as (

    select * from {{ ref('stg_spotify__plays') }}
    {{ incremental_window('played_date') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

final as (

    select
        -- ids
        plays.track_id,
        tracks.primary_artist_id,
        tracks.album_id,

        -- strings
        plays.context_type,
        plays.context_uri,

        -- numerics
        tracks.duration_ms,

        -- dates
        plays.played_date,

        -- timestamps
        plays.played_at

    from plays
    left join tracks
        on plays.track_id = tracks.track_id

)

select * from final
