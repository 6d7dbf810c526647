with

source as (

    select * from {{ source('spotify', 'album_observations') }}

),

renamed as (

    select
        -- ids
        album_id,

        -- numerics
        popularity,

        -- dates
        observed_date,

        -- timestamps
        observed_at

    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by album_id, observed_date
            order by observed_at desc
        ) as copy_number

    from renamed

),

-- One observation per album and day: the latest, should a day have been loaded twice.
deduplicated as (

    select
        album_id,
        popularity,
        observed_date,
        observed_at

    from numbered
    where copy_number = 1

)

select * from deduplicated
