"""Walks what an app can see from what is tracked, spending as few requests as the API allows.

Discovery is a graph (playlists, searches and the user's library give tracks; tracks give
albums and artists; artists give albums; albums give tracks), so one crawler with memoized
stages does it rather than a tree of transformers: every resource asks the crawler for its
table, and the stages it depends on run once.

Economy, from the pipeline state (which lives with the destination):
- per UTC day, each playlist is snapshotted, each artist's discography listed, each query
  searched and the user's top lists and library read once; recently played is read every run,
  from the last play seen;
- an entity's metadata is fetched again only when older than its refresh window (a week in
  development mode, a day with extended quota), and never twice in a run; an entity that
  arrives in full inside another answer (a track in a playlist) costs nothing;
- with extended quota entities are fetched in batches, and after a refusal from an endpoint
  the tier lacks the run asks it no more.
A 429 with a `Retry-After` above the run's cap stops the crawl: what was collected is kept,
the cooldown is recorded in the state, and the next run resumes what is still missing.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dlt

from ingestion.spotify import settings
from ingestion.spotify.helpers import RateLimitedError, RunStoppedError, SpotifyApiError, SpotifyClient

logger = logging.getLogger(__name__)
EPOCH = date(1970, 1, 1)
TIERS = ("auto", "development", "extended")


@dataclass(frozen=True)
class Tracked:
    """What the user asked to follow, as validated ids and queries."""

    playlists: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    albums: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An id that could not be loaded, and why (reported in the run summary)."""

    kind: str
    entity_id: str
    reason: str


@dataclass(frozen=True)
class CrawlOptions:
    """How to crawl.

    Args:
        market: ISO country code for market-dependent answers.
        tier: `auto` (detect extended quota from the answers), `development` or `extended`.
        refresh_days: Days before an entity's metadata is fetched again, per kind; defaults per tier.
        search_depth: Results read per tracked query and type.
    """

    market: str | None = None
    tier: str = "auto"
    refresh_days: dict[str, int] | None = None
    search_depth: int = settings.SEARCH_DEPTH


def _largest_image(images: list[dict[str, Any]] | None) -> str | None:
    if not images:
        return None
    return max(images, key=lambda image: image.get("width") or 0).get("url")


def _day(moment: datetime) -> int:
    return (moment.date() - EPOCH).days


def _source_state() -> dict[str, Any]:
    return dlt.current.source_state().setdefault("crawler", {})


