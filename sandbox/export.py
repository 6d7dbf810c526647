"""Spotify privacy exports, generated: both formats, with the personal fields real ones carry.

The tests and `make bench` import them; `tunelake import-history` must drop the personal fields.
Every stream is distinct (its end time advances), so the counts a test expects are the number of
streams it wrote.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Personal data real exports carry: none of it may appear anywhere after an import.
IP_NEW, IP_OLD = "203.0.113.77", "198.51.100.23"
USER_AGENT = "Mozilla/5.0 (tunelake-test-agent)"
USERNAME = "tunelake-test-username"
PERSONAL = (IP_NEW, IP_OLD, USER_AGENT, USERNAME)
START = datetime(2019, 3, 1, 23, 0, tzinfo=UTC)
TRACKS = ["4uLU6hMCjMI75M1A2tKUQC", "7ouMYWpwJ422jRcDASZB7P", "0VjIjW4GlUZAMYd2vXMi3b"]


@dataclass(frozen=True)
class Track:
    """What an extended-history row says of a track (each may be null in real exports)."""

    name: str | None
    album_artist: str | None
    album: str | None
    uri: str | None


@dataclass(frozen=True)
class Episode:
    name: str | None
    show: str | None
    uri: str | None


@dataclass(frozen=True)
class Audiobook:
    title: str | None
    uri: str | None
    chapter_uri: str | None
    chapter_title: str | None


def stream(
    ended: datetime,
    ms_played: int,
    item: Track | Episode | Audiobook,
    *,
    old: bool,
    platform: str,
    reason_start: str,
    reason_end: str,
    shuffle: bool,
    skipped: bool | None,
    conn_country: str = "DE",
    offline: bool = False,
    offline_timestamp: int | None = 0,
    audiobook_fields: bool = False,
) -> dict[str, Any]:
    """One extended-history row, with the personal fields of its generation (`old`: `endsong` files).

    `audiobook_fields` adds the fields exports carry from 2024 on (null but for an audiobook).
    """
    row: dict[str, Any] = {
        "ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platform": platform,
        "ms_played": ms_played,
        "conn_country": conn_country,
        "master_metadata_track_name": None,
        "master_metadata_album_artist_name": None,
        "master_metadata_album_album_name": None,
        "spotify_track_uri": None,
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "reason_start": reason_start,
        "reason_end": reason_end,
        "shuffle": shuffle,
        "skipped": skipped,
        "offline": offline,
        "offline_timestamp": offline_timestamp,
        "incognito_mode": False,
    }
    if old:
        row |= {"username": USERNAME, "ip_addr_decrypted": IP_OLD, "user_agent_decrypted": USER_AGENT}
    else:
        row["ip_addr"] = IP_NEW
    if audiobook_fields or isinstance(item, Audiobook):
        row |= dict.fromkeys(("audiobook_title", "audiobook_uri", "audiobook_chapter_uri", "audiobook_chapter_title"))
    if isinstance(item, Audiobook):
        row |= {
            "audiobook_title": item.title,
            "audiobook_uri": item.uri,
            "audiobook_chapter_uri": item.chapter_uri,
            "audiobook_chapter_title": item.chapter_title,
        }
    elif isinstance(item, Episode):
        row |= {"episode_name": item.name, "episode_show_name": item.show, "spotify_episode_uri": item.uri}
    else:
        row |= {
            "master_metadata_track_name": item.name,
            "master_metadata_album_artist_name": item.album_artist,
            "master_metadata_album_album_name": item.album,
            "spotify_track_uri": item.uri,
        }
    return row


def account_music_play(ended: datetime, artist: str, track: str, ms_played: int) -> dict[str, Any]:
    """One account-data music row: the end to the minute, names only."""
    return {
        "endTime": ended.strftime("%Y-%m-%d %H:%M"),
        "artistName": artist,
        "trackName": track,
        "msPlayed": ms_played,
    }


def account_podcast_play(ended: datetime, show: str, episode: str, ms_played: int) -> dict[str, Any]:
    return {
        "endTime": ended.strftime("%Y-%m-%d %H:%M"),
        "podcastName": show,
        "episodeName": episode,
        "msPlayed": ms_played,
    }


def extended(count: int, first: int = 0, old: bool = False) -> list[dict[str, Any]]:
    """`count` streams from stream number `first`: music, every fifth a podcast, some skips."""
    return [
        stream(
            START + timedelta(minutes=7 * n),
            12_000 if n % 4 == 0 else 200_000,
            Episode(f"Episode {n}", "Show", None)
            if n % 5 == 4
            else Track(f"Song {n % 3}", "Band", "Album", f"spotify:track:{TRACKS[n % 3]}"),
            old=old,
            platform="Android OS 7.0 API 24 (samsung, SM-G930F)" if old else "android",
            reason_start="clickrow",
            reason_end="fwdbtn" if n % 4 == 0 else "trackdone",
            shuffle=n % 2 == 0,
            skipped=None if old else False,
        )
        for n in range(first, first + count)
    ]


def account_music(count: int) -> list[dict[str, Any]]:
    return [
        account_music_play(START + timedelta(days=1500, minutes=4 * n), "Band", f"Song {n % 3}", 180_000 + n)
        for n in range(count)
    ]


def account_podcasts(count: int) -> list[dict[str, Any]]:
    return [
        account_podcast_play(START + timedelta(days=1500, hours=12, minutes=40 * n), "Show", f"Episode {n}", 1_500_000)
        for n in range(count)
    ]


def zip_bytes(files: dict[str, Any], made: datetime = START) -> bytes:
    """A zip laid out as Spotify sends it, with `files` (name: JSON value) and a file that is not history.

    Every member is dated `made`, so the same files give the same bytes.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        members = {**files, "Spotify Account Data/Userdata.json": {"username": USERNAME}}
        for name, value in members.items():
            info = zipfile.ZipInfo(name, date_time=made.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, json.dumps(value, ensure_ascii=False))
    return buffer.getvalue()


def write_zip(path: Path, files: dict[str, Any]) -> Path:
    """`zip_bytes(files)` written to `path`."""
    path.write_bytes(zip_bytes(files))
    return path
