"""The dashboard's SQL over the marts, and the cached function that runs it.

Every statement is plain ANSI SQL that DuckDB, Snowflake and Athena (Trino) all accept: no
DuckDB shorthand (`group by all`, `qualify`, `::` casts), dates as `date 'YYYY-MM-DD'` literals.
Aggregation stays in the warehouse where it shrinks the answer; reshaping for charts happens in
pandas on the small frames that come back. Filters by date range are in the SQL, so a year of
history is not fetched to show a month; filters by artist or playlist are applied in pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.warehouse import configured_target, data_version, fetch

# Marts change once a day (or an hour, with scheduled ingestion): ten minutes is fresh enough where
# the dashboard cannot see a build land (Snowflake, Athena); a DuckDB file's answers are keyed on
# its version and refresh at once. The sidebar's "Reload data" clears the cache for the impatient.
CACHE_SECONDS = 600
SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")

SQL: dict[str, str] = {
    # ---- bounds and filters
    "date_bounds": """
        select min(first_day) as first_date, max(last_day) as last_date
        from (
            select min(observed_date) as first_day, max(observed_date) as last_day
            from marts.fct_track_popularity_daily
            union all
            select min(snapshot_date), max(snapshot_date) from marts.fct_playlist_tracks
            union all
            select min(played_date), max(played_date) from marts.fct_listening_daily
            union all
            select min(first_seen_date), max(first_seen_date) from marts.dim_tracks
        ) as bounds
    """,
    "artists": """
        select artist_id, artist_name, track_count, album_count, latest_followers, first_seen_date
        from marts.dim_artists
    """,
    "track_artists": "select track_id, artist_id from marts.dim_track_artists",
    "album_artists": "select album_id, artist_id from marts.dim_album_artists",
    # ---- catalog
    "tracks": """
        select
            track_id, album_id, primary_artist_id, track_name, album_name, primary_artist_name,
            artist_names, duration_ms, is_explicit, release_date, first_seen_date, is_unavailable
        from marts.dim_tracks
        -- Ghost tracks (listed, no longer served) are not catalog.
        where not is_ghost
    """,
    "albums": """
        select album_id, album_name, album_type, primary_artist_name, total_tracks, release_date, first_seen_date
        from marts.dim_albums
    """,
    "playlist_count": "select count(distinct playlist_id) as playlist_count from marts.fct_playlist_tracks",
    "playlists": "select playlist_id, playlist_name, owner_name from marts.dim_playlists",
    # ---- popularity trends
    "track_trend_mix": """
        select observed_date, trend, count(*) as track_count
        from marts.fct_track_trends_daily
        where observed_date between {start} and {end}
        group by observed_date, trend
    """,
    "track_trends": """
        select observed_date, track_id, trend
        from marts.fct_track_trends_daily
        where observed_date between {start} and {end}
    """,
    "track_movers": """
        select
            trends.track_id, tracks.track_name, tracks.primary_artist_name, trends.trend,
            trends.signal_score, trends.change_1d, trends.change_7d, trends.daily_rank, trends.observed_date
        from marts.fct_track_trends_daily as trends
        inner join marts.dim_tracks as tracks on trends.track_id = tracks.track_id and not tracks.is_ghost
        where trends.observed_date = (
            select max(observed_date) from marts.fct_track_trends_daily where observed_date between {start} and {end}
        )
    """,
    "track_signal": """
        select trends.observed_date, trends.track_id, tracks.track_name, tracks.primary_artist_name, trends.signal_score
        from marts.fct_track_trends_daily as trends
        inner join marts.dim_tracks as tracks on trends.track_id = tracks.track_id
        where trends.observed_date between {start} and {end} and trends.track_id in {ids}
    """,
    "artist_daily": """
        select observed_date, artist_id, signal_score, popularity, followers, playlist_count, play_count
        from marts.fct_artist_popularity_daily
        where observed_date between {start} and {end}
    """,
    # ---- playlist reach
    "playlist_entries": """
        select snapshot_date, playlist_id, track_id, playlist_position, added_at
        from marts.fct_playlist_tracks
        where snapshot_date between {start} and {end}
    """,
    # ---- my listening
    "listening_daily": """
        select played_date, play_count, distinct_track_count, distinct_artist_count, minutes_listened
        from marts.fct_listening_daily
        where played_date between {start} and {end}
    """,
    "plays": """
        select
            plays.played_at, plays.played_date, plays.track_id, plays.primary_artist_id, plays.context_type,
            plays.duration_ms, tracks.track_name, tracks.primary_artist_name, tracks.album_name
        from marts.fct_plays as plays
        left join marts.dim_tracks as tracks on plays.track_id = tracks.track_id
        where plays.played_date between {start} and {end}
    """,
    "play_total": "select count(*) as play_count from marts.fct_plays",
    # ---- listening history (the privacy export and the API's plays, each play once)
    "history_total": "select count(*) as listen_count from marts.fct_listens",
    "history_daily": """
        select listened_date, play_count, minutes_played, music_minutes_played
        from marts.fct_listens_daily
    """,
    "history_hours": """
        select iso_weekday, hour_of_day, sum(play_count) as play_count, sum(minutes_played) as minutes_played
        from marts.fct_listens_hourly
        group by iso_weekday, hour_of_day
    """,
    "history_discoveries": """
        select first_listened_date, discovery_kind, count(*) as discovered
        from marts.fct_first_listens
        group by first_listened_date, discovery_kind
    """,
    "history_years": """
        select
            listened_year, play_count, minutes_played, music_minutes_played, other_minutes_played,
            top_artist_name, top_track_name, top_track_artist_name, new_artist_count, new_track_count,
            listening_day_count, longest_streak_days, skip_rate
        from marts.fct_listening_yearly
    """,
    "history_top": """
        select listened_year, item_kind, yearly_rank, artist_name, track_name, play_count, minutes_played
        from marts.fct_listening_yearly_top
    """,
}


def date_literal(day: date) -> str:
    """A date as the ANSI literal every engine reads; only a `date` gets in, never text."""
    if not isinstance(day, date):
        raise TypeError(f"not a date: {day!r}")
    return f"date '{day:%Y-%m-%d}'"


def id_list(ids: Iterable[str]) -> str:
    """Spotify ids as an SQL list; ids are base62, and anything else is refused, not quoted."""
    checked = sorted(set(ids))
    if not checked or not all(SPOTIFY_ID.match(i) for i in checked):
        raise ValueError(f"not a list of Spotify ids: {checked!r}")
    return "(" + ", ".join(f"'{i}'" for i in checked) + ")"


def render(name: str, start: date | None = None, end: date | None = None, ids: Iterable[str] = ()) -> str:
    """The statement `name` with its date range and ids filled in."""
    values = {}
    if start is not None and end is not None:
        values = {"start": date_literal(start), "end": date_literal(end)}
    if ids:
        values["ids"] = id_list(ids)
    return SQL[name].format(**values)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def read(sql: str, version: str | None) -> pd.DataFrame:
    """Rows of one statement from the configured target, cached per statement and warehouse version.

    `version` is not used here: it is in the cache key, so a new build is a cache miss.
    """
    return fetch(configured_target(), sql)


def query(name: str, start: date | None = None, end: date | None = None, ids: Iterable[str] = ()) -> pd.DataFrame:
    return read(render(name, start, end, ids), data_version(configured_target()))
