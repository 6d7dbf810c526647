"""Popularity trends: which tracks and artists rise and fall, by the project's signal score.

In development mode Spotify gives no popularity, so `signal_score` (0-100) is the measure: Spotify's
popularity when the tier has it, otherwise reach in the tracked playlists, search rank and plays.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import Filters, sidebar, tracks_of, with_selected_tracks
from dashboard.queries import query

MOVERS_PER_SIDE = 10
DEFAULT_LINES = 6
TREND_ICONS = {"rising": "trending_up", "falling": "trending_down", "new": "fiber_new", "steady": "trending_flat"}


def page() -> None:
    st.title("Popularity trends")
    filters = sidebar()
    st.caption(
        "Signal score 0-100: Spotify's popularity when the API gives it, otherwise reach in the tracked "
        f"playlists, search rank and plays · {filters.label}"
    )
    movers = with_selected_tracks(query("track_movers", filters.start, filters.end), filters)
    if movers.empty:
        st.info("No track was observed in these dates: widen the date range or clear the artist filter.")
        return
    day = movers["observed_date"].max()
    movers = movers.assign(change=movers["change_7d"].fillna(movers["change_1d"]))

    counts = movers["trend"].value_counts()
    charts.metrics(
        *(
            (f"{trend.capitalize()} tracks", f"{counts.get(trend, 0):,}", f":material/{icon}:")
            for trend, icon in TREND_ICONS.items()
        )
    )

    left, right = st.columns([3, 2], gap="medium")
    with left:
        charts.section(
            f"Biggest movers on {day:%b %d}",
            "Change in signal score over 7 days (1 day while there is less than a week of history).",
            _movers_chart(movers),
            "No track rose or fell on that day.",
        )
    with right:
        charts.section(
            "Risers and fallers per day",
            "Tracks whose signal score rose (up) or fell (down) each day.",
            _trend_mix(filters),
            "No trends in these dates.",
        )

    _track_lines(movers, filters)

    _artists(filters)

    _movers_table(movers)


def _track_lines(movers: pd.DataFrame, filters: Filters) -> None:
    """Signal score over time of the tracks a person picks (the biggest movers to start with)."""
    st.subheader("Signal score of tracks")
    moving = movers[movers["trend"].isin(["rising", "falling"])].sort_values("change", key=abs, ascending=False)
    ranked = pd.concat([moving, movers.sort_values("daily_rank")]).drop_duplicates("track_id")
    labels = dict(zip(ranked["track_id"], charts.track_label(ranked), strict=True))
    chosen = st.multiselect(
        "Tracks",
        options=list(labels),
        default=list(labels)[:DEFAULT_LINES],
        format_func=lambda track_id: labels.get(track_id, track_id),
        key="trend_tracks",
        placeholder="Pick tracks to compare",
        label_visibility="collapsed",
    )
    if chosen:
        signal = query("track_signal", filters.start, filters.end, ids=chosen)
        signal["track"] = charts.track_label(signal)
        chart = charts.lines_over_time(
            signal,
            "observed_date",
            "signal_score",
            "track",
            "Signal score",
            ["track", alt.Tooltip("observed_date:T", format="%b %d"), "signal_score"],
        )
        charts.show(chart, "These tracks have no score in these dates.")
    else:
        st.info("Pick tracks above to compare their signal score over time.")


def _movers_table(movers: pd.DataFrame) -> None:
    """The tracks that rose or fell, biggest rise first."""
    st.subheader("Rising and falling tracks")
    table = movers[movers["trend"].isin(["rising", "falling"])].sort_values("change", ascending=False)
    charts.table(
        table,
        {
            "track_name": "Track",
            "primary_artist_name": "Artist",
            "trend": "Trend",
            "signal_score": st.column_config.ProgressColumn("Signal score", min_value=0, max_value=100, format="%d"),
            "change": st.column_config.NumberColumn("Change", format="%+d"),
            "daily_rank": st.column_config.NumberColumn("Rank that day", format="%d"),
        },
        height=320,
    )


def _movers_chart(movers: pd.DataFrame) -> alt.Chart | None:
    moving = movers[movers["change"].fillna(0) != 0]
    top = pd.concat(
        [moving.nlargest(MOVERS_PER_SIDE, "change"), moving.nsmallest(MOVERS_PER_SIDE, "change")]
    ).drop_duplicates("track_id")
    if top.empty:
        return None
    return charts.change_bars(
        top.assign(label=charts.track_label(top)),
        "label",
        ["track_name", "primary_artist_name", "signal_score", "change", "daily_rank"],
        label_limit=260,
    )


def _trend_mix(filters: Filters) -> alt.Chart | None:
    track_ids = tracks_of(filters)
    if track_ids is None:
        mix = query("track_trend_mix", filters.start, filters.end)
    else:
        # The aggregate is for all tracks; narrowed to some artists, count their tracks' trends here.
        daily = query("track_trends", filters.start, filters.end)
        mix = daily[daily["track_id"].isin(track_ids)].groupby(["observed_date", "trend"]).size()
        mix = mix.reset_index(name="track_count")
    # Steady and new tracks are the metrics above; the bars are the movement, fallers below zero.
    mix = mix[mix["trend"].isin(["rising", "falling"])]
    if mix.empty:
        return None
    mix = mix.assign(tracks=mix["track_count"].where(mix["trend"] == "rising", -mix["track_count"]))
    return (
        alt.Chart(mix)
        .mark_bar(cornerRadius=2)
        .encode(
            x=charts.day_axis("observed_date", bars=True),
            y=alt.Y("tracks:Q", title="Tracks", axis=alt.Axis(labelExpr="abs(datum.value)")),
            color=alt.Color(
                "trend:N",
                title=None,
                scale=alt.Scale(domain=["rising", "falling"], range=[charts.GREEN, charts.PINK]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=charts.tips(alt.Tooltip("observed_date:T", format="%b %d"), "trend", "track_count"),
        )
        .properties(height=charts.HEIGHT)
    )


def _artists(filters: Filters) -> None:
    daily = query("artist_daily", filters.start, filters.end)
    names = query("artists").set_index("artist_id")["artist_name"]
    daily = daily.assign(artist=daily["artist_id"].map(names))
    if filters.artist_ids:
        daily = daily[daily["artist_id"].isin(filters.artist_ids)]
    st.subheader("Artists over time")
    if daily.empty:
        st.info("No artist was observed in these dates.")
        return
    change = _artist_change(daily)
    left, right = st.columns([3, 2], gap="medium")
    with right:
        st.caption("Change in signal score from the first to the last day shown.")
        movers = pd.concat([change.nlargest(8, "change"), change.nsmallest(8, "change")]).drop_duplicates("artist_id")
        movers = movers[movers["change"] != 0]
        chart = None
        if not movers.empty:
            chart = charts.change_bars(
                movers, "artist", ["artist", "first_score", "last_score", "change"], label_limit=200
            )
        charts.show(chart, "No artist's score changed in these dates.")
    with left:
        if filters.artist_ids:
            shown = daily
            st.caption("Signal score of the selected artists.")
        else:
            # Half risers, half fallers: the biggest movers of one direction often share one path.
            half = DEFAULT_LINES // 2
            risers, fallers = change[change["change"] > 0], change[change["change"] < 0]
            top = pd.concat([risers.nlargest(half, "change"), fallers.nsmallest(half, "change")])
            shown = daily[daily["artist_id"].isin(top["artist_id"])]
            st.caption("Signal score of the biggest risers and fallers (pick artists in the sidebar for others).")
        chart = charts.lines_over_time(
            shown,
            "observed_date",
            "signal_score",
            "artist",
            "Signal score",
            ["artist", alt.Tooltip("observed_date:T", format="%b %d"), "signal_score", "playlist_count", "play_count"],
        )
        charts.show(chart)


def _artist_change(daily: pd.DataFrame) -> pd.DataFrame:
    ordered = daily.sort_values("observed_date")
    ends = ordered.groupby(["artist_id", "artist"])["signal_score"].agg(first_score="first", last_score="last")
    ends = ends.reset_index()
    return ends.assign(change=ends["last_score"] - ends["first_score"])
