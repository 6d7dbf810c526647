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

        -- dates
        {{ utc_date('ended_at') }} as ended_date,

        -- timestamps
        {{ dbt.dateadd('millisecond', '-1 * ms_played', 'ended_at') }} as started_at,
        ended_at

    from source

),

deduplicated as (

    {{ one_row_per_key(
        'renamed',
        key=['ended_at', 'item_key', 'ms_played'],
        order_by='source_file, source_position',
        columns=[
            'item_key', 'item_type', 'artist_name', 'track_name', 'show_name', 'episode_name',
            'source_file', 'ms_played', 'source_position', 'ended_date', 'started_at', 'ended_at',
        ],
    ) }}

)

select * from deduplicated
