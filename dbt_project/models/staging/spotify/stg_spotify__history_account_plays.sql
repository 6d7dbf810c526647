with

source as (

    select * from {{ source('spotify', 'history_account_plays') }}

),

renamed as (

    select
        -- ids
        item_key,

        -- strings
        item_type,
        artist_name,
        track_name,
        show_name,
        episode_name,
        source_file,

        -- numerics
        ms_played,
        source_position,

        {{ export_play_times() }}

    from source

),

deduplicated as (

    {{ one_row_per_export_play(
        'renamed',
        [
            'item_key', 'item_type', 'artist_name', 'track_name', 'show_name', 'episode_name',
            'source_file', 'ms_played', 'source_position',
        ],
    ) }}

)

select * from deduplicated
