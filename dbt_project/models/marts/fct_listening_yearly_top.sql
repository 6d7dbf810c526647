{#
    Each year's top artists and tracks, as a yearly recap ranks them: by minutes played, then
    plays. Music only. A track is its names (the export lists one recording under several ids:
    re-releases, relinking), an artist its name.
#}

{% set top_size = 10 %}

with

music as (

    select
        *,
        cast(extract(year from ended_date) as integer) as listened_year
    from {{ ref('fct_listens') }}
    where item_type = 'track' and artist_name is not null

),

items as (

    select
        listened_year,
        'artist' as item_kind,
        lower(artist_name) as item_key,
        min(artist_name) as artist_name,
        cast(null as varchar) as track_name,
        cast(null as varchar) as track_id,
        count(*) as play_count,
        sum(coalesce(ms_played, 0)) as ms_played
    from music
    group by listened_year, lower(artist_name)

    union all

    select
        listened_year,
        'track' as item_kind,
        lower(track_name) || ' - ' || lower(artist_name) as item_key,
        min(artist_name) as artist_name,
        min(track_name) as track_name,
        min(track_id) as track_id,
        count(*) as play_count,
        sum(coalesce(ms_played, 0)) as ms_played
    from music
    where track_name is not null
    group by listened_year, lower(track_name) || ' - ' || lower(artist_name)

),

ranked as (

    select
        *,
        row_number() over (
            partition by listened_year, item_kind
            order by ms_played desc, play_count desc, item_key asc
        ) as yearly_rank
    from items

),

final as (

    select
        -- ids
        listened_year,
        item_kind,
        yearly_rank,
        track_id,

        -- strings
        artist_name,
        track_name,

        -- numerics
        play_count,
        round(cast(ms_played as double) / 60000, 1) as minutes_played

    from ranked
    where yearly_rank <= {{ top_size }}

)

select * from final
