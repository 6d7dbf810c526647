"""The sandbox user: saved tracks and albums, followed artists, top items and plays.

Like the catalog, everything is a function of the seed and the simulated date: the library
grows, the top lists drift (short term daily, medium term weekly, long term monthly) and
plays happen at fixed moments, so any day can be replayed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sandbox.catalog import EPOCH, Catalog, _mix, _unit

TIME_RANGES = {"short_term": 1, "medium_term": 7, "long_term": 30}
TOP_SIZE = 50
RECENT_PLAYS = 50  # Spotify keeps only the last 50 plays reachable
TASTE_SIZE = 300


@dataclass(frozen=True)
class Play:
    track: int
    played_at: datetime
    playlist: int | None


class Listener:
    """What the sandbox user has saved, follows, plays and tops, day by day.

    What Spotify withholds (`Catalog.is_withheld`) is in no list it serves whole; the user's
    past plays still reference it.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.seed = catalog.seed

    def _distinct(self, k: int, count: int, salt: int) -> int:
        """The k-th of a sequence over range(count) that repeats no index before k = count."""
        stride = 7_919  # a prime; walk with another when it divides the count
        while math.gcd(stride, count) != 1:
            stride += 2
        return (_mix(self.seed, salt) + k * stride) % count

    def taste(self, k: int) -> int:
        """The user's k-th favourite track: plays, saves and top lists draw from these."""
        return _mix(self.seed, 50, k % TASTE_SIZE) % self.catalog.track_count

    @staticmethod
    def _growing(day: date, every_days: int, start: int) -> range:
        """Indexes of items added every `every_days` days since day `start`, up to `day`."""
        elapsed = Catalog.day_number(day) - start
        return range(max(0, elapsed // every_days + 1))

    def saved_tracks(self, day: date) -> list[tuple[int, int]]:
        """(track, day number it was saved), most recently saved first."""
        rows = [(self._distinct(k, self.catalog.track_count, 58), -400 + k * 3) for k in self._growing(day, 3, -400)]
        rows = [row for row in rows if not self.catalog.is_withheld("track", row[0])]
        return sorted(rows, key=lambda row: -row[1])

    def saved_albums(self, day: date) -> list[tuple[int, int]]:
        rows = {self.catalog.track_album(self.taste(k * 11 + 5)): -500 + k * 9 for k in self._growing(day, 9, -500)}
        served = [(album, saved) for album, saved in rows.items() if not self.catalog.is_withheld("album", album)]
        return sorted(served, key=lambda row: -row[1])

    def followed_artists(self, day: date) -> list[int]:
        """Followed artists, ordered by artist id as Spotify's cursor (`after`) expects."""
        artists = {self.catalog.track_artists(self.taste(k * 13 + 1))[0] for k in self._growing(day, 7, -600)}
        artists = {a for a in artists if not self.catalog.is_withheld("artist", a)}
        return sorted(artists, key=lambda a: self.catalog.encode_id("artist", a))

    def top_tracks(self, time_range: str, day: date) -> list[int]:
        window = Catalog.day_number(day) // TIME_RANGES[time_range]
        scored = {}
        for k in range(TASTE_SIZE // 2):
            track = self.taste(k)
            score = _unit(self.seed, 51, k) + 0.4 * _unit(self.seed, 52, k, window, TIME_RANGES[time_range])
            scored[track] = max(score, scored.get(track, 0.0))
        served = [t for t in scored if not self.catalog.is_withheld("track", t)]
        return sorted(served, key=lambda t: -scored[t])[:TOP_SIZE]

    def top_artists(self, time_range: str, day: date) -> list[int]:
        ranked: dict[int, None] = {}
        for track in self.top_tracks(time_range, day):
            for artist in self.catalog.track_artists(track):
                if not self.catalog.is_withheld("artist", artist):
                    ranked.setdefault(artist)
        return list(ranked)[:TOP_SIZE]

    def plays_on(self, day: date) -> list[Play]:
        """The day's plays, oldest first."""
        day_n = Catalog.day_number(day)
        count = 15 + _mix(self.seed, 53, day_n) % 25
        start = datetime.combine(day, time(0), tzinfo=UTC)
        seconds = sorted(_mix(self.seed, 54, day_n, i) % 86_400 for i in range(count))
        plays = []
        for i, second in enumerate(seconds):
            track = self.taste(_mix(self.seed, 55, day_n, i) % TASTE_SIZE)
            from_playlist = _mix(self.seed, 56, day_n, i) % 3 == 0
            playlist = (
                self.catalog.owned_playlists()[i % len(self.catalog.owned_playlists())] if from_playlist else None
            )
            millis = _mix(self.seed, 57, day_n, i) % 1000
            plays.append(Play(track, start + timedelta(seconds=second, milliseconds=millis), playlist))
        return plays

    def recent_plays(self, now: datetime) -> list[Play]:
        """The last `RECENT_PLAYS` plays before `now`, newest first: all the API still reaches."""
        plays: list[Play] = []
        day = now.date()
        while len(plays) < RECENT_PLAYS and day >= EPOCH - timedelta(days=365):
            plays.extend(p for p in reversed(self.plays_on(day)) if p.played_at <= now)
            day -= timedelta(days=1)
        return plays[:RECENT_PLAYS]
