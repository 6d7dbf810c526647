"""Listening history: years of the user's listening, from the privacy export and the API's plays.

The sidebar's date range and artists belong to the daily pages; this page spans the whole
history, and its year in review picks a year of its own.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.queries import query

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# Artists drawn in "Top artists over the years": the ones in a year's top five.
BUMP_TOP = 5


def page() -> None:
    st.title("Listening history")
    if int(query("history_total").iloc[0]["listen_count"]) == 0:
        st.info(
            "No listening history yet. Ask Spotify for your data (Account > Privacy > Download your data, "
            "the extended streaming history), then run `tunelake import-history my_spotify_data.zip` and "
            "`dbt build`. Plays loaded with `tunelake auth` show here too.",
            icon=":material/history:",
        )
        return
    daily = query("history_daily")
    years = query("history_years").sort_values("listened_year")
    first, last = daily["listened_date"].min(), daily["listened_date"].max()
    st.caption(
        f"Every play from your privacy export and the Web API, each play once · {first:%b %Y} to {last:%b %Y} (UTC)"
    )
    charts.metrics(
        ("Plays", f"{int(daily['play_count'].sum()):,}", ":material/play_circle:"),
        ("Hours played", f"{daily['minutes_played'].sum() / 60:,.0f}", ":material/schedule:"),
        ("Days listened", f"{len(daily):,}", ":material/calendar_month:"),
        ("Artists discovered", f"{int(years['new_artist_count'].sum()):,}", ":material/person_add:"),
    )

    charts.section(
        "Hours per month",
        "Music and podcasts or audiobooks, by the month the plays ended. Plays only the API saw add no time.",
        _per_month(daily),
    )
    left, right = st.columns(2, gap="medium")
    with left:
        charts.section("When you listen", "Hours played by weekday and hour of day (UTC).", _week_hours())
    with right:
        charts.section(
            "Discoveries",
            "Artists and tracks played for the first time, per month.",
            _discoveries(),
        )
    charts.section(
        "Top artists over the years",
        f"Each year's rank by minutes played, for the artists in a year's top {BUMP_TOP}. "
        "Click a name to bring it forward.",
        _top_artists_over_time(),
    )
    _year_in_review(years)


def _per_month(daily: pd.DataFrame) -> alt.Chart | None:
    months = daily.assign(month=pd.to_datetime(daily["listened_date"]).dt.to_period("M").dt.to_timestamp())
    totals = months.groupby("month")[["minutes_played", "music_minutes_played"]].sum().reset_index()
    long = pd.concat(
        [
            totals.assign(kind="Music", hours=totals["music_minutes_played"] / 60),
            totals.assign(
                kind="Podcasts and other", hours=(totals["minutes_played"] - totals["music_minutes_played"]) / 60
            ),
        ]
    )[["month", "kind", "hours"]]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
            y=alt.Y("hours:Q", title="Hours", stack=True),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["Music", "Podcasts and other"], range=[charts.GREEN, charts.BLUE]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=charts.tips(
                alt.Tooltip("yearmonth(month):T", title="month", format="%B %Y"),
                "kind",
                alt.Tooltip("hours:Q", format=",.1f"),
            ),
        )
        .properties(height=charts.HEIGHT)
    )


def _week_hours() -> alt.Chart | None:
    hours = query("history_hours")
    if hours.empty:
        return None
    hours = hours.assign(
        weekday=hours["iso_weekday"].map(lambda day: WEEKDAYS[int(day) - 1]), hours=hours["minutes_played"] / 60
    )
    return (
        alt.Chart(hours)
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X("hour_of_day:O", title="Hour of day (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("weekday:N", title=None, sort=WEEKDAYS),
            color=alt.Color("hours:Q", title="Hours", scale=alt.Scale(scheme="greens")),
            tooltip=charts.tips("weekday", "hour_of_day", alt.Tooltip("hours:Q", format=",.1f"), "play_count"),
        )
        .properties(height=charts.HEIGHT)
    )


def _discoveries() -> alt.Chart | None:
    found = query("history_discoveries")
    if found.empty:
        return None
    found = found.assign(
        month=pd.to_datetime(found["first_listened_date"]).dt.to_period("M").dt.to_timestamp(),
        kind=found["discovery_kind"].map({"artist": "New artists", "track": "New tracks"}),
    )
    monthly = found.groupby(["month", "kind"])["discovered"].sum().reset_index()
    return (
        alt.Chart(monthly)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
            y=alt.Y("discovered:Q", title="First played", axis=alt.Axis(tickMinStep=1, format=",d")),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["New artists", "New tracks"], range=[charts.AMBER, charts.PINK]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=charts.tips(alt.Tooltip("yearmonth(month):T", title="month", format="%B %Y"), "kind", "discovered"),
        )
        .properties(height=charts.HEIGHT)
    )


def _top_artists_over_time() -> alt.Chart | None:
    top = query("history_top")
    artists = top[top["item_kind"] == "artist"]
    shown = set(artists.loc[artists["yearly_rank"] <= BUMP_TOP, "artist_name"])
    ranks = artists[artists["artist_name"].isin(shown)].assign(year=lambda f: f["listened_year"].astype(int))
    if ranks.empty:
        return None
    return charts.lines_over_time(
        ranks,
        alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
        "yearly_rank",
        "artist_name",
        "Rank",
        ["artist_name", "year", "yearly_rank", alt.Tooltip("minutes_played:Q", format=",.0f"), "play_count"],
        reverse_y=True,
        legend_columns=4,
    )


def _year_in_review(years: pd.DataFrame) -> None:
    st.subheader("Year in review")
    choices = [int(year) for year in years["listened_year"].sort_values(ascending=False)]
    year = st.selectbox("Year", choices, key="history_year", help="The recap of one UTC year.")
    recap = years[years["listened_year"] == year].iloc[0]
    skip_rate = "-" if pd.isna(recap["skip_rate"]) else f"{recap['skip_rate']:.0%}"
    charts.metrics(
        ("Minutes played", f"{recap['minutes_played']:,.0f}", ":material/schedule:"),
        ("Plays", f"{int(recap['play_count']):,}", ":material/play_circle:"),
        ("New artists", f"{int(recap['new_artist_count']):,}", ":material/person_add:"),
        ("Longest streak", f"{int(recap['longest_streak_days'])} days", ":material/local_fire_department:"),
        ("Skip rate", skip_rate, ":material/skip_next:"),
    )
    top = query("history_top")
    top = top[top["listened_year"] == year]
    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader(f"Top artists of {year}")
        artists = top[top["item_kind"] == "artist"]
        charts.show(
            charts.ranked_bars(
                artists, "minutes_played", "artist_name", "Minutes", ["artist_name", "minutes_played", "play_count"]
            )
        )
    with right:
        st.subheader(f"Top tracks of {year}")
        tracks = top[top["item_kind"] == "track"].rename(columns={"artist_name": "primary_artist_name"})
        tracks = tracks.assign(track=charts.track_label(tracks))
        charts.show(
            charts.ranked_bars(
                tracks,
                "minutes_played",
                "track",
                "Minutes",
                ["track", "minutes_played", "play_count"],
                color=charts.BLUE,
            )
        )
    st.subheader("Every year")
    charts.table(
        years.sort_values("listened_year", ascending=False).assign(hours=years["minutes_played"] / 60),
        {
            "listened_year": st.column_config.NumberColumn("Year", format="%d"),
            "hours": st.column_config.NumberColumn("Hours", format="%.0f"),
            "play_count": "Plays",
            "top_artist_name": "Top artist",
            "top_track_name": "Top track",
            "new_artist_count": "New artists",
            "longest_streak_days": "Longest streak (days)",
            "skip_rate": st.column_config.NumberColumn("Skip rate", format="percent"),
        },
        # A row is 35 px high: room for every year, no empty rows under them.
        height=min(36 * (len(years) + 1) + 2, 420),
    )
