{#
    Everything observed of one kind of entity (`track`, `album` or `artist`) on a day, one row per
    entity and day: the values its observations carry (`measures`), and the signals every app
    sees, each computed here once for every kind. A track's playlist places and plays count for
    the track itself, for its album and for each artist it credits; searches and the user's top
    lists name the entity directly. The days are every day with any signal, or with
    `observed_days_only` the days the entity itself was observed.
#}
{% macro entity_signals_daily(entity_type, measures=['popularity'], observed_days_only=false) -%}
{%- set entity_id = entity_type ~ '_id' -%}
{#- Where a track's entity is found: a track is its own (every observed track was fetched, so it
    has its row in stg_spotify__tracks), an album is its tracks' album, an artist is credited. -#}
{%- set credits_model, credited_id = {
    'track': ('stg_spotify__tracks', 'track_id'),
    'album': ('stg_spotify__tracks', 'album_id'),
    'artist': ('stg_spotify__track_artists', 'artist_id'),
}[entity_type] -%}
with

playlist_items as (

    select * from {{ ref('stg_spotify__playlist_items') }}

),

plays as (

    select * from {{ ref('stg_spotify__plays') }}

),

top_ranks as (

    select * from {{ ref('int_user_top_ranks_daily') }}

),

search_results as (

    select * from {{ ref('stg_spotify__search_results') }}

),

observations as (

    select * from {{ ref('stg_spotify__' ~ entity_type ~ '_observations') }}

),

credits as (

    select
        track_id,
        {{ credited_id }} as entity_id

    from {{ ref(credits_model) }}

),

-- What tracks did each day: held places in the tracked playlists, were played.
track_days as (

    select
        track_id,
        snapshot_date as observed_date,
        playlist_id,
        position,
        false as is_play
    from playlist_items
    where item_type = 'track'
    union all
    select
        track_id,
        played_date as observed_date,
        null as playlist_id,
        null as position,
        true as is_play
    from plays

),

credited as (

    select
        credits.entity_id,
        track_days.observed_date,
        count(distinct track_days.playlist_id) as playlist_count,
        count(track_days.playlist_id) as playlist_appearance_count,
        min(track_days.position) + 1 as best_playlist_position,
        count(case when track_days.is_play then 1 end) as play_count

    from track_days
    inner join credits
        on track_days.track_id = credits.track_id
    group by credits.entity_id, track_days.observed_date

),

topped as (

    select
        entity_id,
        observed_date,
        top_rank_short_term,
        top_rank_medium_term,
        top_rank_long_term

    from top_ranks
    where item_type = '{{ entity_type }}'

),

searched as (

    select
        entity_id,
        observed_date,
        min(search_rank) as best_search_rank

    from search_results
    where result_type = '{{ entity_type }}'
    group by entity_id, observed_date

),

days as (

    select
        {{ entity_id }} as entity_id,
        observed_date
    from observations
    {%- if not observed_days_only %}
    {%- for signal in ['credited', 'topped', 'searched'] %}
    union
    select
        entity_id,
        observed_date
    from {{ signal }}
    {%- endfor %}
    {%- endif %}

),

joined as (

    select
        days.entity_id as {{ entity_id }},
        days.observed_date,
        {%- for measure in measures %}
        observations.{{ measure }},
        {%- endfor %}
        coalesce(credited.playlist_count, 0) as playlist_count,
        coalesce(credited.playlist_appearance_count, 0) as playlist_appearance_count,
        credited.best_playlist_position,
        searched.best_search_rank,
        topped.top_rank_short_term,
        topped.top_rank_medium_term,
        topped.top_rank_long_term,
        coalesce(credited.play_count, 0) as play_count

    from days
    left join observations
        on days.entity_id = observations.{{ entity_id }} and days.observed_date = observations.observed_date
    left join credited
        on days.entity_id = credited.entity_id and days.observed_date = credited.observed_date
    left join topped
        on days.entity_id = topped.entity_id and days.observed_date = topped.observed_date
    left join searched
        on days.entity_id = searched.entity_id and days.observed_date = searched.observed_date
    -- Tracks Spotify sent without their album count for no album.
    where days.entity_id is not null

)

select * from joined
{%- endmacro %}
