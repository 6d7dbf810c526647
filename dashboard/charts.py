"""Altair building blocks shared by the pages: one palette, one look, readable on the dark theme."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

GREEN = "#1ed760"
PINK = "#f0557f"
BLUE = "#4f9cf9"
AMBER = "#f5b040"
GREY = "#7c7c7c"
# Trends keep their colour on every chart: up is green, down is pink, as in Spotify's own charts.
TREND_COLORS = alt.Scale(domain=["rising", "falling", "steady", "new"], range=[GREEN, PINK, GREY, BLUE])
# Enough distinct hues for a handful of artists, tracks or playlists on one chart.
SERIES = ["#1ed760", "#4f9cf9", "#f5b040", "#f0557f", "#b18cfe", "#2dd4bf", "#fb923c", "#e879f9", "#a3e635", "#94a3b8"]
HEIGHT = 300
# The width fits the page and the height is the plot's: what goes above or below it (names,
# legends) takes the room it needs. Streamlit's own choice, "fit", squeezes the whole chart into
# the height, so a long legend flattens the plot and crowds its axis until vega hides labels.
BELOW_THE_PLOT = alt.AutoSizeParams(type="fit-x", contains="padding")


def track_label(frame: pd.DataFrame) -> pd.Series:
    """The label "Track · Artist" of each row; a track Spotify no longer names, or an unknown artist, says so."""
    name = frame["track_name"].replace("", None).fillna("(no name)")
    return name + " · " + frame["primary_artist_name"].fillna("(unknown artist)")


def distinct_labels(labels: pd.Series, keys: pd.Series) -> pd.Series:
    """`labels`, with the key added to each label that names more than one key.

    A chart groups by label: two tracks of one name would share a row, or two series one line.
    """
    shared = keys.groupby(labels).transform("nunique").gt(1)
    return labels.where(~shared, labels + " (" + keys + ")")


def tips(*fields: str | alt.Tooltip) -> list[alt.Tooltip]:
    """Tooltip channels as objects.

    Altair resolves each shorthand string against its JSON schema, which costs milliseconds per
    field on every page run; channel objects skip that.
    """
    return [field if isinstance(field, alt.Tooltip) else alt.Tooltip(field) for field in fields]


def layered(frame: pd.DataFrame, *layers: alt.Chart) -> alt.LayerChart:
    """Layers drawn from one data set, given once at the top.

    With data on each layer, Altair compares the layers' data by hashing their text form, which
    costs more than building the whole chart.
    """
    return alt.layer(*layers, data=frame)


def show(chart: alt.TopLevelMixin | None, empty: str | None = None) -> None:
    """Draw a chart at full width, or say in words why there is none."""
    if chart is None:
        st.info(empty or "Nothing to show for these filters.", icon=":material/info:")
        return
    st.altair_chart(chart.configure_view(strokeWidth=0).configure_axis(labelFontSize=12, titleFontSize=12))


def metrics(*figures: tuple[str, str, str]) -> None:
    """A row of headline figures, each (label, formatted value, material icon)."""
    for column, (label, value, icon) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, value, icon=icon, border=True)


def section(title: str, caption: str, chart: alt.TopLevelMixin | None, empty: str | None = None) -> None:
    """A titled chart with a line saying how to read it."""
    st.subheader(title)
    st.caption(caption)
    show(chart, empty)


def table(frame: pd.DataFrame, columns: dict[str, Any], height: int = 320) -> None:
    """The given columns of a frame as a table, in that order, each with its heading or column config."""
    st.dataframe(frame[list(columns)], hide_index=True, column_config=columns, height=height)


def day_axis(field: str, bars: bool = False) -> alt.X:
    """Days on the x axis: one band per day under bars, a continuous time line under lines.

    Ticks stay on whole days: the marts are daily, and a few days would otherwise show as hours.
    """
    if bars:
        return alt.X(f"yearmonthdate({field}):O", title=None, axis=alt.Axis(format="%b %d", labelAngle=0))
    return alt.X(f"yearmonthdate({field}):T", title=None, axis=alt.Axis(format="%b %d", labelAngle=0, tickCount="day"))


def bar_height(rows: int) -> int:
    # Room for every label: vega hides labels that would overlap, which leaves bars unnamed.
    return max(HEIGHT, 26 * rows + 50)


def lines_over_time(
    frame: pd.DataFrame,
    x: str | alt.X,
    y: str,
    series: str,
    y_title: str,
    tooltip: list,
    reverse_y: bool = False,
    legend_columns: int = 2,
    legend_label_limit: int = 300,
) -> alt.Chart | None:
    """One line per series, points on every day so that short histories still read as data.

    Clicking a legend entry brings its line forward; `reverse_y` puts rank 1 at the top. `x` is
    a field of days, or an axis of its own.
    """
    if frame.empty:
        return None
    scale = alt.Scale(reverse=True, zero=False, domainMin=1, nice=False) if reverse_y else alt.Scale(zero=True)
    selection = alt.selection_point(fields=[series], bind="legend")
    return (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), strokeWidth=2.5)
        .encode(
            x=day_axis(x) if isinstance(x, str) else x,
            y=alt.Y(f"{y}:Q", title=y_title, scale=scale),
            color=alt.Color(
                f"{series}:N",
                title=None,
                scale=alt.Scale(range=SERIES),
                legend=alt.Legend(orient="bottom", columns=legend_columns, labelLimit=legend_label_limit),
            ),
            # The same as alt.condition(selection, ...), built directly for the reason given in `tips`.
            opacity=alt.OpacityValue(
                0.15, condition=alt.ConditionalParameterValueDefnumberExprRef(param=selection.name, value=1.0)
            ),
            tooltip=tips(*tooltip),
        )
        .add_params(selection)
        .properties(height=HEIGHT, autosize=BELOW_THE_PLOT)
    )


def ranked_bars(
    frame: pd.DataFrame, value: str, label: str, value_title: str, tooltip: list, color: str = GREEN
) -> alt.Chart | None:
    """Horizontal bars, largest on top, labels readable in full."""
    if frame.empty:
        return None
    base = alt.Chart().encode(
        # Counts: whole-number ticks only.
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(tickMinStep=1, format=",d")),
        y=alt.Y(f"{label}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
        tooltip=tips(*tooltip),
    )
    bars = base.mark_bar(color=color, cornerRadiusEnd=3)
    text = base.mark_text(align="left", dx=4, color="#d0d0d0").encode(text=alt.Text(f"{value}:Q", format=",.0f"))
    return layered(frame, bars, text).properties(height=bar_height(len(frame)))


def change_bars(frame: pd.DataFrame, label: str, tooltip: list, label_limit: int) -> alt.Chart:
    """One bar per row for its `change` in signal score, labelled by `label`: rises green, falls pink."""
    frame = frame.assign(direction=frame["change"].gt(0).map({True: "rising", False: "falling"}))
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            x=alt.X("change:Q", title="Change in signal score"),
            y=alt.Y(f"{label}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=label_limit)),
            color=alt.Color("direction:N", scale=TREND_COLORS, legend=None),
            tooltip=tips(*tooltip),
        )
        .properties(height=bar_height(len(frame)))
    )


def share_donut(frame: pd.DataFrame, value: str, category: str, colors: list[str] | None = None) -> alt.Chart | None:
    if frame.empty:
        return None
    return (
        alt.Chart(frame)
        .mark_arc(innerRadius=70, stroke="#121212", strokeWidth=2)
        .encode(
            theta=alt.Theta(f"{value}:Q", stack=True),
            color=alt.Color(
                f"{category}:N", title=None, scale=alt.Scale(range=colors or SERIES), legend=alt.Legend(orient="right")
            ),
            tooltip=tips(category, alt.Tooltip(f"{value}:Q", format=",")),
        )
        .properties(height=HEIGHT)
    )
