"""Playlist reach: which tracks sit in which tracked playlists, at which positions, and since when.

A playlist is shown by its name (dim_playlists), or by its whole id where Spotify gave none, and
its length; names need not be unique, the length tells two of the same name apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.filters import Filters, sidebar, with_selected_tracks
from dashboard.queries import query

ALL = "all"
HEATMAP_TRACKS = 25
BUMP_TRACKS = 8
DARK_TEXT_UNTIL = 12
# Room for a playlist's name, or its 22-character id, and its length above a column.
COLUMN_LABEL_LIMIT = 240


def page() -> None:
    st.title("Playlist reach")
    filters = sidebar()
    entries = query("playlist_entries", filters.start, filters.end)
    if entries.empty:
        st.caption(filters.label)
        st.info("No playlist snapshot in these dates: widen the date range, or track playlists with `tunelake ingest`.")
        return
    names = _playlist_names(entries["playlist_id"].unique())
    labels = _playlist_labels(entries, names)
    playlist = _pick_playlist(labels)
    st.caption(f"Positions in the tracked playlists, snapshot by snapshot · {filters.label}")

    entries = _described(entries, names, labels)
    if playlist != ALL:
        entries = entries[entries["playlist_id"] == playlist]
    entries = with_selected_tracks(entries, filters)
    if entries.empty:
        st.info("None of the selected artists' tracks is in these playlists in these dates.")
        return
    latest = entries[entries["snapshot_date"] == entries.groupby("playlist_id")["snapshot_date"].transform("max")]

    added = latest[(latest["added_at"].dt.date >= filters.start) & (latest["added_at"].dt.date <= filters.end)]
    charts.metrics(
        ("Playlists", f"{latest['playlist_id'].nunique():,}", ":material/queue_music:"),
        ("Tracks placed", f"{latest['track_id'].nunique():,}", ":material/music_note:"),
        ("Positions held", f"{len(latest):,}", ":material/format_list_numbered:"),
        ("Added in these dates", f"{len(added):,}", ":material/playlist_add:"),
    )

    charts.section(
        "Who sits where",
        "Tracks in the most playlists at the latest snapshot; the brighter the cell, the higher the position.",
        _heatmap(latest),
    )

    left, right = st.columns(2, gap="medium")
    with left:
        charts.section(
            "Reach over time",
            "Playlist positions held by each artist's tracks, per day.",
            _reach(entries, filters),
            "No reach to show for these filters.",
        )
    with right:
        charts.section(
            "When the tracks were added",
            "Tracks in the playlists at the latest snapshot, by the month they were added.",
            _additions(latest),
            "No addition dates for these filters.",
        )

    charts.section(
        "Biggest position moves",
        "Tracks whose position changed most between the first and the last snapshot shown.",
        _positions(entries),
        "No positions to show for these filters.",
    )

    _contents(latest)


def _pick_playlist(labels: dict[str, str]) -> str:
    """The playlist to show (or all of them), picked in the sidebar and kept in the URL."""
    with st.sidebar:
        return str(
            st.selectbox(
                "Playlist",
                options=[ALL, *labels],
                format_func=lambda key: "All tracked playlists" if key == ALL else labels.get(key, key),
                key="playlist",
                bind="query-params",
                persist_state="session",
            )
        )


def _contents(latest: pd.DataFrame) -> None:
    """Every position of the latest snapshots, with how long each track has held it."""
    st.subheader("Playlist contents")
    table = latest.sort_values(["playlist", "playlist_position"])
    table = table.assign(days_in=(table["snapshot_date"] - table["added_at"].dt.tz_localize(None)).dt.days)
    charts.table(
        table,
        {
            "playlist": "Playlist",
            "playlist_position": st.column_config.NumberColumn("Position", format="%d"),
            "track_name": "Track",
            "artist_names": "Artists",
            "added_at": st.column_config.DatetimeColumn("Added", format="YYYY-MM-DD"),
            "days_in": st.column_config.NumberColumn("Days in playlist", format="%d"),
        },
        height=360,
    )


def _playlist_names(playlist_ids: Iterable[str]) -> dict[str, str]:
    """Each playlist's name; one Spotify gave no name (or dim_playlists has no row for) goes by its whole id.

    A cut id ("4VGSLUc4…") names nothing a person can look up; the whole one opens the playlist on Spotify.
    """
    names = query("playlists").set_index("playlist_id")["playlist_name"].dropna().to_dict()
    return {playlist_id: names.get(playlist_id) or playlist_id for playlist_id in playlist_ids}


def _playlist_labels(entries: pd.DataFrame, names: dict[str, str]) -> dict[str, str]:
    latest = entries[entries["snapshot_date"] == entries.groupby("playlist_id")["snapshot_date"].transform("max")]
    sizes = latest.groupby("playlist_id").size().sort_values(ascending=False)
    return {playlist_id: f"{names[playlist_id]} · {size} tracks" for playlist_id, size in sizes.items()}


def _described(entries: pd.DataFrame, names: dict[str, str], labels: dict[str, str]) -> pd.DataFrame:
    tracks = query("tracks")[["track_id", "track_name", "artist_names", "primary_artist_name"]]
    described = entries.merge(tracks, on="track_id", how="left")
    return described.assign(
        playlist_name=described["playlist_id"].map(names),
        playlist=described["playlist_id"].map(labels),
        track=charts.track_label(described),
    )


def _listed(positions: pd.Series) -> str:
    """A track's positions in one playlist, in order: "1, 4"."""
    return ", ".join(f"{position:.0f}" for position in sorted(positions.dropna()))


