with

source as (

    select * from {{ source('spotify', 'artist_observations') }}

),

renamed as (

    select
        -- ids
        artist_id,

        -- numerics
        popularity,
        followers,

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
            partition by artist_id, observed_date
            order by observed_at desc
        ) as copy_number

    from renamed

),

-- One observation per artist and day: the latest, should a day have been loaded twice.
deduplicated as (

    select
        artist_id,
        popularity,
        followers,
        observed_date,
        observed_at

    from numbered
    where copy_number = 1

)

select * from deduplicated
