"""Walks what an app can see from what is tracked, spending as few requests as the API allows.

Discovery is a graph (playlists, searches and the user's library give tracks; tracks give
albums and artists; artists give albums; albums give tracks), so one crawler with ordered
stages does it rather than a tree of transformers: every resource asks the crawler for its
table, and the stages run once.

Economy, from the pipeline state (which lives with the raw zone):
- per UTC day, each playlist is snapshotted, each artist's discography listed, each query
  searched and the user's top lists and library read once; recently played is read every run,
  from the last play seen. A tracked id Spotify refuses is reported every run, asked once a day;
- an entity's metadata is fetched again only when older than its refresh window (a week in
  development mode, a day with extended quota), and never twice in a run; an entity that
  arrives in full inside another answer (a track in a playlist) costs nothing;
- the tier is decided once a day from what the endpoints allow (a batch request answering or
  refused), never from one object's fields; with extended quota entities come in batches.
A 429 with a `Retry-After` above the run's cap stops the crawl: what was collected is kept,
the cooldown is recorded in the state, and the next run resumes what is still missing.

Answers are read by `answers` (every field optional, every list may hold a null); an entity
Spotify will not serve keeps a row built from the answers that mentioned it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from ingestion.spotify import answers, settings
from ingestion.spotify.answers import Entity, Ref
from ingestion.spotify.helpers import RateLimitedError, RunStoppedError, SpotifyApiError, SpotifyClient
from ingestion.spotify.options import TIERS, CrawlOptions, Tracked
from ingestion.spotify.planner import plan
from ingestion.spotify.state import ENTITY_KINDS, CrawlState, day_number

logger = logging.getLogger(__name__)
REFUSALS = (400, 403, 404)

__all__ = ["TIERS", "CatalogCrawler", "CrawlOptions", "Skipped", "Tracked"]


@dataclass(frozen=True)
class Skipped:
    """An id that could not be loaded, and why (reported in the run summary)."""

    kind: str
    entity_id: str
    reason: str


def _source_state() -> dict[str, Any]:
    return dlt.current.source_state().setdefault("crawler", {})


class CatalogCrawler:
    """Fetches what `tracked` reaches and keeps the rows of each table for the resources.

    Args:
        client: The Spotify client.
        tracked: What to follow.
        options: How to crawl.
        state: Where to remember what was done when; by default the dlt source state.
    """

    def __init__(
        self,
        client: SpotifyClient,
        tracked: Tracked,
        options: CrawlOptions | None = None,
        state: Callable[[], dict[str, Any]] = _source_state,
    ) -> None:
        self.client = client
        self.tracked = tracked
        self.options = options or CrawlOptions()
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.skipped: list[Skipped] = []
        # Entries of lists that were not objects (`null` in a library page, a batch answer, ...).
        self.nulls: Counter[str] = Counter()
        self.stopped: RunStoppedError | None = None
        self.tier = self.options.tier if self.options.tier != "auto" else None
        self.tier_reason = "configured" if self.tier else None
        self.now: datetime | None = None
        self._state_provider = state
        self._state: CrawlState | None = None
        self._started = False
        self._lock = threading.RLock()
        self._in_hand: dict[str, set[str]] = {kind: set() for kind in ENTITY_KINDS}
        self._wanted: dict[str, dict[str, Ref | None]] = {kind: {} for kind in ENTITY_KINDS}
        self._expand_albums: dict[str, None] = dict.fromkeys(tracked.albums)

    # state -----------------------------------------------------------------------------------

    @property
    def state(self) -> CrawlState:
        if self._state is None:
            self._state = CrawlState(self._state_provider())
        return self._state

    @property
    def today(self) -> int:
        if self.now is None:
            raise RuntimeError("the crawl has not started: no server time yet")
        return day_number(self.now)

    def _start(self) -> None:
        if self.now is None:
            self.now = self.client.authenticate()
        cooldown = self.state.cooldown_until
        if cooldown and cooldown <= self.now:
            self.state.cooldown_until = None

    def plan(self) -> list[tuple[str, int]]:
        """What a run would fetch now and the fewest requests it costs, from the state alone."""
        self.now = self.now or datetime.now(UTC)
        return plan(self.state, self.tracked, self.options, self.client.has_user, self.today)

    def _is_fresh(self, kind: str, entity_id: str) -> bool:
        fetched = self.state.fetched_on(kind, entity_id)
        window = (self.options.refresh_days or settings.REFRESH_DAYS[self.tier or "development"])[kind]
        return fetched is not None and self.today - fetched < window

    def _page_tier(self) -> str:
        """The tier whose page sizes to use: development's until extended quota is known."""
        return self.tier or "development"

    # the table the resources ask for ----------------------------------------------------------

    def table(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of table `name`, crawling first if this run has not yet."""
        self._run_stages()
        with self._lock:
            rows = self.rows.pop(name, [])
        yield from rows

    def _run_stages(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._start()
        self._restore_backlog()
        self._report_refused_today({f"album:{a}": ("album", a) for a in self.tracked.albums})
        for album_id in self.tracked.albums:
            self._want("album", album_id)
        for stage in (
            self._crawl_user,
            self._crawl_playlists,
            self._crawl_searches,
            self._crawl_discographies,
            self._crawl_albums,
            self._crawl_tracks,
            self._crawl_artists,
        ):
            if self.stopped:
                break
            try:
                stage()
            except RunStoppedError as error:
                self._stop(error)
        self._save_backlog()

    def _restore_backlog(self) -> None:
        """Entities an earlier, stopped run discovered but did not get to fetch."""
        backlog = self.state.take_backlog()
        for kind in ENTITY_KINDS:
            # A list of ids is the form of state written before mentions were kept.
            pending = answers.as_dict(backlog.get(kind)) or dict.fromkeys(answers.as_list(backlog.get(kind)))
            for entity_id, mention in pending.items():
                self._want(kind, Ref.from_state(kind, entity_id, mention))
        self._expand_albums.update(dict.fromkeys(backlog.get("expand", [])))

    def _save_backlog(self) -> None:
        backlog: dict[str, Any] = {}
        for kind in ENTITY_KINDS:
            # With what the answers said of each, so an entity Spotify then withholds keeps it.
            wanted = self._wanted[kind]
            backlog[kind] = {i: (wanted[i] or Ref(kind, i)).to_state() for i in self._pending(kind)}
        backlog["expand"] = [a for a in self._expand_albums if a not in self._in_hand["album"]]
        self.state.put_backlog(backlog)

    def _stop(self, error: RunStoppedError) -> None:
        logger.warning("stopping the run: %s", error)
        self.stopped = error
        if isinstance(error, RateLimitedError):
            self.state.cooldown_until = error.server_time + timedelta(seconds=error.retry_after)

    def _for_each(self, fn: Callable[[Any], Any], items: list[Any]) -> None:
        """`fn` over `items` on the client's workers; the first failure (a long 429 too) is raised."""
        for _, result in self.client.map(fn, items):
            if isinstance(result, Exception):
                raise result

    # requests --------------------------------------------------------------------------------

    def _skip(self, kind: str, entity_id: str, reason: str) -> None:
        logger.info("skipping %s %s: %s", kind, entity_id, reason)
        with self._lock:
            self.skipped.append(Skipped(kind, entity_id, reason))

    def _fetch(self, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One answer; a 400/403/404 is recorded as skipped and gives None, the run goes on."""
        try:
            return self.client.call(endpoint, fn, *args, **kwargs)
        except SpotifyApiError as error:
            if error.status in REFUSALS:
                self._skip(kind, entity_id, str(error))
                return None
            raise

    def _fetch_tracked(
        self, key: str, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """An answer for a tracked id; a refusal is remembered for the day, so re-runs report it unasked."""
        try:
            return self.client.call(endpoint, fn, *args, **kwargs)
        except SpotifyApiError as error:
            if error.status not in REFUSALS:
                raise
            reason = str(error)
            if error.status == 404 and kind == "playlist":
                reason += " (Spotify's own editorial and algorithmic playlists answer 404 to development-mode apps)"
            self._skip(kind, entity_id, reason)
            self.state.refuse(key, self.today, reason)
            return None

    def _report_refused_today(self, keys: dict[str, tuple[str, str]]) -> None:
        """Skipped entries for tracked ids an earlier run today was refused (not asked again)."""
        for key, (kind, entity_id) in keys.items():
            reason = self.state.refusal(key, self.today)
            if reason:
                self._skip(kind, entity_id, f"{reason} (earlier today; asked again tomorrow)")

    def _count_nulls(self, endpoint: str, count: int) -> None:
        if count:
            with self._lock:
                self.nulls[endpoint] += count

    def _items(self, endpoint: str, value: Any) -> list[dict[str, Any]]:
        """The objects of a list in an answer; null entries are counted for the summary and skipped."""
        objects, nulls = answers.entries(value)
        self._count_nulls(endpoint, nulls)
        return objects

    def _pages_complete(self, kind: str, entity_id: str, endpoint: str, page: Any) -> list[dict[str, Any]] | None:
        """All objects of a paging object and the pages after it, or None when a later page failed."""
        objects: list[dict[str, Any]] = []
        while page is not None:
            objects.extend(self._items(endpoint, answers.page_items(page)))
            if not answers.next_url(page):
                return objects
            page = self._fetch(kind, entity_id, endpoint, self.client.spotipy.next, page)
        return None

    def _emit(self, table: str, row: dict[str, Any]) -> None:
        with self._lock:
            self.rows[table].append(row)

    def _emit_all(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            for table, row in rows:
                self.rows[table].append(row)

    # the tier --------------------------------------------------------------------------------

    def _decide_tier(self) -> None:
        """Decide the tier once a day from what the endpoints allow.

        One batch request (`GET /v1/artists?ids=`) tells: extended quota answers it, a
        development-mode app is refused. Objects' fields cannot tell: within one run some carry
        `popularity` and others (old or unavailable tracks) do not.
        """
        if self.tier is not None:
            return
        if self.state.tier_decided_on(self.today) and self.state.tier in ("development", "extended"):
            self.tier, self.tier_reason = self.state.tier, "decided earlier today"
            return
        probe = self._probe_id()
        if probe is None:
            return  # nothing to ask about yet; development's page sizes meanwhile
        endpoint = "GET /v1/artists"
        try:
            answer = self.client.call(endpoint, self.client.spotipy.artists, [probe])
        except SpotifyApiError as error:
            if error.status not in (403, 404):
                raise
            self.client.refuse(endpoint)
            self._set_tier("development", f"{endpoint} refused ({error.status})")
        else:
            self._set_tier("extended", f"{endpoint} answered")
            observed_at = self.client.response_time()
            for artist in self._items(endpoint, answers.as_dict(answer).get("artists")):
                self._add_artist(artist, observed_at)

    def _set_tier(self, tier: str, reason: str) -> None:
        logger.info("tier: %s (%s)", tier, reason)
        self.tier, self.tier_reason = tier, reason
        self.state.decide_tier(tier, self.today)

    def _probe_id(self) -> str | None:
        with self._lock:
            candidates = [*self.tracked.artists, *self._wanted["artist"], *self._in_hand["artist"]]
        return candidates[0] if candidates else None

    # entities arriving in full ---------------------------------------------------------------

    def _want(self, kind: str, entity: str | Ref | None) -> None:
        """Ask for an entity by id (or by what an answer said of it) if no answer delivers it whole."""
        if entity is None:
            return
        reference = entity if isinstance(entity, Ref) else None
        entity_id = reference.entity_id if reference else entity
        with self._lock:
            known = self._wanted[kind].get(entity_id)
            # Answers mention an entity with more or less of it: keep all they said, whatever the order.
            self._wanted[kind][entity_id] = reference.merged(known) if reference else known

    def _claim(self, kind: str, entity_id: str) -> bool:
        """True the first time this run an entity is in hand."""
        with self._lock:
            if entity_id in self._in_hand[kind]:
                return False
            self._in_hand[kind].add(entity_id)
        self.state.mark_fetched(kind, entity_id, self.today)
        return True

    def _add(self, entity: Entity | None) -> bool:
        """Keep a whole entity's rows once per run and ask for what it references."""
        if entity is None or not self._claim(entity.kind, entity.entity_id):
            return False
        self._emit_all(entity.rows)
        for reference in entity.refs:
            self._want(reference.kind, reference)
        return True

    def _add_track(self, track: dict[str, Any], observed_at: datetime, requested_id: str | None = None) -> None:
        """A track from an answer; one without its album (old plays) is fetched whole instead.

        A direct fetch (`requested_id`) is kept whatever it lacks: there is nothing better to ask.
        """
        if requested_id is None and answers.lacks_album(track):
            self._want("track", answers.ref("track", track))
            return
        self._add(answers.track(track, observed_at, requested_id))

    def _add_album(self, album: dict[str, Any], observed_at: datetime) -> None:
        entity = answers.album(album, observed_at)
        if self._add(entity) and entity and entity.entity_id in self._expand_albums:
            endpoint = "GET /v1/albums/{id}/tracks"
            pages = self._pages_complete("album", entity.entity_id, endpoint, album.get("tracks")) or []
            parent = answers.ref("album", album)
            for track in pages:
                reference = answers.ref("track", track)
                # An album's own track listing leaves out the album: it is the one listing them.
                self._want("track", replace(reference, album=parent) if reference else None)

    def _add_artist(self, artist: dict[str, Any], observed_at: datetime) -> None:
        self._add(answers.artist(artist, observed_at))

    # playlists -------------------------------------------------------------------------------

    def _crawl_playlists(self) -> None:
        self._report_refused_today({f"playlist:{p}": ("playlist", p) for p in self.tracked.playlists})
        pending = [p for p in self.tracked.playlists if not self.state.done_on(f"playlist:{p}", self.today)]
        self._for_each(self._snapshot_playlist, pending)

    def _snapshot_playlist(self, playlist_id: str) -> None:
        key = f"playlist:{playlist_id}"
        payload = self._fetch_tracked(
            key,
            "playlist",
            playlist_id,
            "GET /v1/playlists/{id}",
            self.client.spotipy.playlist,
            playlist_id,
            market=self.options.market,
            additional_types=("track", "episode"),
        )
        if payload is None:
            return
        observed_at = self.client.response_time()
        row, first_page, readable = answers.playlist(payload, playlist_id, observed_at)
        self._emit("playlists", row)
        if not readable:
            reason = "items not readable by this app (development mode: only playlists you own or collaborate on)"
            self._skip("playlist", playlist_id, reason)
            self.state.refuse(key, self.today, reason)
            return
        endpoint = "GET /v1/playlists/{id}/items"
        entries = self._pages_complete("playlist", playlist_id, endpoint, first_page)
        if entries is None:
            return
        for position, entry in enumerate(entries):
            item_row, track = answers.playlist_entry(entry, playlist_id, position, observed_at)
            self._emit("playlist_items", item_row)
            if track is not None:
                self._add_track(track, observed_at)
        self.state.remember_size(key, len(entries))
        self.state.mark_done(key, self.today)

    # search ----------------------------------------------------------------------------------

    def _crawl_searches(self) -> None:
        pending = [q for q in self.tracked.queries if not self.state.done_on(f"search:{q}", self.today)]
        if pending:
            self._decide_tier()
        self._for_each(self._search, pending)

    def _search(self, query: str) -> None:
        limit = min(settings.SEARCH_PAGE[self._page_tier()], self.options.search_depth)
        endpoint = "GET /v1/search"
        ranked: dict[str, list[Any]] = defaultdict(list)
        observed_at = None
        for offset in range(0, self.options.search_depth, limit):
            answer = self._fetch(
                "search",
                query,
                endpoint,
                self.client.spotipy.search,
                query,
                limit=limit,
                offset=offset,
                type=",".join(settings.SEARCH_TYPES),
                market=self.options.market,
            )
            if answer is None:
                return
            observed_at = observed_at or self.client.response_time()
            more = False
            for kind in settings.SEARCH_TYPES:
                page = answers.as_dict(answer).get(f"{kind}s")
                items = answers.as_list(answers.page_items(page))
                self._count_nulls(endpoint, answers.count_nulls(items))
                ranked[kind].extend(items)
                more = more or bool(answers.next_url(page))
            if not more:
                break
        if observed_at is None:  # a search depth of 0 asks for nothing
            return
        for kind, items in ranked.items():
            key = {"query": query, "result_type": kind}
            for row, item in answers.ranked(
                "search_results", key, items[: self.options.search_depth], kind, observed_at
            ):
                self._emit("search_results", row)
                if kind == "track":
                    self._add_track(item, observed_at)
                elif kind == "artist":
                    self._add_artist(item, observed_at)
                else:
                    self._want("album", answers.ref("album", item))
        self.state.mark_done(f"search:{query}", self.today)

    # the user --------------------------------------------------------------------------------

    def _crawl_user(self) -> None:
        if not self.client.has_user:
            return
        self._recently_played()
        tasks = [self._top, self._saved_tracks, self._saved_albums, self._followed_artists, self._user_playlists]
        self._for_each(lambda task: task(), tasks)

    def _recently_played(self) -> None:
        after = self.state.plays_after_ms
        endpoint = "GET /v1/me/player/recently-played"
        sp = self.client.spotipy
        answer = self._fetch("user", "me", endpoint, sp.current_user_recently_played, limit=50, after=after)
        if answer is None:
            return
        observed_at = self.client.response_time()
        newest = after or 0
        for item in self._items(endpoint, answers.page_items(answer)):
            parsed = answers.play(item)
            if parsed is None:
                self._count_nulls(endpoint, 1)
                continue
            row, track = parsed
            newest = max(newest, int(row["played_at"].timestamp() * 1000))
            self._emit("plays", row)
            self._add_track(track, observed_at)
        self.state.plays_after_ms = newest or None

    def _top(self) -> None:
        if self.state.done_on("user:top", self.today):
            return
        sp = self.client.spotipy
        for kind, fn in (("track", sp.current_user_top_tracks), ("artist", sp.current_user_top_artists)):
            endpoint = f"GET /v1/me/top/{kind}s"
            for time_range in settings.TOP_TIME_RANGES:
                answer = self._fetch("user", "me", endpoint, fn, limit=50, time_range=time_range)
                if answer is None:
                    return
                observed_at = self.client.response_time()
                items = answers.as_list(answers.page_items(answer))
                self._count_nulls(endpoint, answers.count_nulls(items))
                key = {"item_type": kind, "time_range": time_range}
                for row, item in answers.ranked("user_top_items", key, items, kind, observed_at):
                    self._emit("user_top_items", row)
                    (self._add_track if kind == "track" else self._add_artist)(item, observed_at)
        self.state.mark_done("user:top", self.today)

    def _saved_tracks(self) -> None:
        self._library("saved_tracks", "GET /v1/me/tracks", self.client.spotipy.current_user_saved_tracks, "track")

    def _saved_albums(self) -> None:
        self._library("saved_albums", "GET /v1/me/albums", self.client.spotipy.current_user_saved_albums, "album")

    def _library(self, name: str, endpoint: str, fn: Any, kind: str) -> None:
        key = f"user:{name}"
        if self.state.done_on(key, self.today):
            return
        first = self._fetch("user", "me", endpoint, fn, limit=settings.PAGE)
        observed_at = self.client.response_time()
        items = self._pages_complete("user", "me", endpoint, first) if first is not None else None
        if items is None:
            return
        for item in items:
            parsed = answers.saved(item, kind, observed_at)
            if parsed is None:
                self._count_nulls(endpoint, 1)
                continue
            row, entity = parsed
            self._emit(name, row)
            (self._add_track if kind == "track" else self._add_album)(entity, observed_at)
        self.state.mark_done(key, self.today)

    def _followed_artists(self) -> None:
        if self.state.done_on("user:following", self.today):
            return
        endpoint = "GET /v1/me/following"
        sp = self.client.spotipy
        answer = self._fetch("user", "me", endpoint, sp.current_user_followed_artists, limit=settings.PAGE)
        observed_at = self.client.response_time()
        while answer is not None:
            page = answers.as_dict(answer).get("artists")
            for artist in self._items(endpoint, answers.page_items(page)):
                entity = answers.artist(artist, observed_at)
                if entity is None:
                    continue
                self._emit("followed_artists", {"artist_id": entity.entity_id, "observed_at": observed_at})
                self._add(entity)
            if not answers.next_url(page):
                self.state.mark_done("user:following", self.today)
                return
            answer = self._fetch("user", "me", endpoint, sp.next, page)

    def _user_playlists(self) -> None:
        if self.state.done_on("user:playlists", self.today):
            return
        endpoint = "GET /v1/me/playlists"
        first = self._fetch("user", "me", endpoint, self.client.spotipy.current_user_playlists, limit=settings.PAGE)
        observed_at = self.client.response_time()
        items = self._pages_complete("user", "me", endpoint, first) if first is not None else None
        if items is None:
            return
        for item in items:
            row = answers.user_playlist(item, observed_at)
            if row is None:
                # The legacy "Starred" list has no id: nothing can key it.
                self._skip("playlist", "(no id)", f"{endpoint}: a playlist without an id ({item.get('name')!r})")
                continue
            self._emit("user_playlists", row)
        self.state.mark_done("user:playlists", self.today)

    # artists' discographies ------------------------------------------------------------------

    def _crawl_discographies(self) -> None:
        for artist_id in self.tracked.artists:
            self._want("artist", artist_id)
        self._report_refused_today({f"discography:{a}": ("artist", a) for a in self.tracked.artists})
        pending = [a for a in self.tracked.artists if not self.state.done_on(f"discography:{a}", self.today)]
        if pending:
            self._decide_tier()
        self._for_each(self._discography, pending)

    def _discography(self, artist_id: str) -> None:
        key = f"discography:{artist_id}"
        endpoint = "GET /v1/artists/{id}/albums"
        first_page = self._fetch_tracked(
            key,
            "artist",
            artist_id,
            endpoint,
            self.client.spotipy.artist_albums,
            artist_id,
            include_groups=settings.DISCOGRAPHY_GROUPS,
            limit=settings.ARTIST_ALBUMS_PAGE[self._page_tier()],
        )
        if first_page is None:
            return
        observed_at = self.client.response_time()
        albums = self._pages_complete("artist", artist_id, endpoint, first_page)
        if albums is None:
            return
        for album in albums:
            row = answers.artist_album(album, artist_id, observed_at)
            if row is None:
                continue
            with self._lock:
                self._expand_albums.setdefault(row["album_id"])
            self._want("album", answers.ref("album", album))
            self._emit("artist_albums", row)
        self.state.remember_size(key, len(albums))
        self.state.mark_done(key, self.today)

    # entities by id --------------------------------------------------------------------------

    def _pending(self, kind: str) -> list[str]:
        with self._lock:
            wanted = list(self._wanted[kind])
        return [i for i in wanted if i not in self._in_hand[kind] and not self._is_fresh(kind, i)]

    def _fetch_entities(self, kind: str) -> None:
        """Fetch the wanted entities of `kind`: in batches with extended quota, else one by one."""
        pending = self._pending(kind)
        if not pending:
            return
        self._decide_tier()
        batch_endpoint = f"GET /v1/{kind}s"
        if self.tier == "extended" and batch_endpoint not in self.client.refused:
            size = settings.BATCH_SIZE[kind]
            chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
            # The first batch goes alone: if the tier lacks the endpoint, one request learns it.
            for group in (chunks[:1], chunks[1:]):
                if not self._fetch_batches(kind, group):
                    break
            if self.tier == "extended":
                return
            pending = self._pending(kind)
        self._for_each(lambda i: self._fetch_one(kind, i), pending)

    def _fetch_batches(self, kind: str, chunks: list[list[str]]) -> bool:
        """Fetch `chunks` of ids by batch; False when the endpoint refused (the tier lacks it)."""
        batch_endpoint = f"GET /v1/{kind}s"
        rejected: list[str] = []
        for ids, result in self.client.map(lambda ids: self._fetch_batch(kind, ids), chunks):
            if isinstance(result, RunStoppedError):
                raise result
            if isinstance(result, SpotifyApiError) and result.status in (403, 404):
                self.client.refuse(batch_endpoint)
                self._set_tier("development", f"{batch_endpoint} refused ({result.status})")
                logger.warning("%s refused (%s): fetching one by one from now on", batch_endpoint, result.status)
                return False
            if isinstance(result, SpotifyApiError) and result.status == 400:
                rejected.extend(ids)  # one id the batch did not take: each alone is answered for itself
                continue
            if isinstance(result, Exception):
                raise result
            observed_at = self.client.response_time()
            answered = answers.as_list(result)
            for position, entity_id in enumerate(ids):
                entity = answered[position] if position < len(answered) else None
                if isinstance(entity, dict):
                    self._add_fetched(kind, entity_id, entity, observed_at)
                else:
                    self._count_nulls(batch_endpoint, 1)
                    self._unavailable(kind, entity_id, f"{batch_endpoint} answered null: unknown id", None)
        self._for_each(lambda i: self._fetch_one(kind, i), rejected)
        return True

    def _fetch_batch(self, kind: str, ids: list[str]) -> Any:
        fn = {
            "track": self.client.spotipy.tracks,
            "album": self.client.spotipy.albums,
            "artist": self.client.spotipy.artists,
        }[kind]
        kwargs = {} if kind == "artist" else {"market": self.options.market}
        answer = self.client.call(f"GET /v1/{kind}s", fn, ids, **kwargs)
        return answers.as_dict(answer).get(f"{kind}s")

    def _fetch_one(self, kind: str, entity_id: str) -> None:
        fn = {
            "track": self.client.spotipy.track,
            "album": self.client.spotipy.album,
            "artist": self.client.spotipy.artist,
        }
        kwargs = {} if kind == "artist" else {"market": self.options.market}
        endpoint = f"GET /v1/{kind}s/{{id}}"
        try:
            entity = self.client.call(endpoint, fn[kind], entity_id, **kwargs)
        except SpotifyApiError as error:
            if error.status not in REFUSALS:
                raise
            self._unavailable(kind, entity_id, str(error), error.status)
            return
        self._add_fetched(kind, entity_id, answers.as_dict(entity), self.client.response_time())

    def _add_fetched(self, kind: str, entity_id: str, entity: dict[str, Any], observed_at: datetime) -> None:
        if kind == "track":
            self._add_track(entity, observed_at, requested_id=entity_id)
        elif kind == "album":
            self._add_album(entity, observed_at)
        else:
            self._add_artist(entity, observed_at)
        if entity_id not in self._in_hand[kind]:
            # The answer named another entity (or none): this one is as good as unavailable.
            self._unavailable(kind, entity_id, f"GET /v1/{kind}s/{{id}} answered without this id", None)

    def _unavailable(self, kind: str, entity_id: str, reason: str, status: int | None) -> None:
        """An entity Spotify will not serve: a row from what mentioned it, not asked again this window."""
        self._skip(kind, entity_id, reason)
        with self._lock:
            reference = self._wanted[kind].get(entity_id) or Ref(kind, entity_id)
            self._in_hand[kind].add(entity_id)
        self.state.mark_fetched(kind, entity_id, self.today)
        if entity_id in self.tracked.albums or entity_id in self.tracked.artists:
            self.state.refuse(f"{kind}:{entity_id}", self.today, reason)
        rows = answers.unavailable(reference, reason, status, self.now or self.client.response_time())
        self._emit_all(rows)
        for artist in reference.artists:
            self._want("artist", artist)

    def _crawl_albums(self) -> None:
        self._fetch_entities("album")

    def _crawl_tracks(self) -> None:
        self._fetch_entities("track")

    def _crawl_artists(self) -> None:
        self._fetch_entities("artist")
