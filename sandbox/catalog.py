"""A deterministic synthetic Spotify catalog that lives in time.

Nothing is stored per entity: every artist, album, track and playlist is computed on demand
from (seed, kind, index), and ids encode that triple reversibly, so looking an id up costs
O(1) and the catalog's memory is two small prefix-sum arrays whatever its size. Facts that
change from day to day (popularity, followers, playlist membership and positions) are
functions of the simulated date.
"""

from __future__ import annotations

import bisect
import functools
import zlib
from array import array
from dataclasses import dataclass
from datetime import date, timedelta

ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22
_ID_INDEX = {c: i for i, c in enumerate(ID_ALPHABET)}
# Two base62 digits at a time: half the divisions when encoding 128-bit ids.
_ID_PAIRS = [a + b for a in ID_ALPHABET for b in ID_ALPHABET]
_MASK128 = (1 << 128) - 1
# An odd multiplier is invertible modulo 2**128, which makes the id scrambling a bijection.
_ID_MULTIPLIER = 0x9E3779B97F4A7C15F39CC0605CEDC835
_ID_INVERSE = pow(_ID_MULTIPLIER, -1, 1 << 128)

# `relink`: the playable equivalent a relinked track is answered under; `ghost`: a track
# Spotify lists in playlists but no longer serves (empty name, duration 0).
KINDS = ("artist", "album", "track", "playlist", "episode", "show", "relink", "ghost", "audiobook", "chapter")
GHOSTS = 64
CHAPTERS = 12  # per audiobook
# Shares of the quirks real answers carry (shared/API-2026.md, "What real answers contain").
# Each is decided per entity from the seed, so a quirk always hits the same entities.
RELINKED_SHARE = 0.03  # tracks unavailable in the asked market (relinked with extended quota)
LEGACY_SHARE = 0.08  # old tracks: recently played sends them without `album`, and no `popularity`
RESTRICTED_ALBUM_SHARE = 0.02  # albums not playable in the market
LONG_NAME_SHARE = 0.01  # names over 150 characters
UNDATED_ALBUM_SHARE = 0.03  # albums released "0000"
NULL_ENTRY_SHARE = 0.03  # entries of the user's library pages answered as null
SANDBOX_USER_ID = "tunelake-sandbox"
SANDBOX_USER_NAME = "Sandbox Listener"
EPOCH = date(2026, 1, 1)

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "sa",
    "lu",
    "ne",
    "dor",
    "fi",
    "qua",
    "zel",
    "bri",
    "mon",
    "ta",
    "vi",
    "sol",
    "ar",
    "is",
    "el",
    "no",
    "ry",
    "sha",
    "ko",
    "pe",
    "lin",
    "gra",
)
_WORDS = (
    "Midnight",
    "Echo",
    "Golden",
    "River",
    "Static",
    "Neon",
    "Paper",
    "Velvet",
    "Summer",
    "Ghost",
    "Electric",
    "Silent",
    "Wild",
    "Broken",
    "Crystal",
    "Northern",
    "Lights",
    "Hearts",
    "Dreams",
    "Fire",
    "Ocean",
    "Signal",
    "Motion",
    "Gravity",
    "Honey",
    "Satellite",
    "Diamond",
    "Shadow",
)
# Real catalogs are multilingual: a share of names is in other scripts.
_FOREIGN_NAMES = (
    "夜明けの歌",
    "東京ナイト",
    "Звёздный путь",
    "Белые ночи",
    "Καλοκαίρι",
    "사랑의 노래",
    "Café Olé",
    "Señorita Luna",
    "Straße der Träume",
    "北京之夏",
    "Ночной город",
    "Ελπίδα",
)
_GENRES = ("indie pop", "synthwave", "lo-fi", "techno", "jazz", "hip hop", "folk", "k-pop")


