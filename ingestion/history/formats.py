"""The two formats of the privacy export, told apart by what their objects hold, and their rows.

Rows are built from the declared columns only (`Table.row`), so what the export carries and
tunelake must not keep (`ip_addr`, `ip_addr_decrypted`, `user_agent_decrypted`, `username`)
cannot reach the raw zone, the warehouse or a log: no code path reads those fields.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from ingestion.spotify.answers import spotify_id
from ingestion.spotify.tables import BY_NAME

# The two layouts of a play's end (zero-padded, as every export writes them). `fromisoformat` then
# rejects out-of-range fields: it takes a twentieth of `strptime`'s time, 2 s of an import of
# 150,000 streams, but would accept other ISO forms without the layout checked first.
EXTENDED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
ACCOUNT_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", re.ASCII)


class Format(Enum):
    """What a file holds, and the raw table its rows go to."""

    EXTENDED = "extended streaming history"
    ACCOUNT_MUSIC = "account data (music)"
    ACCOUNT_PODCAST = "account data (podcasts)"

    @property
    def table(self) -> str:
        return "history_streams" if self is Format.EXTENDED else "history_account_plays"


class RowError(ValueError):
    """A row that cannot be loaded; the message names the field and says why."""


def detect(obj: Any) -> Format | None:
    """The format of an export file, from its first object; None when it is neither."""
    if not isinstance(obj, dict):
        return None
    if "ts" in obj and "ms_played" in obj:
        return Format.EXTENDED
    if "endTime" in obj and "msPlayed" in obj:
        if "trackName" in obj or "artistName" in obj:
            return Format.ACCOUNT_MUSIC
        if "podcastName" in obj or "episodeName" in obj:
            return Format.ACCOUNT_PODCAST
    return None


def row(fmt: Format, obj: Any, **given: Any) -> dict[str, Any]:
    """The raw row of one object of a file in format `fmt`, with the columns `given`.

    Raises:
        RowError: naming the field that makes the object unusable.
    """
    if detect(obj) is not fmt:
        keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise RowError(f"not a stream of the {fmt.value} (has {keys})")
    if fmt is Format.EXTENDED:
        return _stream(obj, **given)
    return _account_play(fmt, obj, **given)


def _stream(obj: dict[str, Any], **given: Any) -> dict[str, Any]:
    ended_at = _utc(obj, "ts", EXTENDED_TIME, "2024-05-01T12:34:56Z")
    track_id = _uri_id(obj.get("spotify_track_uri"), "track")
    episode_id = _uri_id(obj.get("spotify_episode_uri"), "episode")
    track_name = obj.get("master_metadata_track_name")
    if track_id or track_name:
        item_type, names = "track", (obj.get("master_metadata_album_artist_name"), track_name)
    elif episode_id or obj.get("episode_name"):
        item_type, names = "episode", (obj.get("episode_show_name"), obj.get("episode_name"))
    elif obj.get("audiobook_uri") or obj.get("audiobook_title"):
        item_type, names = "audiobook", (obj.get("audiobook_title"), obj.get("audiobook_chapter_title"))
    else:
        item_type, names = "unknown", (None, None)
    uri = next(
        (
            value
            for field in ("spotify_track_uri", "spotify_episode_uri", "audiobook_chapter_uri", "audiobook_uri")
            if isinstance(value := obj.get(field), str) and value
        ),
        None,
    )
    return BY_NAME["history_streams"].row(
        obj,
        ended_at=ended_at,
        ms_played=_ms_played(obj, "ms_played"),
        item_type=item_type,
        item_key=uri or item_key(item_type, *names),
        track_id=track_id,
        episode_id=episode_id,
        **given,
    )


def _account_play(fmt: Format, obj: dict[str, Any], **given: Any) -> dict[str, Any]:
    ended_at = _utc(obj, "endTime", ACCOUNT_TIME, "2024-05-01 12:34")
    if fmt is Format.ACCOUNT_MUSIC:
        item_type, names = "track", (obj.get("artistName"), obj.get("trackName"))
    else:
        item_type, names = "episode", (obj.get("podcastName"), obj.get("episodeName"))
    return BY_NAME["history_account_plays"].row(
        obj,
        ended_at=ended_at,
        ms_played=_ms_played(obj, "msPlayed"),
        item_type=item_type,
        item_key=item_key(item_type, *names),
        **given,
    )


def item_key(item_type: str, creator: Any, name: Any) -> str:
    """`type:creator:name` with names normalised (case, spacing): how a play without an id is known."""
    return f"{item_type}:{normalise(creator)}:{normalise(name)}"


def normalise(name: Any) -> str:
    """A name compared across sources: case-folded, spaces collapsed; empty when absent."""
    return " ".join(name.casefold().split()) if isinstance(name, str) else ""


def _utc(obj: dict[str, Any], field: str, layout: re.Pattern[str], example: str) -> datetime:
    value = obj.get(field)
    if isinstance(value, str) and layout.fullmatch(value):
        with suppress(ValueError):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
    raise RowError(f"{field} {value!r} is not a UTC time like {example}")


def _ms_played(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RowError(f"{field} {value!r} is not a number of milliseconds")
    return value


_URI = re.compile(r"spotify:(\w+):(.+)")


def _uri_id(value: Any, kind: str) -> str | None:
    match = _URI.fullmatch(value) if isinstance(value, str) else None
    return spotify_id(match.group(2)) if match and match.group(1) == kind else None
