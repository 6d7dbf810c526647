"""Catalog overview: how much the pipeline has found, how it grew, and what it is made of."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import Filters, albums_of, sidebar, tracks_of
from dashboard.queries import query


def page() -> None:
    st.title("Catalog overview")
    filters = sidebar()
    st.caption(f"What the tracked playlists, artists, albums and searches have led to · {filters.label}")
    tracks, albums, artists, playlist_count = catalog_of(filters)
    _headline(tracks, albums, artists, playlist_count, filters)

    left, right = st.columns([3, 2], gap="medium")
    with left:
        _growth_section(tracks, albums, artists, filters)
    with right:
        types = albums.groupby("album_type", dropna=False).size().reset_index(name="albums")
        types["album_type"] = types["album_type"].fillna("unknown")
        donut = charts.share_donut(types, "albums", "album_type")
        charts.section(
            "Album types", "Albums, singles and compilations in the catalog.", donut, "No albums for these filters."
        )

    left, right = st.columns(2, gap="medium")
    with left:
        charts.section(
            "Release years",
            "Albums by the year they came out.",
            _release_years(albums),
            "No release dates for these filters.",
        )
    with right:
        top = artists.nlargest(12, "track_count")
        chart = charts.ranked_bars(
            top, "track_count", "artist_name", "Tracks", ["artist_name", "track_count", "album_count"]
        )
        charts.section(
            "Most tracks in the catalog",
            "Artists credited on the most loaded tracks.",
            chart,
            "No artists for these filters.",
        )

    _newest(tracks)


def _headline(
    tracks: pd.DataFrame, albums: pd.DataFrame, artists: pd.DataFrame, playlist_count: int, filters: Filters
) -> None:
    """How many of each there are, and how many the last day shown added."""
    # New on the last day shown: what the latest ingestion added.
    latest = pd.Timestamp(filters.end)
    columns = st.columns(4)
    for column, (label, frame, icon) in zip(
        columns,
        (
            ("Tracks", tracks, ":material/music_note:"),
            ("Artists", artists, ":material/person:"),
            ("Albums", albums, ":material/album:"),
        ),
        strict=False,
    ):
        new = int((frame["first_seen_date"] == latest).sum())
        column.metric(
            label,
            f"{len(frame):,}",
            delta=f"+{new:,}" if new else None,
            delta_description=f"first seen on {latest:%b %d}" if new else None,
            icon=icon,
            border=True,
        )
    columns[3].metric("Tracked playlists", f"{playlist_count:,}", icon=":material/queue_music:", border=True)
    unavailable = int(tracks["is_unavailable"].fillna(False).sum())
    if unavailable:
        st.caption(
            f"{unavailable:,} of the tracks are referenced by playlists, albums or plays but Spotify would not "
            "serve them (taken down or region-locked): they count, with the name the referencing answer carried. "
            "Ghost tracks (listed in playlists with no name and no duration) are left out."
        )


def _growth_section(tracks: pd.DataFrame, albums: pd.DataFrame, artists: pd.DataFrame, filters: Filters) -> None:
    heading, toggle = st.columns([3, 2], vertical_alignment="bottom")
    heading.subheader("Catalog growth")
    view = toggle.segmented_control(
        "Growth",
        ["Found so far", "New per day"],
        default="Found so far",
        key="growth",
        label_visibility="collapsed",
    )
    st.caption("Tracks, albums and artists by the day the pipeline first saw them.")
    chart = _growth(tracks, albums, artists, filters, cumulative=view != "New per day")
    charts.show(chart, "Nothing was first seen in these dates.")


def _newest(tracks: pd.DataFrame) -> None:
    st.subheader("Newest finds")
    newest = tracks.sort_values(["first_seen_date", "track_name"], ascending=[False, True]).head(200)
    charts.table(
        newest,
        {
            "track_name": "Track",
            "artist_names": "Artists",
            "album_name": "Album",
            "release_date": st.column_config.DateColumn("Released", format="YYYY-MM-DD"),
            "duration_ms": st.column_config.NumberColumn("Length (min)", format="%.1f"),
            "first_seen_date": st.column_config.DateColumn("First seen", format="YYYY-MM-DD"),
        },
        height=320,
    )


def catalog_of(filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """Tracks, albums and artists, narrowed to the selected artists' when there are any, and the tracked playlists.

    Everything the page reads from the marts besides the sidebar's: the server's warm-up reads it too.
    """
    playlist_count = int(query("playlist_count").iloc[0]["playlist_count"])
    tracks, albums, artists = query("tracks"), query("albums"), query("artists")
    tracks["duration_ms"] = tracks["duration_ms"] / 60_000
    track_ids, album_ids = tracks_of(filters), albums_of(filters)
    if track_ids is not None:
        tracks = tracks[tracks["track_id"].isin(track_ids)]
        albums = albums[albums["album_id"].isin(album_ids)]
        artists = artists[artists["artist_id"].isin(filters.artist_ids)]
    return tracks, albums, artists, playlist_count


def _growth(
    tracks: pd.DataFrame, albums: pd.DataFrame, artists: pd.DataFrame, filters: Filters, cumulative: bool
) -> alt.Chart | None:
    days = pd.date_range(filters.start, filters.end, freq="D", name="day")
    counts = []
    for kind, frame in (("Tracks", tracks), ("Albums", albums), ("Artists", artists)):
        new = frame.groupby("first_seen_date").size()
        # Every day of the range gets a value, so a kind found all on one day still draws a line.
        series = new.cumsum().reindex(days, method="ffill") if cumulative else new.reindex(days)
        counts.append(pd.DataFrame({"day": days, "kind": kind, "count": series.fillna(0).to_numpy()}))
    growth = pd.concat(counts, ignore_index=True)
    if not growth["count"].any():
        return None
    color = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=["Tracks", "Albums", "Artists"], range=[charts.GREEN, charts.BLUE, charts.AMBER]),
        legend=alt.Legend(orient="top"),
    )
    tooltip = charts.tips(alt.Tooltip("day:T", format="%b %d, %Y"), "kind", alt.Tooltip("count:Q", format=","))
    if cumulative:
        mark = alt.Chart(growth).mark_line(point=alt.OverlayMarkDef(size=50, filled=True), strokeWidth=2.5)
        return (
            mark.encode(
                x=charts.day_axis("day"), y=alt.Y("count:Q", title="Found so far"), color=color, tooltip=tooltip
            )
        ).properties(height=charts.HEIGHT)
    return (
        alt.Chart(growth)
        .mark_bar()
        .encode(
            x=charts.day_axis("day", bars=True),
            xOffset=alt.XOffset("kind:N"),
            y=alt.Y("count:Q", title="First seen that day"),
            color=color,
            tooltip=tooltip,
        )
        .properties(height=charts.HEIGHT)
    )


def _release_years(albums: pd.DataFrame) -> alt.Chart | None:
    dated = albums.dropna(subset=["release_date"])
    if dated.empty:
        return None
    years = dated.assign(year=dated["release_date"].dt.year, album_type=dated["album_type"].fillna("unknown"))
    per_year = years.groupby(["year", "album_type"]).size().reset_index(name="albums")
    return (
        alt.Chart(per_year)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=-45, labelOverlap=True)),
            y=alt.Y("albums:Q", title="Albums"),
            color=alt.Color(
                "album_type:N", title=None, scale=alt.Scale(range=charts.SERIES), legend=alt.Legend(orient="top")
            ),
            tooltip=charts.tips("year", "album_type", "albums"),
        )
        .properties(height=charts.HEIGHT)
    )
