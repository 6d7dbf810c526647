"""Spotify privacy exports, generated: both formats, with the personal fields real ones carry.

The tests and `make bench` import them; `tunelake import-history` must drop the personal fields.
Every stream is distinct (its end time advances), so the counts a test expects are the number of
streams it wrote.
"""

from __future__ import annotations

import json
import zipfile
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


def extended(count: int, first: int = 0, old: bool = False) -> list[dict[str, Any]]:
    """`count` streams from stream number `first`: music, every fifth a podcast, some skips."""
    streams = []
    for n in range(first, first + count):
        ended = START + timedelta(minutes=7 * n)
        stream: dict[str, Any] = {
            "ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": "Android OS 7.0 API 24 (samsung, SM-G930F)" if old else "android",
            "ms_played": 12_000 if n % 4 == 0 else 200_000,
            "conn_country": "DE",
            "master_metadata_track_name": None,
            "master_metadata_album_artist_name": None,
            "master_metadata_album_album_name": None,
            "spotify_track_uri": None,
            "episode_name": None,
            "episode_show_name": None,
            "spotify_episode_uri": None,
            "reason_start": "clickrow",
            "reason_end": "fwdbtn" if n % 4 == 0 else "trackdone",
            "shuffle": n % 2 == 0,
            "skipped": None if old else False,
            "offline": False,
            "offline_timestamp": 0,
            "incognito_mode": False,
        }
        if old:
            stream |= {"username": USERNAME, "ip_addr_decrypted": IP_OLD, "user_agent_decrypted": USER_AGENT}
        else:
            stream["ip_addr"] = IP_NEW
        if n % 5 == 4:
            stream |= {"episode_name": f"Episode {n}", "episode_show_name": "Show", "spotify_episode_uri": None}
        else:
            stream |= {
                "master_metadata_track_name": f"Song {n % 3}",
                "master_metadata_album_artist_name": "Band",
                "master_metadata_album_album_name": "Album",
                "spotify_track_uri": f"spotify:track:{TRACKS[n % 3]}",
            }
        streams.append(stream)
    return streams


def account_music(count: int) -> list[dict[str, Any]]:
    return [
        {
            "endTime": (START + timedelta(days=1500, minutes=4 * n)).strftime("%Y-%m-%d %H:%M"),
            "artistName": "Band",
            "trackName": f"Song {n % 3}",
            "msPlayed": 180_000 + n,
        }
        for n in range(count)
    ]


def account_podcasts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "endTime": (START + timedelta(days=1500, hours=12, minutes=40 * n)).strftime("%Y-%m-%d %H:%M"),
            "podcastName": "Show",
            "episodeName": f"Episode {n}",
            "msPlayed": 1_500_000,
        }
        for n in range(count)
    ]


def write_zip(path: Path, files: dict[str, Any]) -> Path:
    """A zip laid out as Spotify sends it, with `files` (name: JSON value) and a file that is not history."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in files.items():
            archive.writestr(name, json.dumps(value))
        archive.writestr("Spotify Account Data/Userdata.json", json.dumps({"username": USERNAME}))
    return path
