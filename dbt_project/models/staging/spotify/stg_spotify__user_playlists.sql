with

source as (

    select * from {{ source('spotify', 'user_playlists') }}

),

renamed as (

    select
        -- ids
        playlist_id,
        owner_id,

        -- strings
        name as playlist_name,

        -- numerics
        total_items,

        -- booleans
        is_collaborative,
        is_public,

        -- timestamps
        observed_at as last_observed_at

    from source
    -- The legacy "Starred" list has no id; nothing can key or join it.
    where playlist_id is not null

)

select * from renamed
