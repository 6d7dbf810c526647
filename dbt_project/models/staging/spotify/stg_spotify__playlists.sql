with

source as (

    select * from {{ source('spotify', 'playlists') }}

),

renamed as (

    select
        -- ids
        playlist_id,
        owner_id,
        snapshot_id,

        -- strings
        name as playlist_name,
        description,
        owner_name,

        -- numerics
        total_items,
        followers,

        -- booleans
        is_public,
        is_collaborative,
        are_items_readable,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
