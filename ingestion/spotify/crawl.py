"""One run's shared context: what it asks with, what it remembers, and what it has collected.

Every stage of a crawl (`playlists`, `search`, `library`, `discography`, `entities`) works on a
`Crawl`: it sends requests through `fetch`, reads answers through `answers`, and hands whole
entities to `add`, which keeps each once per run and asks for what they reference. Stages run
on the client's worker threads, so everything here that changes is guarded by one lock.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ingestion.spotify import answers, settings
from ingestion.spotify.answers import Entity, Ref
from ingestion.spotify.freshness import Freshness, refresh_windows
from ingestion.spotify.helpers import SpotifyApiError, SpotifyClient
from ingestion.spotify.options import CrawlOptions, Tracked
from ingestion.spotify.state import ENTITY_KINDS, CrawlState, day_number

logger = logging.getLogger(__name__)
# What Spotify answers for what it will not give this app: the run goes on without it.
REFUSALS = (400, 403, 404)


@dataclass(frozen=True)
class Skipped:
    """An id that could not be loaded, and why (reported in the run summary)."""

    kind: str
    entity_id: str
    reason: str


class Crawl:
    """The context every stage of one run shares.

    Args:
        client: The Spotify client.
        tracked: What to follow.
        options: How to crawl.
        state: Gives the state dict (dlt's source state, read once the run has started).
    """

    def __init__(
        self, client: SpotifyClient, tracked: Tracked, options: CrawlOptions, state: Callable[[], dict[str, Any]]
    ) -> None:
        self.client = client
        self.tracked = tracked
        self.options = options
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.skipped: list[Skipped] = []
        # Entries of lists that were not objects (`null` in a library page, a batch answer, ...).
        self.nulls: Counter[str] = Counter()
        self.tier = options.tier if options.tier != "auto" else None
        self.tier_reason = "configured" if self.tier else None
        self.now: datetime | None = None
        self.expand_albums: dict[str, None] = dict.fromkeys(tracked.albums)
        self.lock = threading.RLock()
        self._state_provider = state
        self._state: CrawlState | None = None
        # In memory unless the run loads it from the raw zone's index (`ingestion.pipeline.ingest`).
        self.freshness = Freshness()
        self._in_hand: dict[str, set[str]] = {kind: set() for kind in ENTITY_KINDS}
        self._wanted: dict[str, dict[str, Ref | None]] = {kind: {} for kind in ENTITY_KINDS}

    # time and state --------------------------------------------------------------------------

    @property
    def state(self) -> CrawlState:
        if self._state is None:
            self._state = CrawlState(self._state_provider())
            legacy = self._state.take_legacy_fetched()
            if legacy:
                self._adopt(legacy)
        return self._state

    def _adopt(self, legacy: dict[str, Any]) -> None:
        """A state written before the freshness index: its entries move to the index, out of the state."""
        windows = refresh_windows(self.options)
        oldest = {kind: self.today - window + 1 if self.now else 0 for kind, window in windows.items()}
        taken = self.freshness.adopt(legacy, oldest)
        logger.info("moving %d entity fetch dates from the pipeline state to the freshness index", taken)

    @property
    def today(self) -> int:
        """Spotify's UTC day number of this run."""
        if self.now is None:
            raise RuntimeError("the crawl has not started: no server time yet")
        return day_number(self.now)

    def is_fresh(self, kind: str, entity_id: str) -> bool:
        """Fetched within its refresh window: not asked again."""
        fetched = self.freshness.fetched_on(kind, entity_id)
        window = (self.options.refresh_days or settings.REFRESH_DAYS[self.tier or "development"])[kind]
        return fetched is not None and self.today - fetched < window

    def page_tier(self) -> str:
        """The tier whose page sizes to use: development's until extended quota is known."""
        return self.tier or "development"

    def set_tier(self, tier: str, reason: str) -> None:
        logger.info("tier: %s (%s)", tier, reason)
        self.tier, self.tier_reason = tier, reason
        self.state.decide_tier(tier, self.today)

    # what the run collects -------------------------------------------------------------------

    def emit(self, table: str, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows[table].append(row)

    def emit_all(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        with self.lock:
            for table, row in rows:
                self.rows[table].append(row)

    def skip(self, kind: str, entity_id: str, reason: str) -> None:
        logger.info("skipping %s %s: %s", kind, entity_id, reason)
        with self.lock:
            self.skipped.append(Skipped(kind, entity_id, reason))

    def count_nulls(self, endpoint: str, count: int) -> None:
        if count:
            with self.lock:
                self.nulls[endpoint] += count

    def items(self, endpoint: str, value: Any) -> list[dict[str, Any]]:
        """The objects of a list in an answer; null entries are counted for the summary and skipped."""
        objects, nulls = answers.entries(value)
        self.count_nulls(endpoint, nulls)
        return objects

    # requests --------------------------------------------------------------------------------

    def for_each(self, fn: Callable[[Any], Any], items: list[Any]) -> None:
        """`fn` over `items` on the client's workers; the first failure (a long 429 too) is raised."""
        for _, result in self.client.map(fn, items):
            if isinstance(result, Exception):
                raise result

    def fetch(self, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One answer; a 400/403/404 is recorded as skipped and gives None, the run goes on."""
        try:
            return self.client.call(endpoint, fn, *args, **kwargs)
        except SpotifyApiError as error:
            if error.status in REFUSALS:
                self.skip(kind, entity_id, str(error))
                return None
            raise

    def fetch_tracked(self, unit: str, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """The first answer of a tracked id's once-a-day `unit`.

        A refusal is remembered for the day, so re-runs report it without asking.
        """
        try:
            return self.client.call(endpoint, fn, *args, **kw)
        except SpotifyApiError as error:
            if error.status not in REFUSALS:
                raise
            reason = str(error)
            if error.status == 404 and kind == "playlist":
                reason += " (Spotify's own editorial and algorithmic playlists answer 404 to development-mode apps)"
            self.refuse(unit, kind, entity_id, reason)
            return None

    def refuse(self, unit: str, kind: str, entity_id: str, reason: str) -> None:
        """Report a tracked id skipped and remember why until tomorrow."""
        self.skip(kind, entity_id, reason)
        self.state.refuse(f"{unit}:{entity_id}", self.today, reason)

    def finish(self, unit: str, entity_id: str, size: int) -> None:
        """A tracked id's `unit` is done today; its size sizes tomorrow's cost estimate."""
        self.state.remember_size(f"{unit}:{entity_id}", size)
        self.state.mark_done(f"{unit}:{entity_id}", self.today)

    def due(self, unit: str, kind: str, ids: tuple[str, ...]) -> list[str]:
        """The ids whose once-a-day `unit` (`playlist`, `discography`, `search`) is not done today.

        The ones Spotify refused earlier today are reported again, not asked.
        """
        self.report_refused_today({f"{unit}:{i}": (kind, i) for i in ids})
        return [i for i in ids if not self.state.done_on(f"{unit}:{i}", self.today)]

    def report_refused_today(self, keys: dict[str, tuple[str, str]]) -> None:
        """Skipped entries for tracked ids an earlier run today was refused (not asked again)."""
        for key, (kind, entity_id) in keys.items():
            reason = self.state.refusal(key, self.today)
            if reason:
                self.skip(kind, entity_id, f"{reason} (earlier today; asked again tomorrow)")

    def pages(self, kind: str, entity_id: str, endpoint: str, page: Any) -> list[dict[str, Any]] | None:
        """All objects of a paging object and the pages after it, or None when a later page failed."""
        objects: list[dict[str, Any]] = []
        while page is not None:
            objects.extend(self.items(endpoint, answers.page_items(page)))
            if not answers.next_url(page):
                return objects
            page = self.fetch(kind, entity_id, endpoint, self.client.spotipy.next, page)
        return None

    # entities --------------------------------------------------------------------------------

    def want(self, kind: str, entity: str | Ref | None) -> None:
        """Ask for an entity by id (or by what an answer said of it) if no answer delivers it whole."""
        if entity is None:
            return
        reference = entity if isinstance(entity, Ref) else None
        entity_id = entity.entity_id if isinstance(entity, Ref) else entity
        with self.lock:
            known = self._wanted[kind].get(entity_id)
            # Answers mention an entity with more or less of it: keep all they said, whatever the order.
            self._wanted[kind][entity_id] = reference.merged(known) if reference else known

    def mention(self, kind: str, entity_id: str) -> Ref:
        """What the answers said of a wanted entity."""
        with self.lock:
            return self._wanted[kind].get(entity_id) or Ref(kind, entity_id)

    def wanted(self, kind: str) -> list[str]:
        with self.lock:
            return list(self._wanted[kind])

    def in_hand(self, kind: str, entity_id: str) -> bool:
        with self.lock:
            return entity_id in self._in_hand[kind]

    def settle(self, kind: str, entity_id: str) -> None:
        """Nothing more to ask of this entity this run, nor within its refresh window."""
        with self.lock:
            self._in_hand[kind].add(entity_id)
        self.freshness.mark_fetched(kind, entity_id, self.today)

    def claim(self, kind: str, entity_id: str) -> bool:
        """True the first time this run an entity is in hand."""
        with self.lock:
            if entity_id in self._in_hand[kind]:
                return False
            self._in_hand[kind].add(entity_id)
        self.freshness.mark_fetched(kind, entity_id, self.today)
        return True

    def pending(self, kind: str) -> list[str]:
        """Wanted entities not in hand this run and not fetched within their refresh window."""
        with self.lock:
            wanted = list(self._wanted[kind])
            in_hand = set(self._in_hand[kind])
        return [i for i in wanted if i not in in_hand and not self.is_fresh(kind, i)]

    def add(self, entity: Entity | None) -> bool:
        """Keep a whole entity's rows once per run and ask for what it references."""
        if entity is None or not self.claim(entity.kind, entity.entity_id):
            return False
        self.emit_all(entity.rows)
        for reference in entity.refs:
            self.want(reference.kind, reference)
        return True

    def add_track(self, track: dict[str, Any], observed_at: datetime, requested_id: str | None = None) -> None:
        """A track from an answer; one without its album (old plays) is fetched whole instead.

        A direct fetch (`requested_id`) is kept whatever it lacks: there is nothing better to ask.
        """
        if requested_id is None and answers.lacks_album(track):
            self.want("track", answers.ref("track", track))
            return
        self.add(answers.track(track, observed_at, requested_id))

    def add_album(self, album: dict[str, Any], observed_at: datetime) -> None:
        entity = answers.album(album, observed_at)
        if not self.add(entity) or entity is None or entity.entity_id not in self.expand_albums:
            return
        pages = self.pages("album", entity.entity_id, "GET /v1/albums/{id}/tracks", album.get("tracks")) or []
        parent = answers.ref("album", album)
        for track in pages:
            reference = answers.ref("track", track)
            # An album's own track listing leaves out the album: it is the one listing them.
            self.want("track", replace(reference, album=parent) if reference else None)

    def add_artist(self, artist: dict[str, Any], observed_at: datetime) -> None:
        self.add(answers.artist(artist, observed_at))