def _heatmap(latest: pd.DataFrame) -> alt.Chart | None:
    reach = latest.groupby("track_id").agg(playlists=("playlist_id", "nunique"), best=("playlist_position", "min"))
    top = reach.sort_values(["playlists", "best"], ascending=[False, True]).head(HEATMAP_TRACKS).index
    cells = latest[latest["track_id"].isin(top)]
    if cells.empty:
        return None
    # One cell per track and playlist: a track listed twice takes the colour of its better
    # position and names every one, instead of two figures printed over each other.
    cells = cells.groupby(["playlist_id", "playlist", "track_id", "track"], as_index=False).agg(
        best=("playlist_position", "min"),
        positions=("playlist_position", _listed),
        added_at=("added_at", "min"),
    )
    # Two tracks of one name and artist (a single and its album cut) keep a row each.
    cells = cells.assign(track=charts.distinct_labels(cells["track"], cells["track_id"]))
    rows = cells.drop_duplicates("track_id").set_index("track_id").loc[top, "track"].tolist()
    base = alt.Chart().encode(
        # Rotated 45 degrees, neighbouring names stay clear of each other down to columns 21 px apart;
        # vega's overlap check measures upright boxes, which would hide every other name. Each name
        # ends at its column and leans left, over the tracks' names: leaning right, the last one
        # ran past the legend, out of the chart.
        x=alt.X(
            "playlist:N",
            title=None,
            axis=alt.Axis(
                labelAngle=45, labelAlign="right", labelLimit=COLUMN_LABEL_LIMIT, labelOverlap=False, orient="top"
            ),
        ),
        y=alt.Y("track:N", title=None, sort=rows, axis=alt.Axis(labelLimit=300)),
    )
    rects = base.mark_rect(cornerRadius=3).encode(
        color=alt.Color(
            "best:Q",
            title="Position",
            scale=alt.Scale(scheme="greens", type="log"),
            legend=alt.Legend(orient="right"),
        ),
        tooltip=charts.tips(
            "track",
            "playlist",
            alt.Tooltip("positions:N", title="positions"),
            alt.Tooltip("added_at:T", format="%Y-%m-%d"),
        ),
    )
    # Dark figures on the light (high) cells, light ones on the dark cells further down.
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("positions:N"),
        color=alt.ColorValue(
            "#f2f2f2",
            condition=alt.ConditionalPredicateValueDefGradientstringnullExprRef(
                test=f"datum.best <= {DARK_TEXT_UNTIL}", value="#121212"
            ),
        ),
    )
    # The names above the columns take the room they need, not the rows'.
    return charts.layered(cells, rects, text).properties(height=24 * len(rows), autosize=charts.BELOW_THE_PLOT)


