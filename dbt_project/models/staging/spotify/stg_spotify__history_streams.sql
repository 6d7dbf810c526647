with

source as (

    select * from {{ source('spotify', 'history_streams') }}

),

renamed as (

    select
        -- ids
        item_key,
        track_id,
        episode_id,
        audiobook_uri,
        audiobook_chapter_uri,

        -- strings
        item_type,
        track_name,
        album_artist_name,
        album_name,
        episode_name,
        show_name,
        audiobook_title,
        audiobook_chapter_title,
        platform,
        conn_country,
        reason_start,
        reason_end,
        source_file,

        -- numerics
        ms_played,
        source_position,

        -- booleans
        is_shuffle,
        is_offline,
        is_incognito,
        is_skipped as is_skipped_reported,
        -- The export's `skipped` is false for years in some accounts: a stream also counts as
        -- skipped when it was ended by a skip or stop within 30 s (Spotify's own threshold).
        coalesce(is_skipped, false)
        or (reason_end in ('fwdbtn', 'backbtn', 'endplay') and ms_played < 30000) as is_skipped,

        {{ export_play_times() }}

    from source

),

deduplicated as (

    {{ one_row_per_export_play(
        'renamed',
        [
            'item_key', 'track_id', 'episode_id', 'audiobook_uri', 'audiobook_chapter_uri',
            'item_type', 'track_name', 'album_artist_name', 'album_name', 'episode_name',
            'show_name', 'audiobook_title', 'audiobook_chapter_title', 'platform', 'conn_country',
            'reason_start', 'reason_end', 'source_file', 'ms_played', 'source_position',
            'is_shuffle', 'is_offline', 'is_incognito', 'is_skipped_reported', 'is_skipped',
        ],
    ) }}

)

select * from deduplicated
