with

source as (

    select * from {{ source('spotify', 'albums') }}

),

renamed as (

    select
        -- ids
        album_id,
        upc,

        -- strings
        name as album_name,
        album_type,
        label,
        image_url,
        release_date as release_date_raw,
        release_date_precision,
        restriction_reason,

        -- dates
        {{ normalize_release_date('release_date', 'release_date_precision') }} as release_date,

        -- numerics
        total_tracks,
        popularity,

        -- booleans
        is_playable,

        -- timestamps
        observed_at as last_observed_at

    from source

)

select * from renamed
