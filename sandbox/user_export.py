"""The sandbox user's privacy export: about three years of their plays, as Spotify sends them.

Like everything in the sandbox it is a function of the seed and the simulated date: the export
asked for on a day holds every day before it (Spotify prepares it over days, so today is not in
it). Its music streams are the plays `Listener.plays_on` gives, the ones recently played serves:
same track, `ts` at or seconds after `played_at` when the API saw the end, `ms_played` after it
when the API saw the start, and for a few a pause of minutes (EXPORT-FORMATS §3). What the API
never shows is there too: plays under 30 s (recently played lists none), podcasts, audiobooks,
and the quirks of real exports (overlapping streams, null names, `skipped` false for years,
personal fields, old `endsong` files, account data to the minute with names only).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.catalog import Catalog, _mix, _unit
from sandbox.export import Audiobook, Episode, Track, account_music_play, account_podcast_play, stream, zip_bytes
from sandbox.listener import TASTE_SIZE, Listener, Play

EXPORT_DAYS = 3 * 365
# The oldest year comes in the old generation's files (`endsong_N.json`, personal fields of old).
OLD_FORMAT_DAYS = 365
# Account data covers about the last year; before it, `skipped` is false whatever happened.
ACCOUNT_DAYS = 365
STREAMS_PER_FILE = 6_000
EXTENDED_FOLDER = "Spotify Extended Streaming History"
FILENAME = "my_spotify_data.zip"

PAUSED_SHARE = 0.02  # plays paused for minutes: the export's end and start both miss the API's time
PARTIAL_SHARE = 0.2  # plays stopped before the track's end (after 30 s: the API lists them)
SKIPS_BEFORE_SHARE = 0.18  # plays after one or two tracks skipped within 30 s
OVERLAP_SHARE = 0.9  # streams that start before the skipped one before them is logged as ended
PODCAST_DAY_SHARE = 0.35
MISSING_NAMES_SHARE = 0.015  # older track streams with a URI but no names
UNKNOWN_SHARE = 0.05  # older skipped streams of removed tracks: no names, no URI
OFFLINE_SHARE = 0.03
TRAVEL_DAY_SHARE = 0.04
AUDIOBOOK_DAY_SHARE = 0.02  # in the new generation's files only: old exports had no audiobook fields
MIN_COUNTED_MS = 30_000  # Spotify counts a stream, and recently played lists it, from 30 s

_STARTS = ("trackdone", "trackdone", "clickrow", "playbtn", "appload", "remote")
_STOPS = ("fwdbtn", "endplay", "backbtn", "logout")
_PLATFORMS_OLD = ("Android OS 9 API 28 (samsung, SM-G960F)", "Windows 10 (10.0.19045; x64)", "iOS 16.1 (iPhone14,5)")
_PLATFORMS = ("android", "windows", "ios")
_TRAVEL = ("NL", "FR", "AT")


@dataclass(frozen=True)
class Stream:
    """One stream of the export; `play` is the API's play it is, None for what the API never shows."""

    ended: datetime  # whole seconds, as `ts` says
    ms_played: int
    track: int | None
    episode: int | None
    play: Play | None
    reason_start: str
    reason_end: str
    shuffle: bool
    offline: bool
    # A track without its names (`unknown`: without its URI too), as some removed tracks come.
    names_missing: bool = False
    unknown: bool = False
    chapter: int | None = None  # of an audiobook

    @property
    def started(self) -> datetime:
        return self.ended - timedelta(milliseconds=self.ms_played)

    @property
    def is_skip(self) -> bool:
        return self.reason_end in ("fwdbtn", "backbtn") and self.ms_played < MIN_COUNTED_MS


def streams_on(
    listener: Listener, day: date, with_null_names: bool = False, with_audiobooks: bool = False
) -> list[Stream]:
    """The day's streams, in the order they ended: its plays, the skips before some, a podcast some days.

    `with_null_names` lets some streams lose their names (the export's oldest years);
    `with_audiobooks` adds a chapter of an audiobook on some evenings.
    """
    seed, day_n = listener.seed, Catalog.day_number(day)
    streams: list[Stream] = []
    for i, play in enumerate(listener.plays_on(day)):
        heard = _heard(listener, play, day_n, i, with_null_names)
        if _unit(seed, 84, day_n, i) < SKIPS_BEFORE_SHARE:
            streams.extend(_skips_before(listener, heard, day_n, i, with_null_names))
        else:
            streams.append(heard)
    if _unit(seed, 88, day_n) < PODCAST_DAY_SHARE:
        streams.append(_podcast(listener.catalog, day, day_n))
    if with_audiobooks and _unit(seed, 107, day_n) < AUDIOBOOK_DAY_SHARE:
        streams.append(_chapter(listener.catalog, day, day_n))
    return sorted(streams, key=_order)


