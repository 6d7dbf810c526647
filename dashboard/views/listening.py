"""My listening: the user's plays, minutes and favourites over time (needs `tunelake auth`)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import Filters, sidebar, with_selected_tracks
from dashboard.queries import query

TOP = 10


def page() -> None:
    st.title("My listening")
    filters = sidebar()
    st.caption(f"Your recently played tracks, as loaded with your user token · {filters.label}")
    if int(query("play_total").iloc[0]["play_count"]) == 0:
        st.info(
            "No plays in the warehouse yet. Your listening is loaded once you authorize the app: run "
            "`tunelake auth`, then `tunelake ingest` (recently played reaches back about 50 plays, so ingest "
            "at least hourly to keep it all).",
            icon=":material/headphones:",
        )
        return
    plays = query("plays", filters.start, filters.end)
    plays = with_selected_tracks(plays, filters)
    if plays.empty:
        st.info("No plays in these dates for these filters: widen the date range or clear the artist filter.")
        return
    daily = _daily(plays, filters)

    minutes = daily["minutes_listened"].sum()
    charts.metrics(
        ("Plays", f"{int(daily['play_count'].sum()):,}", ":material/play_circle:"),
        ("Minutes listened", f"{minutes:,.0f}", ":material/schedule:"),
        ("Different tracks", f"{plays['track_id'].nunique():,}", ":material/music_note:"),
        ("Different artists", f"{plays['primary_artist_id'].nunique():,}", ":material/person:"),
    )

    left, right = st.columns([3, 2], gap="medium")
    with left:
        charts.section(
            "Minutes per day", "Bars: minutes listened (a play counts whole). Line: number of plays.", _per_day(daily)
        )
    with right:
        charts.section("Time of day", "Plays by hour (UTC).", _by_hour(plays))

    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader("Top artists")
        artists = plays.groupby("primary_artist_name").size().nlargest(TOP).reset_index(name="plays")
        charts.show(
            charts.ranked_bars(artists, "plays", "primary_artist_name", "Plays", ["primary_artist_name", "plays"])
        )
    with right:
        st.subheader("Top tracks")
        tracks = plays.assign(track=charts.track_label(plays))
        top_tracks = tracks.groupby("track").size().nlargest(TOP).reset_index(name="plays")
        charts.show(charts.ranked_bars(top_tracks, "plays", "track", "Plays", ["track", "plays"], color=charts.BLUE))

    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.subheader("Played from")
        contexts = plays.assign(context=plays["context_type"].fillna("other (no context)"))
        share = contexts.groupby("context").size().reset_index(name="plays")
        charts.show(charts.share_donut(share, "plays", "context"))
    with right:
        _recent(plays)


def _recent(plays: pd.DataFrame) -> None:
    """The latest plays, newest first."""
    st.subheader("Recent plays")
    recent = plays.sort_values("played_at", ascending=False).head(200)
    recent = recent.assign(context_type=recent["context_type"].fillna("-"))
    charts.table(
        recent,
        {
            "played_at": st.column_config.DatetimeColumn("Played (UTC)", format="YYYY-MM-DD HH:mm"),
            "track_name": "Track",
            "primary_artist_name": "Artist",
            "album_name": "Album",
            "context_type": "From",
        },
        height=340,
    )


def _daily(plays: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Listening per day: the mart as it is, or the same sums over the selected artists' plays."""
    if not filters.artist_ids:
        return query("listening_daily", filters.start, filters.end)
    grouped = plays.groupby("played_date")
    return pd.DataFrame(
        {
            "play_count": grouped.size(),
            "distinct_track_count": grouped["track_id"].nunique(),
            "minutes_listened": grouped["duration_ms"].sum() / 60_000,
        }
    ).reset_index()


def _per_day(daily: pd.DataFrame) -> alt.Chart | None:
    if daily.empty:
        return None
    base = alt.Chart().encode(x=charts.day_axis("played_date", bars=True))
    bars = base.mark_bar(color=charts.GREEN, opacity=0.85, cornerRadiusEnd=3).encode(
        y=alt.Y("minutes_listened:Q", title="Minutes"),
        tooltip=charts.tips(
            alt.Tooltip("played_date:T", format="%a %b %d"),
            alt.Tooltip("minutes_listened:Q", title="minutes", format=",.0f"),
            alt.Tooltip("play_count:Q", title="plays"),
        ),
    )
    line = base.mark_line(color=charts.AMBER, strokeWidth=2.5, point=alt.OverlayMarkDef(color=charts.AMBER)).encode(
        y=alt.Y("play_count:Q", title="Plays", axis=alt.Axis(titleColor=charts.AMBER))
    )
    return charts.layered(daily, bars, line).resolve_scale(y="independent").properties(height=charts.HEIGHT)


def _by_hour(plays: pd.DataFrame) -> alt.Chart | None:
    hours = plays["played_at"].dt.hour.value_counts().reindex(range(24), fill_value=0)
    frame = pd.DataFrame({"hour": hours.index, "plays": hours.to_numpy()})
    return (
        alt.Chart(frame)
        .mark_bar(color=charts.BLUE, cornerRadiusEnd=2)
        .encode(
            x=alt.X("hour:O", title="Hour of day (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("plays:Q", title="Plays", axis=alt.Axis(tickMinStep=1, format=",d")),
            tooltip=charts.tips("hour", "plays"),
        )
        .properties(height=charts.HEIGHT)
    )