class CatalogCrawler:
    """Fetches what `tracked` reaches and keeps the rows of each table for the resources.

    Args:
        client: The Spotify client.
        tracked: What to follow.
        options: How to crawl.
        state: Where to remember what was fetched when; by default the dlt source state.
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
        self.stopped: RunStoppedError | None = None
        self.tier = self.options.tier if self.options.tier != "auto" else None
        self.now: datetime | None = None
        self._state_provider = state
        self._state: dict[str, Any] | None = None
        self._stages: set[str] = set()
        self._lock = threading.RLock()
        self._in_hand: dict[str, set[str]] = {"track": set(), "album": set(), "artist": set()}
        self._wanted: dict[str, dict[str, None]] = {"track": {}, "album": {}, "artist": {}}
        self._expand_albums: dict[str, None] = dict.fromkeys(tracked.albums)

    # state -----------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._state_provider()
        return self._state

    def _start(self) -> None:
        if self.now is None:
            self.now = self.client.authenticate()
        cooldown = self.state.get("cooldown_until")
        if cooldown and datetime.fromisoformat(cooldown) <= self.now:
            del self.state["cooldown_until"]
        if self.tier is None and self.state.get("tier") in ("development", "extended"):
            self.tier = self.state["tier"]

    @property
    def today(self) -> int:
        if self.now is None:
            raise RuntimeError("the crawl has not started: no server time yet")
        return _day(self.now)

    def _done_today(self, key: str) -> bool:
        return self.state.get("daily", {}).get(key) == self.today

    def _mark_done_today(self, key: str) -> None:
        with self._lock:
            self.state.setdefault("daily", {})[key] = self.today

    def _remember_size(self, key: str, size: int) -> None:
        """How many items a listing had, so a dry run can price the next one."""
        with self._lock:
            self.state.setdefault("sizes", {})[key] = size

    def plan(self) -> list[tuple[str, int]]:
        """What a run would fetch now and the fewest requests it costs, from the state alone.

        Entities found in today's answers (albums, tracks, artists) cost one request each
        (a batch of 20 or 50 with extended quota) unless fetched within their refresh window;
        they are not known before the answers come, so they are not counted here.
        """
        tier = self.tier or self.state.get("tier") or "development"
        sizes = self.state.get("sizes", {})
        self.now = self.now or datetime.now(UTC)

        def pages(size: int | None, page: int, first_page: int | None = None) -> int:
            first = first_page or page
            return 1 if not size or size <= first else 1 + -(-(size - first) // page)

        lines = [("a token", 1)]
        playlist_page = 100 if tier == "extended" else settings.PAGE
        due = [p for p in self.tracked.playlists if not self._done_today(f"playlist:{p}")]
        lines.append(
            (
                f"{len(due)} of {len(self.tracked.playlists)} playlists to snapshot today",
                sum(pages(sizes.get(f"playlist:{p}"), playlist_page) for p in due),
            )
        )
        due = [a for a in self.tracked.artists if not self._done_today(f"discography:{a}")]
        lines.append(
            (
                f"{len(due)} of {len(self.tracked.artists)} discographies to list today",
                sum(pages(sizes.get(f"discography:{a}"), settings.ARTIST_ALBUMS_PAGE[tier]) for a in due),
            )
        )
        due = [q for q in self.tracked.queries if not self._done_today(f"search:{q}")]
        per_query = pages(self.options.search_depth, settings.SEARCH_PAGE[tier])
        lines.append((f"{len(due)} of {len(self.tracked.queries)} searches to run today", len(due) * per_query))
        if self.client.has_user:
            user = 1 + (0 if self._done_today("user:top") else 2 * len(settings.TOP_TIME_RANGES))
            user += sum(
                0 if self._done_today(f"user:{k}") else 1
                for k in ("saved_tracks", "saved_albums", "following", "playlists")
            )
            lines.append(("your recently played, and once a day your top items, library, follows and playlists", user))
        backlog = self.state.get("backlog", {})
        waiting = sum(len(backlog.get(kind, [])) for kind in ("album", "track", "artist"))
        if waiting:
            batches = tier == "extended"
            cost = sum(
                -(-len(backlog.get(k, [])) // settings.BATCH_SIZE[k]) if batches else len(backlog.get(k, []))
                for k in ("album", "track", "artist")
            )
            lines.append((f"{waiting} entities a stopped run left to fetch", cost))
        return lines

    def _is_fresh(self, kind: str, entity_id: str) -> bool:
        fetched = self.state.get("fetched", {}).get(kind, {}).get(entity_id)
        window = (self.options.refresh_days or settings.REFRESH_DAYS[self.tier or "development"])[kind]
        return fetched is not None and self.today - fetched < window

    # the table the resources ask for ----------------------------------------------------------

    def table(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of table `name`, crawling whatever stages it depends on first."""
        self._run_stages()
        with self._lock:
            rows = self.rows.pop(name, [])
        yield from rows

    def _run_stages(self) -> None:
        with self._lock:
            if "all" in self._stages:
                return
            self._stages.add("all")
        self._start()
        self._restore_backlog()
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
        if self.tier:
            self.state["tier"] = self.tier
        self._save_backlog()

    def _restore_backlog(self) -> None:
        """Entities an earlier, stopped run discovered but did not get to fetch."""
        backlog = self.state.pop("backlog", {})
        for kind in ("album", "track", "artist"):
            for entity_id in backlog.get(kind, []):
                self._want(kind, entity_id)
        self._expand_albums.update(dict.fromkeys(backlog.get("expand", [])))

    def _save_backlog(self) -> None:
        backlog = {kind: self._pending(kind) for kind in ("album", "track", "artist")}
        backlog["expand"] = [a for a in self._expand_albums if a not in self._in_hand["album"]]
        if any(backlog.values()):
            self.state["backlog"] = backlog

    def _stop(self, error: RunStoppedError) -> None:
        logger.warning("stopping the run: %s", error)
        self.stopped = error
        if isinstance(error, RateLimitedError):
            until = error.server_time + timedelta(seconds=error.retry_after)
            self.state["cooldown_until"] = until.isoformat()

    def _for_each(self, fn: Callable[[Any], Any], items: list[Any]) -> None:
        """`fn` over `items` on the client's workers; the first failure (a long 429 too) is raised."""
        for _, result in self.client.map(fn, items):
            if isinstance(result, Exception):
                raise result

    # requests --------------------------------------------------------------------------------

    def _fetch(self, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One answer; a 400/403/404 is recorded as skipped and gives None, the run goes on."""
        try:
            return self.client.call(endpoint, fn, *args, **kwargs)
        except SpotifyApiError as error:
            if error.status in (400, 403, 404):
                logger.info("skipping %s %s: %s", kind, entity_id, error)
                with self._lock:
                    self.skipped.append(Skipped(kind, entity_id, str(error)))
                return None
            raise

    def _pages(self, kind: str, entity_id: str, endpoint: str, page: dict[str, Any] | None) -> Iterator[Any]:
        """Items of a paging object and of every page after it."""
        while page:
            yield from page.get("items") or []
            if not page.get("next"):
                return
            page = self._fetch(kind, entity_id, endpoint, self.client.spotipy.next, page)

    def _pages_complete(
        self, kind: str, entity_id: str, endpoint: str, page: dict[str, Any] | None
    ) -> list[Any] | None:
        """All items, or None when a later page failed (so the day is not marked done)."""
        items: list[Any] = []
        while page:
            items.extend(page.get("items") or [])
            if not page.get("next"):
                return items
            page = self._fetch(kind, entity_id, endpoint, self.client.spotipy.next, page)
        return None

    def _emit(self, table: str, row: dict[str, Any]) -> None:
        with self._lock:
            self.rows[table].append(row)

    # entities arriving in full ---------------------------------------------------------------

    def _detect_tier(self, payload: dict[str, Any]) -> None:
        """Extended quota shows in the answers: development-mode apps get no `popularity`."""
        if self.tier is None:
            self.tier = "extended" if "popularity" in payload else "development"
            logger.info("detected the %s tier", self.tier)

    def _want(self, kind: str, entity_id: str | None) -> None:
        if entity_id:
            with self._lock:
                self._wanted[kind].setdefault(entity_id)

    def _claim(self, kind: str, entity_id: str) -> bool:
        """True the first time this run an entity is in hand."""
        with self._lock:
            if entity_id in self._in_hand[kind]:
                return False
            self._in_hand[kind].add(entity_id)
            self.state.setdefault("fetched", {}).setdefault(kind, {})[entity_id] = self.today
            return True

    def _add_track(self, track: dict[str, Any], observed_at: datetime) -> None:
        track_id = track.get("id")
        if not track_id or track.get("is_local") or not self._claim("track", track_id):
            return
        self._detect_tier(track)
        album_id = (track.get("album") or {}).get("id")
        self._want("album", album_id)
        self._emit(
            "tracks",
            {
                "track_id": track_id,
                "name": track.get("name"),
                "album_id": album_id,
                "duration_ms": track.get("duration_ms"),
                "is_explicit": track.get("explicit"),
                "isrc": (track.get("external_ids") or {}).get("isrc"),
                "disc_number": track.get("disc_number"),
                "track_number": track.get("track_number"),
                "popularity": track.get("popularity"),
                "observed_at": observed_at,
            },
        )
        self._emit(
            "track_observations",
            {
                "track_id": track_id,
                "observed_date": observed_at.date(),
                "popularity": track.get("popularity"),
                "observed_at": observed_at,
            },
        )
        for position, artist in enumerate(track.get("artists") or []):
            if artist.get("id"):
                self._want("artist", artist["id"])
                self._emit(
                    "track_artists", {"track_id": track_id, "artist_position": position, "artist_id": artist["id"]}
                )

    def _add_album(self, album: dict[str, Any], observed_at: datetime) -> None:
        album_id = album.get("id")
        if not album_id or not self._claim("album", album_id):
            return
        self._detect_tier(album)
        self._emit(
            "albums",
            {
                "album_id": album_id,
                "name": album.get("name"),
                "album_type": album.get("album_type"),
                "release_date": album.get("release_date"),
                "release_date_precision": album.get("release_date_precision"),
                "total_tracks": album.get("total_tracks"),
                "upc": (album.get("external_ids") or {}).get("upc"),
                "label": album.get("label"),
                "popularity": album.get("popularity"),
                "image_url": _largest_image(album.get("images")),
                "observed_at": observed_at,
            },
        )
        self._emit(
            "album_observations",
            {
                "album_id": album_id,
                "observed_date": observed_at.date(),
                "popularity": album.get("popularity"),
                "observed_at": observed_at,
            },
        )
        for position, artist in enumerate(album.get("artists") or []):
            self._want("artist", artist.get("id"))
            self._emit("album_artists", {"album_id": album_id, "artist_position": position, "artist_id": artist["id"]})
        if album_id in self._expand_albums:
            tracks = self._pages("album", album_id, "GET /v1/albums/{id}/tracks", album.get("tracks"))
            for track in tracks:
                self._want("track", track.get("id"))

    def _add_artist(self, artist: dict[str, Any], observed_at: datetime) -> None:
        artist_id = artist.get("id")
        if not artist_id or not self._claim("artist", artist_id):
            return
        self._detect_tier(artist)
        followers = (artist.get("followers") or {}).get("total")
        self._emit(
            "artists",
            {
                "artist_id": artist_id,
                "name": artist.get("name"),
                "popularity": artist.get("popularity"),
                "followers": followers,
                "image_url": _largest_image(artist.get("images")),
                "observed_at": observed_at,
            },
        )
        self._emit(
            "artist_observations",
            {
                "artist_id": artist_id,
                "observed_date": observed_at.date(),
                "popularity": artist.get("popularity"),
                "followers": followers,
                "observed_at": observed_at,
            },
        )

    # playlists -------------------------------------------------------------------------------

    def _crawl_playlists(self) -> None:
        pending = [p for p in self.tracked.playlists if not self._done_today(f"playlist:{p}")]
        self._for_each(self._snapshot_playlist, pending)

    def _snapshot_playlist(self, playlist_id: str) -> None:
        sp = self.client.spotipy
        playlist = self._fetch(
            "playlist",
            playlist_id,
            "GET /v1/playlists/{id}",
            sp.playlist,
            playlist_id,
            market=self.options.market,
            additional_types=("track", "episode"),
        )
        if playlist is None:
            return
        observed_at = self.client.response_time()
        first_page = playlist.get("items") or playlist.get("tracks") or {}
        # A development-mode app gets metadata only for playlists it neither owns nor
        # collaborates on; asking for their items would be a guaranteed 403.
        readable = "items" in first_page
        self._emit(
            "playlists",
            {
                "playlist_id": playlist_id,
                "name": playlist.get("name"),
                "description": playlist.get("description"),
                "owner_id": (playlist.get("owner") or {}).get("id"),
                "owner_name": (playlist.get("owner") or {}).get("display_name"),
                "is_public": playlist.get("public"),
                "is_collaborative": playlist.get("collaborative"),
                "snapshot_id": playlist.get("snapshot_id"),
                "total_items": first_page.get("total"),
                "followers": (playlist.get("followers") or {}).get("total"),
                "are_items_readable": readable,
                "observed_at": observed_at,
            },
        )
        if not readable:
            with self._lock:
                self.skipped.append(
                    Skipped(
                        "playlist",
                        playlist_id,
                        "items not readable by this app (development mode: only playlists you own or collaborate on)",
                    )
                )
            self._mark_done_today(f"playlist:{playlist_id}")
            return
        entries = self._pages_complete("playlist", playlist_id, "GET /v1/playlists/{id}/items", first_page)
        if entries is None:
            return
        for position, entry in enumerate(entries):
            self._add_playlist_item(playlist_id, position, entry, observed_at)
        self._remember_size(f"playlist:{playlist_id}", len(entries))
        self._mark_done_today(f"playlist:{playlist_id}")

    def _add_playlist_item(self, playlist_id: str, position: int, entry: dict[str, Any], observed_at: datetime) -> None:
        item = entry.get("item") or entry.get("track")
        item_type = "missing"
        if item is not None:
            item_type = "local" if entry.get("is_local") or item.get("is_local") else item.get("type", "track")
        self._emit(
            "playlist_items",
            {
                "playlist_id": playlist_id,
                "snapshot_date": observed_at.date(),
                "position": position,
                "item_type": item_type,
                "track_id": item.get("id") if item_type == "track" else None,
                "episode_id": item.get("id") if item_type == "episode" else None,
                "item_name": (item or {}).get("name"),
                "added_at": entry.get("added_at"),
                "added_by_id": (entry.get("added_by") or {}).get("id"),
                "observed_at": observed_at,
            },
        )
        if item_type == "track" and item.get("id"):
            self._add_track(item, observed_at)

    # search ----------------------------------------------------------------------------------

    def _crawl_searches(self) -> None:
        pending = [q for q in self.tracked.queries if not self._done_today(f"search:{q}")]
        self._for_each(self._search, pending)

    def _search(self, query: str) -> None:
        tier = self.tier or "development"
        limit = min(settings.SEARCH_PAGE[tier], self.options.search_depth)
        ranked: dict[str, list[dict[str, Any]]] = defaultdict(list)
        observed_at = None
        for offset in range(0, self.options.search_depth, limit):
            answer = self._fetch(
                "search",
                query,
                "GET /v1/search",
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
                page = answer.get(f"{kind}s") or {}
                ranked[kind].extend(page.get("items") or [])
                more = more or bool(page.get("next"))
            if not more:
                break
        if observed_at is None:  # a search depth of 0 asks for nothing
            return
        for kind, items in ranked.items():
            for rank, item in enumerate(items[: self.options.search_depth], start=1):
                if not item:
                    continue
                self._emit(
                    "search_results",
                    {
                        "query": query,
                        "result_type": kind,
                        "observed_date": observed_at.date(),
                        "rank": rank,
                        "entity_id": item.get("id"),
                        "observed_at": observed_at,
                    },
                )
                if kind == "track":
                    self._add_track(item, observed_at)
                elif kind == "artist":
                    self._add_artist(item, observed_at)
                else:
                    self._want("album", item.get("id"))
        self._mark_done_today(f"search:{query}")

    # the user --------------------------------------------------------------------------------

    def _crawl_user(self) -> None:
        if not self.client.has_user:
            return
        self._recently_played()
        tasks = [self._top, self._saved_tracks, self._saved_albums, self._followed_artists, self._user_playlists]
        self._for_each(lambda task: task(), tasks)

    def _recently_played(self) -> None:
        after = self.state.get("plays_after_ms")
        sp = self.client.spotipy
        answer = self._fetch(
            "user", "me", "GET /v1/me/player/recently-played", sp.current_user_recently_played, limit=50, after=after
        )
        if answer is None:
            return
        observed_at = self.client.response_time()
        newest = after or 0
        for play in answer.get("items") or []:
            played_at = datetime.fromisoformat(play["played_at"].replace("Z", "+00:00")).astimezone(UTC)
            newest = max(newest, int(played_at.timestamp() * 1000))
            track = play.get("track") or {}
            context = play.get("context") or {}
            self._emit(
                "plays",
                {
                    "played_at": played_at,
                    "track_id": track.get("id"),
                    "context_type": context.get("type"),
                    "context_uri": context.get("uri"),
                },
            )
            self._add_track(track, observed_at)
        self.state["plays_after_ms"] = newest or None

    def _top(self) -> None:
        if self._done_today("user:top"):
            return
        sp = self.client.spotipy
        for kind, fn in (("tracks", sp.current_user_top_tracks), ("artists", sp.current_user_top_artists)):
            for time_range in settings.TOP_TIME_RANGES:
                answer = self._fetch("user", "me", f"GET /v1/me/top/{kind}", fn, limit=50, time_range=time_range)
                if answer is None:
                    return
                observed_at = self.client.response_time()
                for rank, item in enumerate(answer.get("items") or [], start=1):
                    self._emit(
                        "user_top_items",
                        {
                            "item_type": kind[:-1],
                            "time_range": time_range,
                            "observed_date": observed_at.date(),
                            "rank": rank,
                            "entity_id": item.get("id"),
                            "observed_at": observed_at,
                        },
                    )
                    (self._add_track if kind == "tracks" else self._add_artist)(item, observed_at)
        self._mark_done_today("user:top")

    def _saved_tracks(self) -> None:
        self._library("user:saved_tracks", "GET /v1/me/tracks", self.client.spotipy.current_user_saved_tracks, "track")

    def _saved_albums(self) -> None:
        self._library("user:saved_albums", "GET /v1/me/albums", self.client.spotipy.current_user_saved_albums, "album")

    def _library(self, key: str, endpoint: str, fn: Any, kind: str) -> None:
        if self._done_today(key):
            return
        first = self._fetch("user", "me", endpoint, fn, limit=settings.PAGE)
        observed_at = self.client.response_time()
        items = self._pages_complete("user", "me", endpoint, first)
        if items is None:
            return
        for saved in items:
            entity = saved.get(kind) or {}
            self._emit(
                f"saved_{kind}s",
                {f"{kind}_id": entity.get("id"), "saved_at": saved.get("added_at"), "observed_at": observed_at},
            )
            (self._add_track if kind == "track" else self._add_album)(entity, observed_at)
        self._mark_done_today(key)

    def _followed_artists(self) -> None:
        if self._done_today("user:following"):
            return
        sp = self.client.spotipy
        answer = self._fetch(
            "user", "me", "GET /v1/me/following", sp.current_user_followed_artists, limit=settings.PAGE
        )
        observed_at = self.client.response_time()
        while answer:
            page = answer.get("artists") or {}
            for artist in page.get("items") or []:
                self._emit("followed_artists", {"artist_id": artist.get("id"), "observed_at": observed_at})
                self._add_artist(artist, observed_at)
            if not page.get("next"):
                self._mark_done_today("user:following")
                return
            answer = self._fetch("user", "me", "GET /v1/me/following", sp.next, page)

    def _user_playlists(self) -> None:
        if self._done_today("user:playlists"):
            return
        first = self._fetch(
            "user", "me", "GET /v1/me/playlists", self.client.spotipy.current_user_playlists, limit=settings.PAGE
        )
        observed_at = self.client.response_time()
        items = self._pages_complete("user", "me", "GET /v1/me/playlists", first)
        if items is None:
            return
        for playlist in items:
            self._emit(
                "user_playlists",
                {
                    "playlist_id": playlist.get("id"),
                    "name": playlist.get("name"),
                    "owner_id": (playlist.get("owner") or {}).get("id"),
                    "is_collaborative": playlist.get("collaborative"),
                    "is_public": playlist.get("public"),
                    "total_items": (playlist.get("items") or playlist.get("tracks") or {}).get("total"),
                    "observed_at": observed_at,
                },
            )
        self._mark_done_today("user:playlists")

    # artists' discographies ------------------------------------------------------------------

    def _crawl_discographies(self) -> None:
        for artist_id in self.tracked.artists:
            self._want("artist", artist_id)
        pending = [a for a in self.tracked.artists if not self._done_today(f"discography:{a}")]
        self._for_each(self._discography, pending)

    def _discography(self, artist_id: str) -> None:
        first_page = self._fetch(
            "artist",
            artist_id,
            "GET /v1/artists/{id}/albums",
            self.client.spotipy.artist_albums,
            artist_id,
            include_groups=settings.DISCOGRAPHY_GROUPS,
            limit=settings.ARTIST_ALBUMS_PAGE[self.tier or "development"],
        )
        observed_at = self.client.response_time()
        albums = self._pages_complete("artist", artist_id, "GET /v1/artists/{id}/albums", first_page)
        if albums is None:
            return
        for album in albums:
            with self._lock:
                self._expand_albums.setdefault(album["id"])
            self._want("album", album["id"])
            self._emit(
                "artist_albums",
                {
                    "artist_id": artist_id,
                    "album_id": album["id"],
                    "album_group": album.get("album_group"),
                    "observed_at": observed_at,
                },
            )
        self._remember_size(f"discography:{artist_id}", len(albums))
        self._mark_done_today(f"discography:{artist_id}")

    # entities by id --------------------------------------------------------------------------

    def _pending(self, kind: str) -> list[str]:
        with self._lock:
            wanted = list(self._wanted[kind])
        return [i for i in wanted if i not in self._in_hand[kind] and not self._is_fresh(kind, i)]

    def _fetch_entities(self, kind: str, add: Callable[[dict[str, Any], datetime], None]) -> None:
        """Fetch the wanted entities of `kind`: in batches with extended quota, else one by one."""
        pending = self._pending(kind)
        if pending and self.tier is None:
            # Nothing seen yet says which tier this is: the first answer will.
            self._fetch_one(kind, pending[0], add)
            pending = self._pending(kind)
        batch_endpoint = f"GET /v1/{kind}s"
        if self.tier == "extended" and batch_endpoint not in self.client.refused:
            size = settings.BATCH_SIZE[kind]
            chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
            # The first batch goes alone: if the tier lacks the endpoint, one request learns it.
            for group in (chunks[:1], chunks[1:]):
                if not self._fetch_batches(kind, group, add):
                    break
            pending = self._pending(kind)
            if self.tier == "extended":
                self._skip_missing(kind, pending)
                return
        self._for_each(lambda i: self._fetch_one(kind, i, add), pending)

    def _fetch_batches(
        self, kind: str, chunks: list[list[str]], add: Callable[[dict[str, Any], datetime], None]
    ) -> bool:
        """Fetch `chunks` of ids by batch; False when the endpoint refused (the tier lacks it)."""
        batch_endpoint = f"GET /v1/{kind}s"
        for _, result in self.client.map(lambda ids: self._fetch_batch(kind, ids), chunks):
            if isinstance(result, RunStoppedError):
                raise result
            if isinstance(result, SpotifyApiError) and result.status in (403, 404):
                self.client.refuse(batch_endpoint)
                self.tier = "development"
                logger.warning("%s refused (%s): fetching one by one from now on", batch_endpoint, result.status)
                return False
            if isinstance(result, Exception):
                raise result
            for entity in result:
                if entity:
                    add(entity, self.client.response_time())
        return True

    def _fetch_batch(self, kind: str, ids: list[str]) -> list[dict[str, Any] | None]:
        fn = {
            "track": self.client.spotipy.tracks,
            "album": self.client.spotipy.albums,
            "artist": self.client.spotipy.artists,
        }[kind]
        kwargs = {} if kind == "artist" else {"market": self.options.market}
        answer = self.client.call(f"GET /v1/{kind}s", fn, ids, **kwargs)
        return answer.get(f"{kind}s") or []

    def _fetch_one(self, kind: str, entity_id: str, add: Callable[[dict[str, Any], datetime], None]) -> None:
        fn = {
            "track": self.client.spotipy.track,
            "album": self.client.spotipy.album,
            "artist": self.client.spotipy.artist,
        }
        kwargs = {} if kind == "artist" else {"market": self.options.market}
        entity = self._fetch(kind, entity_id, f"GET /v1/{kind}s/{{id}}", fn[kind], entity_id, **kwargs)
        if entity is None:
            with self._lock:
                self._in_hand[kind].add(entity_id)  # asked and refused: not again this run
            return
        add(entity, self.client.response_time())

    def _skip_missing(self, kind: str, ids: list[str]) -> None:
        """Ids a batch answered null for: Spotify does not know them."""
        with self._lock:
            for entity_id in ids:
                self._in_hand[kind].add(entity_id)
                self.skipped.append(Skipped(kind, entity_id, f"GET /v1/{kind}s answered null: unknown id"))

    def _crawl_albums(self) -> None:
        self._fetch_entities("album", self._add_album)

    def _crawl_tracks(self) -> None:
        self._fetch_entities("track", self._add_track)

    def _crawl_artists(self) -> None:
        self._fetch_entities("artist", self._add_artist)