def _heard(listener: Listener, play: Play, day_n: int, i: int, with_null_names: bool) -> Stream:
    """The stream of an API play: `played_at` was its end, or its start (then a few paused for minutes)."""
    seed = listener.seed
    duration = listener.catalog.track_duration_ms(play.track)
    if _unit(seed, 80, day_n, i) < PARTIAL_SHARE:
        ms_played = MIN_COUNTED_MS + _mix(seed, 81, day_n, i) % (duration - MIN_COUNTED_MS)
        reason_end = _STOPS[_mix(seed, 82, day_n, i) % len(_STOPS)]
    else:
        ms_played, reason_end = duration, "trackdone"
    played_at = play.played_at.replace(microsecond=0)
    lag = timedelta(seconds=_mix(seed, 83, day_n, i) % 20)
    if _unit(seed, 85, day_n, i) < 0.5:
        ended = played_at + lag
    else:
        paused = _unit(seed, 86, day_n, i) < PAUSED_SHARE
        pause = timedelta(seconds=120 + _mix(seed, 87, day_n, i) % 600) if paused else timedelta(0)
        ended = (play.played_at + timedelta(milliseconds=ms_played)).replace(microsecond=0) + lag + pause
    return Stream(
        ended=ended,
        ms_played=ms_played,
        track=play.track,
        episode=None,
        play=play,
        reason_start=_STARTS[_mix(seed, 89, day_n, i) % len(_STARTS)],
        reason_end=reason_end,
        shuffle=_unit(seed, 90, day_n, i) < 0.4,
        offline=_unit(seed, 91, day_n, i) < OFFLINE_SHARE,
        names_missing=with_null_names and _unit(seed, 92, day_n, i) < MISSING_NAMES_SHARE,
    )


def _skips_before(listener: Listener, heard: Stream, day_n: int, i: int, with_null_names: bool) -> list[Stream]:
    """`heard` and the one or two tracks skipped within 30 s before it, most logged as ended after the next began."""
    seed, chain = listener.seed, [heard]
    for j in range(1 + _mix(seed, 93, day_n, i) % 2):
        after = chain[0]
        track = listener.taste(_mix(seed, 94, day_n, i, j) % TASTE_SIZE)
        if track == heard.track:
            track = listener.taste((_mix(seed, 94, day_n, i, j) + 1) % TASTE_SIZE)
        shift = timedelta(seconds=1 + _mix(seed, 96, day_n, i, j) % 4)
        overlaps = _unit(seed, 95, day_n, i, j) < OVERLAP_SHARE
        skip = Stream(
            ended=(after.started + shift if overlaps else after.started - shift).replace(microsecond=0),
            ms_played=1_500 + _mix(seed, 98, day_n, i, j) % (MIN_COUNTED_MS - 2_000),
            track=track,
            episode=None,
            play=None,
            reason_start="clickrow",
            reason_end="backbtn" if _mix(seed, 97, day_n, i, j) % 8 == 0 else "fwdbtn",
            shuffle=heard.shuffle,
            offline=heard.offline,
            unknown=with_null_names and _unit(seed, 99, day_n, i, j) < UNKNOWN_SHARE,
        )
        # What follows a skip started because of it.
        chain[0] = replace(after, reason_start=skip.reason_end)
        chain.insert(0, skip)
    return chain


def _podcast(catalog: Catalog, day: date, day_n: int) -> Stream:
    """A podcast episode on the morning commute: the API's recently played never lists episodes."""
    seed = catalog.seed
    episode = _mix(seed, 100, day_n) % catalog.episode_count
    duration = catalog.episode_duration_ms(episode)
    ms_played = min(duration, 300_000 + _mix(seed, 101, day_n) % duration)
    started = datetime.combine(day, time(6, 30), tzinfo=UTC) + timedelta(seconds=_mix(seed, 102, day_n) % 10_800)
    return Stream(
        ended=(started + timedelta(milliseconds=ms_played)).replace(microsecond=0),
        ms_played=ms_played,
        track=None,
        episode=episode,
        play=None,
        reason_start="clickrow",
        reason_end="trackdone" if ms_played == duration else "endplay",
        shuffle=False,
        offline=_unit(seed, 103, day_n) < OFFLINE_SHARE * 5,
    )


def _chapter(catalog: Catalog, day: date, day_n: int) -> Stream:
    """An evening's chapter of an audiobook (neither recently played nor the account data lists them)."""
    seed = catalog.seed
    chapter = _mix(seed, 108, day_n) % catalog.count("chapter")
    ms_played = catalog.chapter_duration_ms(chapter)
    started = datetime.combine(day, time(20), tzinfo=UTC) + timedelta(seconds=_mix(seed, 109, day_n) % 7_200)
    return Stream(
        ended=(started + timedelta(milliseconds=ms_played)).replace(microsecond=0),
        ms_played=ms_played,
        track=None,
        episode=None,
        play=None,
        reason_start="clickrow",
        reason_end="trackdone",
        shuffle=False,
        offline=False,
        chapter=chapter,
    )


@functools.lru_cache(maxsize=4)
def export_zip(listener: Listener, today: date) -> bytes:
    """The zip the user would download on `today` (`my_spotify_data.zip`), the same bytes every time."""
    return zip_bytes(export_files(listener, today), made=datetime.combine(today, time(0), tzinfo=UTC))