def _reach(entries: pd.DataFrame, filters: Filters) -> alt.Chart | None:
    credited = query("track_artists")
    names = query("artists").set_index("artist_id")["artist_name"]
    placed = entries[["snapshot_date", "playlist_id", "track_id"]].merge(credited, on="track_id")
    if filters.artist_ids:
        placed = placed[placed["artist_id"].isin(filters.artist_ids)]
    daily = placed.groupby(["snapshot_date", "artist_id"]).size().reset_index(name="positions")
    if daily.empty:
        return None
    last_day = daily[daily["snapshot_date"] == daily["snapshot_date"].max()]
    top = last_day.nlargest(6, "positions")["artist_id"] if not filters.artist_ids else daily["artist_id"].unique()
    shown = daily[daily["artist_id"].isin(top)].assign(artist=lambda f: f["artist_id"].map(names))
    return charts.lines_over_time(
        shown,
        "snapshot_date",
        "positions",
        "artist",
        "Positions held",
        ["artist", alt.Tooltip("snapshot_date:T", format="%b %d"), "positions"],
    )


def _positions(entries: pd.DataFrame) -> alt.Chart | None:
    """The tracks whose position moved most between the first and the last snapshot shown.

    When nothing moved, the top positions, so the chart is never empty while there are entries.
    """
    # A track listed twice in one playlist keeps its better position: one point a day.
    keys = ["playlist_id", "track_id"]
    daily = entries.groupby(["snapshot_date", *keys, "playlist_name", "playlist", "track"], as_index=False)[
        "playlist_position"
    ].min()
    pairs = daily.sort_values("snapshot_date").groupby(keys)["playlist_position"]
    ranked = pd.DataFrame({"moved": (pairs.first() - pairs.last()).abs(), "best": pairs.min()}).reset_index()
    chosen = ranked.sort_values(["moved", "best"], ascending=[False, True]).head(BUMP_TRACKS)[keys]
    shown = daily.merge(chosen, on=keys)
    line = shown["track"] + " in " + shown["playlist_name"]
    # One line per track and playlist, even where two share a name.
    shown = shown.assign(line=charts.distinct_labels(line, shown["track_id"] + " in " + shown["playlist_id"]))
    return charts.lines_over_time(
        shown,
        "snapshot_date",
        "playlist_position",
        "line",
        "Position (1 is the top)",
        ["track", "playlist", alt.Tooltip("snapshot_date:T", format="%b %d"), "playlist_position"],
        reverse_y=True,
        # "Track · Artist in Playlist" is long, and longer with a playlist's whole id: one name a
        # row, as wide as a laptop's page allows, so none is cut short or pushed out of the chart.
        legend_columns=1,
        legend_label_limit=600,
    )


def _additions(latest: pd.DataFrame) -> alt.Chart | None:
    dated = latest.dropna(subset=["added_at"])
    if dated.empty:
        return None
    months = dated["added_at"].dt.tz_localize(None).dt.to_period("M")
    per_month = dated.assign(month=months.dt.strftime("%b %Y")).groupby(["month", "playlist"]).size()
    per_month = per_month.reset_index(name="tracks")
    # Every month on the axis, quiet ones too, so the gaps between bursts of additions show.
    every_month = [m.strftime("%b %Y") for m in pd.period_range(months.min(), months.max(), freq="M")]
    return (
        alt.Chart(per_month)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None, scale=alt.Scale(domain=every_month), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("tracks:Q", title="Tracks added"),
            color=alt.Color(
                "playlist:N",
                title=None,
                scale=alt.Scale(range=charts.SERIES),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            tooltip=charts.tips("month", "playlist", "tracks"),
        )
        .properties(height=charts.HEIGHT)
    )
