{#
    The yearly recap: minutes and plays, the top artist and track, artists and tracks discovered,
    the longest streak of consecutive listening days and the skip rate, per UTC year.
#}

with

listens as (

    select
        *,
        cast(extract(year from ended_date) as integer) as listened_year
    from {{ ref('fct_listens') }}

),

discoveries as (

    select
        cast(extract(year from first_listened_date) as integer) as listened_year,
        count(case when discovery_kind = 'artist' then 1 end) as new_artist_count,
        count(case when discovery_kind = 'track' then 1 end) as new_track_count
    from {{ ref('fct_first_listens') }}
    group by cast(extract(year from first_listened_date) as integer)

),

top_items as (

    select * from {{ ref('fct_listening_yearly_top') }}
    where yearly_rank = 1

),

yearly as (

    select
        listened_year,
        count(*) as play_count,
        count(case when item_type = 'track' then 1 end) as music_play_count,
        count(case when is_skipped then 1 end) as skip_count,
        count(is_skipped) as skip_known_count,
        count(distinct ended_date) as listening_day_count,
        {{ distinct_tracks_played() }} as distinct_track_count,
        {{ distinct_artists_played() }} as distinct_artist_count,
        sum(coalesce(ms_played, 0)) as ms_played,
        sum(case when item_type = 'track' then coalesce(ms_played, 0) else 0 end) as music_ms_played
    from listens
    group by listened_year

),

listening_days as (

    select distinct
        listened_year,
        ended_date
    from listens

),

-- Consecutive days share an anchor: the day minus its rank in the year.
day_ranks as (

    select
        listened_year,
        ended_date,
        row_number() over (
            partition by listened_year
            order by ended_date
        ) as day_rank
    from listening_days

),

streaks as (

    select
        listened_year,
        {{ dbt.dateadd('day', '-1 * day_rank', 'ended_date') }} as streak_anchor,
        count(*) as streak_days
    from day_ranks
    group by listened_year, {{ dbt.dateadd('day', '-1 * day_rank', 'ended_date') }}

),

longest_streaks as (

    select
        listened_year,
        max(streak_days) as longest_streak_days
    from streaks
    group by listened_year

),

final as (

    select
        -- ids
        yearly.listened_year,

        -- strings
        top_artist.artist_name as top_artist_name,
        top_track.track_name as top_track_name,
        top_track.artist_name as top_track_artist_name,

        -- numerics
        yearly.play_count,
        yearly.music_play_count,
        yearly.skip_count,
        round(cast(yearly.ms_played as double) / 60000, 1) as minutes_played,
        round(cast(yearly.music_ms_played as double) / 60000, 1) as music_minutes_played,
        round(cast(yearly.ms_played - yearly.music_ms_played as double) / 60000, 1) as other_minutes_played,
        yearly.distinct_track_count,
        yearly.distinct_artist_count,
        coalesce(discoveries.new_artist_count, 0) as new_artist_count,
        coalesce(discoveries.new_track_count, 0) as new_track_count,
        yearly.listening_day_count,
        longest_streaks.longest_streak_days,
        -- Of the plays whose skip is known (not API-only plays).
        round(cast(yearly.skip_count as double) / nullif(yearly.skip_known_count, 0), 3) as skip_rate

    from yearly
    left join discoveries
        on yearly.listened_year = discoveries.listened_year
    left join longest_streaks
        on yearly.listened_year = longest_streaks.listened_year
    left join top_items as top_artist
        on
            yearly.listened_year = top_artist.listened_year
            and top_artist.item_kind = 'artist'
    left join top_items as top_track
        on
            yearly.listened_year = top_track.listened_year
            and top_track.item_kind = 'track'

)

select * from final
