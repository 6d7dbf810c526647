with

track_artists as (

    select * from {{ ref('stg_spotify__track_artists') }}

),

artists as (

    select * from {{ ref('int_artists') }}

),

named as (

    select
        track_artists.track_id,
        track_artists.artist_id,
        track_artists.artist_position,
        track_artists.is_primary_artist,
        coalesce(artists.artist_name, track_artists.artist_id) as artist_name

    from track_artists
    left join artists
        on track_artists.artist_id = artists.artist_id

),

aggregated as (

    select
        track_id,
        max(case when is_primary_artist then artist_id end) as primary_artist_id,
        max(case when is_primary_artist then artist_name end) as primary_artist_name,
        {{ dbt.listagg('artist_name', "', '", 'order by artist_position') }} as artist_names,
        count(*) as artist_count

    from named
    group by track_id

)

select * from aggregated
