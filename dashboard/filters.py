"""The sidebar filters every page shares: a date range and artists.

Widgets keep their value across pages (`persist_state="session"`) and live in the URL
(`bind="query-params"`), so a filtered view can be bookmarked or sent to someone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard.queries import query

# A quarter by default: enough to see a trend, little enough to stay fast on years of history.
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    artist_ids: tuple[str, ...]
    artist_names: tuple[str, ...]

    @property
    def label(self) -> str:
        """The filters in words, for captions under the page titles."""
        days = f"{self.start:%b %d, %Y} to {self.end:%b %d, %Y}"
        if not self.artist_names:
            return days
        shown = ", ".join(self.artist_names[:3]) + (
            f" and {len(self.artist_names) - 3} more" if len(self.artist_names) > 3 else ""
        )
        return f"{days} · {shown}"


def data_bounds() -> tuple[date, date] | None:
    """The first and last day any mart has data for, or None when the marts are empty."""
    bounds = query("date_bounds")
    first, last = bounds.iloc[0]["first_date"], bounds.iloc[0]["last_date"]
    if pd.isna(first) or pd.isna(last):
        return None
    return first.date(), last.date()


def default_range(first: date, last: date) -> tuple[date, date]:
    """The dates shown until someone picks others: the last `DEFAULT_DAYS` days with data."""
    return max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last


def sidebar() -> Filters:
    """Draw the shared filters in the sidebar and return what they select.

    The app has checked that the marts hold data (`data_bounds` is not None) before any page runs.
    """
    first, last = data_bounds()
    artists = query("artists").sort_values("artist_name", key=lambda names: names.str.lower())
    names = dict(zip(artists["artist_id"], artists["artist_name"], strict=True))
    with st.sidebar:
        st.markdown("### Filters")
        chosen = st.date_input(
            "Dates",
            value=default_range(first, last),
            min_value=first,
            max_value=last,
            key="dates",
            bind="query-params",
            persist_state="session",
            help="Days of the marts to show (UTC).",
        )
        artist_ids = st.multiselect(
            "Artists",
            options=list(names),
            format_func=lambda artist_id: names.get(artist_id, artist_id),
            key="artist",
            bind="query-params",
            persist_state="session",
            placeholder="All artists",
            help="Narrow every chart to tracks crediting these artists.",
        )
    start, end = _range(chosen, first, last)
    return Filters(start, end, tuple(artist_ids), tuple(names[a] for a in artist_ids if a in names))


def _range(chosen: object, first: date, last: date) -> tuple[date, date]:
    # While a range is being picked the widget holds one day; show that day until the second comes.
    days = list(chosen) if isinstance(chosen, list | tuple) else [chosen]
    days = [d for d in days if isinstance(d, date)]
    if not days:
        return first, last
    return min(days), max(days)


def tracks_of(filters: Filters) -> set[str] | None:
    """Tracks crediting any selected artist, or None when no artist is selected (no narrowing)."""
    if not filters.artist_ids:
        return None
    credited = query("track_artists")
    return set(credited.loc[credited["artist_id"].isin(filters.artist_ids), "track_id"])


def with_selected_tracks(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of a frame with a `track_id` whose track credits a selected artist (all rows when none is selected)."""
    track_ids = tracks_of(filters)
    return frame if track_ids is None else frame[frame["track_id"].isin(track_ids)]


def albums_of(filters: Filters) -> set[str] | None:
    """Albums crediting any selected artist, or None when no artist is selected."""
    if not filters.artist_ids:
        return None
    credited = query("album_artists")
    return set(credited.loc[credited["album_id"].notna() & credited["artist_id"].isin(filters.artist_ids), "album_id"])
