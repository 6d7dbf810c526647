with

source as (

    select * from {{ source('spotify', 'tracks') }}

),

renamed as (

    select
        -- ids
        track_id,
        playable_track_id,
        album_id,

        -- strings
        name as track_name,
        isrc,
        preview_url,
        restriction_reason,

        -- numerics
        duration_ms,
        disc_number,
        track_number,
        popularity,

        -- booleans
        is_explicit,
        is_playable,
        coalesce(playable_track_id <> track_id, false) as is_relinked,
        -- A "ghost": still listed in playlists, no longer served (an empty name, a duration of 0).
        coalesce(name, '') = '' and coalesce(duration_ms, 0) = 0 as is_ghost,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