def _mix(*parts: int) -> int:
    """Hash integers into a well-spread 64-bit integer.

    The parts are folded in with one multiply each, then the result goes once through the
    splitmix64 finalizer: cheap enough to call per field on the hot path of every answer.
    """
    x = 0x243F6A8885A308D3
    for part in parts:
        x = ((x ^ part) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _unit(*parts: int) -> float:
    """A deterministic float in [0, 1)."""
    return _mix(*parts) / 2.0**64


@dataclass(frozen=True)
class EntityRef:
    kind: str
    index: int


@dataclass(frozen=True)
class PlaylistEntry:
    """One row of a playlist on a given day; `kind` is track, episode, local, ghost or missing."""

    kind: str
    index: int
    added_day: int


class Catalog:
    """A synthetic catalog: artists own albums, albums own tracks, playlists rotate tracks.

    Args:
        seed: Everything derives from it; the same seed gives the same catalog.
        tracks: Approximate number of tracks (a few hundred up to millions).
        playlists: Number of playlists; about half belong to the sandbox user.
        withheld: Share of albums, artists and tracks that answer 404 when asked for by id
            (taken down, region-locked): other answers still mention them.
    """

    def __init__(self, seed: int = 42, tracks: int = 10_000, playlists: int = 12, withheld: float = 0.02) -> None:
        if tracks < 50:
            raise ValueError(f"tracks must be at least 50, got {tracks}")
        if not 0 <= withheld < 1:
            raise ValueError(f"withheld must be between 0 and 1, got {withheld}")
        self.seed = seed
        self.withheld = withheld
        self.playlist_count = playlists
        self.episode_count = 40
        self.show_count = 5
        # Audiobooks appear only in the user's privacy export: the sandbox serves no audiobook endpoint.
        self.audiobook_count = 3
        album_offsets = array("q", [0])
        track_offsets = array("q", [0])
        artist = 0
        while track_offsets[-1] < tracks:
            first_album = album_offsets[-1]
            album_offsets.append(first_album + 1 + _mix(seed, 1, artist) % 6)
            for album in range(first_album, album_offsets[-1]):
                track_offsets.append(track_offsets[-1] + self._album_size(album))
            artist += 1
        self._album_offsets = album_offsets
        self._track_offsets = track_offsets
        self.artist_count = artist
        self.album_count = album_offsets[-1]
        self.track_count = track_offsets[-1]

    def _album_size(self, album: int) -> int:
        roll = _mix(self.seed, 2, album) % 100
        if roll < 30:  # singles and EPs
            return 1 + roll % 4
        return 6 + roll % 13

    # ids -------------------------------------------------------------------------------------

    @functools.lru_cache(maxsize=200_000)  # noqa: B019 (catalogs live as long as the process)
    def encode_id(self, kind: str, index: int) -> str:
        value = ((self.seed & 0xFFFF) << 60 | KINDS.index(kind) << 52 | index) * _ID_MULTIPLIER
        value &= _MASK128
        pairs = []
        for _ in range(ID_LENGTH // 2):
            value, rest = divmod(value, 3844)
            pairs.append(_ID_PAIRS[rest])
        return "".join(reversed(pairs))

    def decode_id(self, entity_id: str) -> EntityRef | None:
        """The entity an id names, or None when the id is malformed or unknown."""
        if len(entity_id) != ID_LENGTH:
            return None
        value = 0
        for char in entity_id:
            digit = _ID_INDEX.get(char)
            if digit is None:
                return None
            value = value * 62 + digit
        if value > _MASK128:
            return None
        raw = value * _ID_INVERSE & _MASK128
        seed_part, kind_code, index = raw >> 60, raw >> 52 & 0xFF, raw & (1 << 52) - 1
        if seed_part != self.seed & 0xFFFF or kind_code >= len(KINDS):
            return None
        kind = KINDS[kind_code]
        if index >= self.count(kind):
            return None
        return EntityRef(kind, index)

    def count(self, kind: str) -> int:
        return {
            "artist": self.artist_count,
            "album": self.album_count,
            "track": self.track_count,
            "playlist": self.playlist_count,
            "episode": self.episode_count,
            "show": self.show_count,
            "relink": self.track_count,
            "ghost": GHOSTS,
            "audiobook": self.audiobook_count,
            "chapter": self.audiobook_count * CHAPTERS,
        }[kind]

    # structure -------------------------------------------------------------------------------

    def artist_albums(self, artist: int) -> range:
        return range(self._album_offsets[artist], self._album_offsets[artist + 1])

    def album_artist(self, album: int) -> int:
        return bisect.bisect_right(self._album_offsets, album) - 1

    def album_tracks(self, album: int) -> range:
        return range(self._track_offsets[album], self._track_offsets[album + 1])

    def track_album(self, track: int) -> int:
        return bisect.bisect_right(self._track_offsets, track) - 1

    def album_artists(self, album: int) -> list[int]:
        """The album's artists: its owner, and for one album in ten a collaborator."""
        owner = self.album_artist(album)
        if _mix(self.seed, 3, album) % 10 == 0 and self.artist_count > 1:
            return [owner, (owner + 1 + _mix(self.seed, 4, album) % (self.artist_count - 1)) % self.artist_count]
        return [owner]

    def track_artists(self, track: int) -> list[int]:
        """The track's artists: the album's, plus a featured artist on about one track in eight."""
        artists = self.album_artists(self.track_album(track))
        if _mix(self.seed, 5, track) % 8 == 0 and self.artist_count > 2:
            featured = _mix(self.seed, 6, track) % self.artist_count
            if featured not in artists:
                artists = [*artists, featured]
        return artists

    # names and static facts ------------------------------------------------------------------

    def _name(self, kind_code: int, index: int, words: int) -> str:
        if _mix(self.seed, 7, kind_code, index) % 12 == 0:
            return _FOREIGN_NAMES[_mix(self.seed, 8, kind_code, index) % len(_FOREIGN_NAMES)]
        picks = [_WORDS[_mix(self.seed, 9, kind_code, index, n) % len(_WORDS)] for n in range(words)]
        return " ".join(picks)

    @functools.lru_cache(maxsize=100_000)  # noqa: B019
    def artist_name(self, artist: int) -> str:
        if _mix(self.seed, 7, 0, artist) % 12 == 0:
            return _FOREIGN_NAMES[_mix(self.seed, 8, 0, artist) % len(_FOREIGN_NAMES)]
        length = 2 + _mix(self.seed, 10, artist) % 3
        word = "".join(_SYLLABLES[_mix(self.seed, 11, artist, n) % len(_SYLLABLES)] for n in range(length))
        return f"The {word.title()}" if artist % 5 == 0 else word.title()

    def album_name(self, album: int) -> str:
        return self._name(1, album, 1 + _mix(self.seed, 12, album) % 3)

    def track_name(self, track: int) -> str:
        if _unit(self.seed, 65, track) < LONG_NAME_SHARE:
            return " - ".join(self._name(2, track + n, 3) for n in range(12))[:180]
        return self._name(2, track, 1 + _mix(self.seed, 13, track) % 3)

    # quirks of real answers ------------------------------------------------------------------

    def is_withheld(self, kind: str, index: int) -> bool:
        """Whether Spotify answers 404 for this album, artist or track asked for by id."""
        return kind in ("album", "artist", "track") and _unit(self.seed, 60, KINDS.index(kind), index) < self.withheld

    def is_legacy_track(self, track: int) -> bool:
        return _unit(self.seed, 61, track) < LEGACY_SHARE

    def is_relinked(self, track: int) -> bool:
        return _unit(self.seed, 62, track) < RELINKED_SHARE

    def is_null_entry(self, listing: str, index: int) -> bool:
        """Whether the entry for `index` in a library `listing` (`tracks`, `albums`, `playlists`) is null."""
        return _unit(self.seed, 67, zlib.crc32(listing.encode()), index) < NULL_ENTRY_SHARE

    def is_restricted_album(self, album: int) -> bool:
        return _unit(self.seed, 63, album) < RESTRICTED_ALBUM_SHARE

    def album_release(self, album: int) -> tuple[str, str]:
        """(release_date, precision) with the year/month/day precisions real albums have, and "0000"."""
        if _unit(self.seed, 64, album) < UNDATED_ALBUM_SHARE:
            return "0000", "year"
        day = date(1975, 1, 1) + timedelta(days=_mix(self.seed, 14, album) % (EPOCH - date(1975, 1, 1)).days)
        roll = _mix(self.seed, 15, album) % 20
        if roll == 0:
            return f"{day.year:04d}", "year"
        if roll == 1:
            return f"{day.year:04d}-{day.month:02d}", "month"
        return day.isoformat(), "day"

    def album_type(self, album: int) -> str:
        if len(self.album_tracks(album)) <= 3:
            return "single"
        return "compilation" if _mix(self.seed, 16, album) % 25 == 0 else "album"

    def has_images(self, kind_code: int, index: int) -> bool:
        return _mix(self.seed, 17, kind_code, index) % 15 != 0

    def track_duration_ms(self, track: int) -> int:
        return 90_000 + _mix(self.seed, 18, track) % 330_000

    def episode_show(self, episode: int) -> int:
        return episode % self.show_count

    def episode_name(self, episode: int) -> str:
        return f"Episode {episode + 1}"

    def show_name(self, show: int) -> str:
        return f"Sandbox Show {show + 1}"

    def episode_duration_ms(self, episode: int) -> int:
        return 1_800_000 + episode * 1000

    def audiobook_title(self, audiobook: int) -> str:
        return self._name(8, audiobook, 3)

    def chapter_audiobook(self, chapter: int) -> int:
        return chapter // CHAPTERS

    def chapter_title(self, chapter: int) -> str:
        return f"Chapter {chapter % CHAPTERS + 1}"

    def chapter_duration_ms(self, chapter: int) -> int:
        return 900_000 + _mix(self.seed, 21, chapter) % 1_200_000

    def track_explicit(self, track: int) -> bool:
        return _mix(self.seed, 19, track) % 6 == 0

    def track_isrc(self, track: int) -> str:
        letters = "".join(chr(65 + _mix(self.seed, 20, track, n) % 26) for n in range(3))
        return f"QZ{letters}{self.album_release(self.track_album(track))[0][2:4]}{track % 100_000:05d}"

    def album_upc(self, album: int) -> str:
        return f"{_mix(self.seed, 22, album) % 10**12:012d}"

    def artist_genres(self, artist: int) -> list[str]:
        first = _mix(self.seed, 23, artist) % len(_GENRES)
        return [_GENRES[first], _GENRES[(first + 3) % len(_GENRES)]][: 1 + artist % 2]

    # facts that move with time ---------------------------------------------------------------

    @staticmethod
    def day_number(day: date) -> int:
        return (day - EPOCH).days

    def _drifting_score(self, kind_code: int, index: int, day: int) -> int:
        """A 0-100 score with a per-entity base, trend and daily noise."""
        base = _mix(self.seed, 24, kind_code, index) % 70 + 5
        trend = (_unit(self.seed, 25, kind_code, index) - 0.5) * 0.4
        noise = (_unit(self.seed, 26, kind_code, index, day) - 0.5) * 6
        return max(0, min(100, round(base + trend * day + noise)))

    def track_popularity(self, track: int, day: date) -> int:
        return self._drifting_score(2, track, self.day_number(day))

    def album_popularity(self, album: int, day: date) -> int:
        return self._drifting_score(1, album, self.day_number(day))

    def artist_popularity(self, artist: int, day: date) -> int:
        return self._drifting_score(0, artist, self.day_number(day))

    def artist_followers(self, artist: int, day: date) -> int:
        base = 10 ** (2 + _mix(self.seed, 27, artist) % 5)
        growth = 1 + 0.002 * _unit(self.seed, 28, artist) * self.day_number(day)
        return int(base * growth) + _mix(self.seed, 29, artist) % 997

    # playlists -------------------------------------------------------------------------------

    def playlist_owner(self, playlist: int) -> str:
        """Even playlists belong to the sandbox user, one in four others is editorial."""
        if playlist % 2 == 0:
            return SANDBOX_USER_ID
        return "spotify" if playlist % 4 == 3 else f"listener{_mix(self.seed, 30, playlist) % 9000 + 1000}"

    def playlist_is_collaborative(self, playlist: int) -> bool:
        return playlist % 6 == 1 and not self.playlist_is_editorial(playlist)

    def playlist_is_editorial(self, playlist: int) -> bool:
        return self.playlist_owner(playlist) == "spotify"

    def playlist_name(self, playlist: int) -> str:
        return self._name(3, playlist, 2)

    def playlist_entries(self, playlist: int, day: date) -> list[PlaylistEntry]:
        """The playlist's rows on `day`: candidates rotate in and out, order drifts daily.

        Every playlist also carries the quirks real ones have: a removed track (null), a
        local file, a podcast episode and a "ghost" track (in some), and one track listed twice.
        """
        day_n = self.day_number(day)
        size = 40 + _mix(self.seed, 31, playlist) % 80
        scored = []
        for slot in range(size * 3 // 2):
            track = _mix(self.seed, 32, playlist, slot) % self.track_count
            # Each slot cycles: in the playlist for part of its period, out for the rest.
            period = 30 + _mix(self.seed, 33, playlist, slot) % 90
            phase = (day_n + _mix(self.seed, 34, playlist, slot)) % period
            if slot < size // 3 or phase < period * 2 // 3:
                score = _unit(self.seed, 35, playlist, slot) + 0.15 * _unit(self.seed, 36, playlist, slot, day_n)
                added = day_n - (phase if slot >= size // 3 else 200 + slot)
                scored.append((score, track, added))
        scored.sort(reverse=True)
        entries = [PlaylistEntry("track", track, added) for _, track, added in scored[:size]]
        if entries:
            entries.insert(min(3, len(entries)), PlaylistEntry("track", entries[0].index, entries[0].added_day))
        entries.insert(min(7, len(entries)), PlaylistEntry("missing", -1, day_n - 40))
        entries.insert(min(11, len(entries)), PlaylistEntry("local", playlist, day_n - 35))
        if playlist % 3 == 0:
            episode = _mix(self.seed, 37, playlist) % self.episode_count
            entries.insert(min(15, len(entries)), PlaylistEntry("episode", episode, day_n - 20))
        if playlist % 4 == 0:
            ghost = _mix(self.seed, 66, playlist) % GHOSTS
            entries.insert(min(19, len(entries)), PlaylistEntry("ghost", ghost, day_n - 500))
        return entries

    def playlist_snapshot_id(self, playlist: int, day: date) -> str:
        return self.encode_id("playlist", playlist)[:8] + f"{_mix(self.seed, 38, playlist, self.day_number(day)):016x}"

    def playlist_followers(self, playlist: int, day: date) -> int:
        return 50 + _mix(self.seed, 39, playlist) % 50_000 + self.day_number(day) * (playlist % 7)

    def owned_playlists(self) -> list[int]:
        """Playlists whose items a development-mode app may read (owned or collaborative)."""
        return [
            p
            for p in range(self.playlist_count)
            if self.playlist_owner(p) == SANDBOX_USER_ID or self.playlist_is_collaborative(p)
        ]

    # search and charts ---------------------------------------------------------------------

    def search(self, kind: str, query: str, day: date, results: int = 100) -> list[int]:
        """Ranked `kind` results for `query` on `day`: the same set every day, ranks drift."""
        query_hash = zlib.crc32(" ".join(query.lower().split()).encode())
        kind_code = KINDS.index(kind)
        day_n = self.day_number(day)
        scores: dict[int, float] = {}
        for k in range(results):
            index = _mix(self.seed, 40, query_hash, kind_code, k) % self.count(kind)
            if self.is_withheld(kind, index):
                continue  # what Spotify will not serve it does not find either
            score = 1 - k / results + 0.25 * _unit(self.seed, 41, query_hash, index, day_n)
            scores[index] = max(score, scores.get(index, 0.0))
        return sorted(scores, key=lambda index: -scores[index])

    def new_releases(self, day: date, size: int = 50) -> list[int]:
        day_n = self.day_number(day)
        return list(dict.fromkeys(_mix(self.seed, 42, day_n, k) % self.album_count for k in range(size)))

    def artist_top_tracks(self, artist: int, day: date, size: int = 10) -> list[int]:
        tracks = [t for album in self.artist_albums(artist) for t in self.album_tracks(album)]
        return sorted(tracks, key=lambda t: -self.track_popularity(t, day))[:size]