def export_files(listener: Listener, today: date) -> dict[str, list[dict[str, Any]]]:
    """The export's history files (name in the zip: rows), the oldest first.

    The oldest year in `endsong_N.json`, the rest in `Streaming_History_Audio_<years>_<N>.json`,
    the last year also as account data (`StreamingHistory_music_N.json`, `..._podcast_N.json`).
    """
    catalog = listener.catalog
    first = today - timedelta(days=EXPORT_DAYS)
    old_until, account_from = first + timedelta(days=OLD_FORMAT_DAYS), today - timedelta(days=ACCOUNT_DAYS)
    days = [first + timedelta(days=n) for n in range(EXPORT_DAYS)]
    by_day = {
        day: streams_on(listener, day, with_null_names=day < account_from, with_audiobooks=day >= old_until)
        for day in days
    }

    def streams(since: date, until: date) -> list[Stream]:
        return sorted((s for day in days if since <= day < until for s in by_day[day]), key=_order)

    old, new, account = streams(first, old_until), streams(old_until, today), streams(account_from, today)
    files: dict[str, list[dict[str, Any]]] = {}
    for n, chunk in enumerate(_chunks(old)):
        files[f"MyData/endsong_{n}.json"] = [_extended_row(catalog, s, old=True, reliable_skips=False) for s in chunk]
    for n, chunk in enumerate(_chunks(new)):
        years = sorted({chunk[0].ended.year, chunk[-1].ended.year})
        name = f"{EXTENDED_FOLDER}/Streaming_History_Audio_{'-'.join(map(str, years))}_{n}.json"
        files[name] = [
            _extended_row(catalog, s, old=False, reliable_skips=s.ended.date() >= account_from) for s in chunk
        ]
    music = [_account_row(catalog, s) for s in account if s.track is not None]
    for n, chunk in enumerate(_chunks(music)):
        files[f"MyData/StreamingHistory_music_{n}.json"] = chunk
    podcasts = [_account_row(catalog, s) for s in account if s.episode is not None]
    files["MyData/StreamingHistory_podcast_0.json"] = podcasts
    return files


def _order(s: Stream) -> tuple[datetime, int]:
    return s.ended, s.ms_played


def _chunks(items: list[Any]) -> list[list[Any]]:
    """Files as Spotify cuts them: a fixed number of streams each."""
    return [items[n : n + STREAMS_PER_FILE] for n in range(0, len(items), STREAMS_PER_FILE)]


def _item(catalog: Catalog, s: Stream) -> Track | Episode | Audiobook:
    if s.chapter is not None:
        audiobook = catalog.chapter_audiobook(s.chapter)
        return Audiobook(
            catalog.audiobook_title(audiobook),
            f"spotify:audiobook:{catalog.encode_id('audiobook', audiobook)}",
            f"spotify:chapter:{catalog.encode_id('chapter', s.chapter)}",
            catalog.chapter_title(s.chapter),
        )
    if s.episode is not None:
        show = catalog.show_name(catalog.episode_show(s.episode))
        return Episode(
            catalog.episode_name(s.episode), show, f"spotify:episode:{catalog.encode_id('episode', s.episode)}"
        )
    if s.track is None or s.unknown:
        return Track(None, None, None, None)
    uri = f"spotify:track:{catalog.encode_id('track', s.track)}"
    if s.names_missing:
        return Track(None, None, None, uri)
    album = catalog.track_album(s.track)
    return Track(
        catalog.track_name(s.track), catalog.artist_name(catalog.album_artist(album)), catalog.album_name(album), uri
    )


def _extended_row(catalog: Catalog, s: Stream, old: bool, reliable_skips: bool) -> dict[str, Any]:
    """`skipped` is null in old files and false for years before the last (the export's own quirk)."""
    seed, day_n, moment = catalog.seed, Catalog.day_number(s.started.date()), int(s.started.timestamp())
    platforms = _PLATFORMS_OLD if old else _PLATFORMS
    travelling = _unit(seed, 105, day_n) < TRAVEL_DAY_SHARE
    return stream(
        s.ended,
        s.ms_played,
        _item(catalog, s),
        old=old,
        platform=platforms[_mix(seed, 104, day_n) % len(platforms)],
        reason_start=s.reason_start,
        reason_end=s.reason_end,
        shuffle=s.shuffle,
        skipped=None if old else (reliable_skips and s.is_skip),
        conn_country=_TRAVEL[_mix(seed, 106, day_n) % len(_TRAVEL)] if travelling else "DE",
        offline=s.offline,
        # Seconds in the old generation, milliseconds in the new; set whether offline or not.
        offline_timestamp=moment if old else moment * 1000,
        audiobook_fields=not old,
    )


def _account_row(catalog: Catalog, s: Stream) -> dict[str, Any]:
    item = _item(catalog, s)
    if isinstance(item, Episode):
        return account_podcast_play(s.ended, item.show or "", item.name or "", s.ms_played)
    if isinstance(item, Track):
        artist, name = item.album_artist or "Unknown Artist", item.name or "Unknown Track"
        return account_music_play(s.ended, artist, name, s.ms_played)
    raise ValueError("audiobooks are in no account data file")
