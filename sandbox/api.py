"""Request handling of the sandbox: routing, auth, tiers, limits, faults, the clock and counters.

Transport-free: `SandboxApi.handle` takes a parsed request and returns a `Response`, so the
HTTP server stays thin. Endpoints and their limits follow the 2026 Web API
(`shared/API-2026.md`): the `development` tier refuses what development-mode apps lost and
enforces their page limits; `extended` answers everything.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs

from sandbox.auth import AccountsService, OAuthError
from sandbox.catalog import SANDBOX_USER_ID, Catalog
from sandbox.errors import ApiError
from sandbox.faults import FaultPlan, Faults
from sandbox.listener import TIME_RANGES, Listener
from sandbox.payloads import PayloadRenderer
from sandbox.user_export import FILENAME as EXPORT_FILENAME
from sandbox.user_export import export_zip

TIERS = ("development", "extended")
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
MAX_SEARCH_OFFSET = 1000
BATCH_LIMITS = {"track": 50, "artist": 50, "album": 20}


@dataclass
class Response:
    """An answer; `transport` asks the server to `reset` the connection or `truncate` the body.

    A body of bytes is sent as it is, with `content_type`; any other body as JSON.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    transport: str | None = None
    content_type: str = "application/json; charset=utf-8"


class SimulatedClock:
    """UTC time that can be moved to another date, so a demo can backfill days.

    The time of day is pinned near noon of the simulated date and then runs with the wall
    clock, so a short run never crosses midnight by accident.
    """

    def __init__(self, start: date | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self.set_date(start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def set_date(self, day: date) -> None:
        self.set_time(datetime.combine(day, time(12), tzinfo=UTC))

    def set_time(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Request:
    """What a handler sees of a request."""

    params: dict[str, str]
    body: bytes
    headers: dict[str, str]
    renderer: PayloadRenderer
    path_args: dict[str, str]


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    access: str  # "public", "admin", "client", "extended" or "user:<scope>"


class SandboxApi:
    """The Spotify Web API stand-in.

    Args:
        catalog: The synthetic catalog served.
        tier: `development` (what new apps get) or `extended` (extended quota).
        today: Simulated date to start on; defaults to the real UTC date.
        token_lifetime: Seconds an access token stays valid.
        faults: Faults to inject from the start.
    """

    def __init__(
        self,
        catalog: Catalog,
        tier: str = "development",
        today: date | None = None,
        token_lifetime: int = 3600,
        faults: FaultPlan | None = None,
    ) -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
        self.catalog = catalog
        self.listener = Listener(catalog)
        self.tier = tier
        self.clock = SimulatedClock(today)
        self.accounts = AccountsService(token_lifetime)
        self.faults = Faults(faults or FaultPlan())
        self._stats: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._routes = self._build_routes()

    @property
    def extended(self) -> bool:
        return self.tier == "extended"

    def _build_routes(self) -> list[Route]:
        table: list[tuple[str, str, Handler, str]] = [
            ("POST", "/api/token", self._token, "public"),
            ("GET", "/authorize", self._authorize, "public"),
            # catalog, both tiers
            ("GET", "/v1/tracks/{id}", self._get_track, "client"),
            ("GET", "/v1/albums/{id}", self._get_album, "client"),
            ("GET", "/v1/albums/{id}/tracks", self._get_album_tracks, "client"),
            ("GET", "/v1/artists/{id}", self._get_artist, "client"),
            ("GET", "/v1/artists/{id}/albums", self._get_artist_albums, "client"),
            ("GET", "/v1/playlists/{id}", self._get_playlist, "client"),
            ("GET", "/v1/playlists/{id}/items", self._get_playlist_items, "client"),
            ("GET", "/v1/search", self._search, "client"),
            # extended quota only
            ("GET", "/v1/tracks", self._batch("track"), "extended"),
            ("GET", "/v1/artists", self._batch("artist"), "extended"),
            ("GET", "/v1/albums", self._batch("album"), "extended"),
            ("GET", "/v1/artists/{id}/top-tracks", self._get_artist_top_tracks, "extended"),
            ("GET", "/v1/browse/new-releases", self._get_new_releases, "extended"),
            # the user, with an authorization-code token and the scope
            ("GET", "/v1/me", self._get_me, "user:"),
            ("GET", "/v1/me/playlists", self._get_my_playlists, "user:playlist-read-private"),
            ("GET", "/v1/me/tracks", self._get_saved_tracks, "user:user-library-read"),
            ("GET", "/v1/me/albums", self._get_saved_albums, "user:user-library-read"),
            ("GET", "/v1/me/following", self._get_followed_artists, "user:user-follow-read"),
            ("GET", "/v1/me/top/{type}", self._get_top, "user:user-top-read"),
            ("GET", "/v1/me/player/recently-played", self._get_recently_played, "user:user-read-recently-played"),
            # administration
            ("GET", "/_sandbox/health", self._health, "admin"),
            ("GET", "/_sandbox/catalog", self._catalog_summary, "admin"),
            ("GET", "/_sandbox/clock", self._get_clock, "admin"),
            ("POST", "/_sandbox/clock", self._set_clock, "admin"),
            ("GET", "/_sandbox/stats", self._get_stats, "admin"),
            ("POST", "/_sandbox/stats/reset", self._reset_stats, "admin"),
            ("GET", "/_sandbox/faults", self._get_faults, "admin"),
            ("POST", "/_sandbox/faults", self._set_faults, "admin"),
            ("GET", "/_sandbox/export", self._get_export, "admin"),
        ]
        routes = []
        for method, template, handler, access in table:
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
            routes.append(Route(method, template, re.compile(regex), handler, access))
        return routes

    # entry point -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, base: str) -> Response:
        """Answer one request; `base` is the scheme and host the client used."""
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        # Spotify answers `/v1/me/` like `/v1/me` (spotipy asks for the former).
        route, path_args = self._match(method, path.rstrip("/") or "/")
        if route is None:
            self._count(f"{method} (unknown)", 404)
            return Response(404, ApiError(404, "Service not found").body())
        response = self._answer(route, params, body, headers, path_args, base)
        if route.access != "admin":
            self._count(f"{method} {route.template}", response.status)
        return response

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self._routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return route, match.groupdict()
        return None, {}

    def _answer(
        self,
        route: Route,
        params: dict[str, str],
        body: bytes,
        headers: dict[str, str],
        path_args: dict[str, str],
        base: str,
    ) -> Response:
        try:
            transport = None
            if route.template.startswith("/v1/"):
                self.faults.delay()
                fault = self.faults.decide(self.clock.now())
                if fault and fault.error:
                    raise fault.error
                transport = fault.transport if fault else None
                self._authorize_request(route, headers)
            renderer = PayloadRenderer(
                self.catalog, f"{base}/v1", self.extended, self.clock.today(), market=params.get("market")
            )
            response = route.handler(Request(params, body, headers, renderer, path_args))
            response.transport = transport
            return response
        except ApiError as error:
            return Response(error.status, error.body(), dict(error.headers))

    def _authorize_request(self, route: Route, headers: dict[str, str]) -> None:
        authorization = headers.get("authorization", "")
        if route.access.startswith("user:"):
            self.accounts.check(authorization, scope=route.access[5:] or None, user=True)
            return
        self.accounts.check(authorization)
        if route.access == "extended" and not self.extended:
            # Endpoints development-mode apps lost in November 2024 and February 2026.
            raise ApiError(403, "Forbidden")

    def _count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._stats[(endpoint, status)] += 1

    # accounts --------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        basic = None
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
                basic = (client_id, secret)
            except (binascii.Error, UnicodeDecodeError):
                return Response(400, {"error": "invalid_client", "error_description": "Invalid client"})
        try:
            return Response(200, self.accounts.token(form, basic))
        except OAuthError as error:
            return Response(error.status, {"error": error.error, "error_description": error.description})

    def _authorize(self, request: Request) -> Response:
        try:
            return Response(302, None, {"Location": self.accounts.authorize(request.params)})
        except OAuthError as error:
            return Response(error.status, {"error": error.error, "error_description": error.description})

    # helpers ---------------------------------------------------------------------------------

    def _lookup(self, kind: str, entity_id: str) -> int:
        if len(entity_id) != 22 or not entity_id.isascii() or not entity_id.isalnum():
            raise ApiError(400, "Invalid base62 id")
        ref = self.catalog.decode_id(entity_id)
        # The playable equivalent of a relinked track is a track of its own.
        ref_kind = "track" if ref is not None and ref.kind == "relink" else ref.kind if ref else None
        if ref is None or ref_kind != kind or self.catalog.is_withheld(kind, ref.index):
            raise ApiError(404, "Resource not found")
        return ref.index

    @staticmethod
    def _page(params: dict[str, str], default: int, maximum: int, max_offset: int | None = None) -> tuple[int, int]:
        try:
            limit = int(params.get("limit", default))
            offset = int(params.get("offset", 0))
        except ValueError:
            raise ApiError(400, "Invalid limit") from None
        if not 1 <= limit <= maximum:
            raise ApiError(400, "Invalid limit")
        if offset < 0 or (max_offset is not None and offset > max_offset):
            raise ApiError(400, "Invalid offset")
        return limit, offset

    # catalog ---------------------------------------------------------------------------------

    def _get_track(self, request: Request) -> Response:
        track_id = request.path_args["id"]
        track = self._lookup("track", track_id)
        as_playable = track_id == self.catalog.encode_id("relink", track)
        return Response(200, request.renderer.track(track, as_playable=as_playable))

    def _get_album(self, request: Request) -> Response:
        return Response(200, request.renderer.album(self._lookup("album", request.path_args["id"])))

    def _get_album_tracks(self, request: Request) -> Response:
        album = self._lookup("album", request.path_args["id"])
        limit, offset = self._page(request.params, default=20, maximum=50)
        return Response(200, request.renderer.album_tracks(album, limit, offset))

    def _get_artist(self, request: Request) -> Response:
        return Response(200, request.renderer.artist(self._lookup("artist", request.path_args["id"])))

    def _get_artist_albums(self, request: Request) -> Response:
        artist_id = request.path_args["id"]
        artist = self._lookup("artist", artist_id)
        params = request.params
        limit, offset = self._page(params, default=5, maximum=50 if self.extended else 10)
        groups = set(filter(None, params.get("include_groups", "album,single,compilation,appears_on").split(",")))
        albums = [a for a in self.catalog.artist_albums(artist) if self.catalog.album_type(a) in groups]
        if "appears_on" in groups:
            albums += self._appears_on(artist)
        items = [request.renderer.artist_album(a, artist) for a in albums[offset : offset + limit]]
        query = f"include_groups={','.join(sorted(groups))}" if "include_groups" in params else ""
        return Response(
            200, request.renderer.paging(f"/artists/{artist_id}/albums", items, len(albums), limit, offset, query)
        )

    def _appears_on(self, artist: int) -> list[int]:
        """Albums of a neighbouring artist on which this artist is a collaborator."""
        neighbours = range(max(0, artist - 3), min(self.catalog.artist_count, artist + 3))
        return [
            a
            for n in neighbours
            if n != artist
            for a in self.catalog.artist_albums(n)
            if artist in self.catalog.album_artists(a)
        ]

    def _readable_playlist(self, playlist_id: str) -> tuple[int, bool]:
        """The playlist index and whether this app may read its items."""
        playlist = self._lookup("playlist", playlist_id)
        if not self.extended and self.catalog.playlist_is_editorial(playlist):
            raise ApiError(404, "Resource not found")
        return playlist, self.extended or playlist in self.catalog.owned_playlists()

    def _get_playlist(self, request: Request) -> Response:
        playlist, readable = self._readable_playlist(request.path_args["id"])
        return Response(200, request.renderer.playlist(playlist, with_items=readable))

    def _get_playlist_items(self, request: Request) -> Response:
        playlist, readable = self._readable_playlist(request.path_args["id"])
        if not readable:
            raise ApiError(403, "Forbidden")
        limit, offset = self._page(request.params, default=20, maximum=100 if self.extended else 50)
        return Response(200, request.renderer.playlist_items(playlist, limit, offset))

    def _search(self, request: Request) -> Response:
        params, renderer = request.params, request.renderer
        query = params.get("q", "").strip()
        if not query:
            raise ApiError(400, "No search query")
        if not params.get("type"):
            raise ApiError(400, "Missing parameter type")
        kinds = params["type"].split(",")
        for kind in kinds:
            if kind not in SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {kind}")
        limit, offset = self._page(params, default=5, maximum=50 if self.extended else 10, max_offset=MAX_SEARCH_OFFSET)
        render = {
            "track": renderer.track,
            "artist": renderer.artist,
            "album": renderer.simplified_album,
            "playlist": renderer.simplified_playlist,
        }
        answer = {}
        extra = f"q={query}&type={params['type']}"
        for kind in kinds:
            ranked = self.catalog.search(kind, query, self.clock.today()) if kind in render else []
            if kind == "playlist" and not self.extended:
                ranked = [p for p in ranked if not self.catalog.playlist_is_editorial(p)]
            items = [render[kind](index) for index in ranked[offset : offset + limit]]
            answer[f"{kind}s"] = renderer.paging("/search", items, len(ranked), limit, offset, extra)
        return Response(200, answer)

    # extended quota only ---------------------------------------------------------------------

    def _batch(self, kind: str) -> Handler:
        def handler(request: Request) -> Response:
            ids = [i for i in request.params.get("ids", "").split(",") if i]
            if not ids:
                raise ApiError(400, "Missing required parameter: ids")
            if len(ids) > BATCH_LIMITS[kind]:
                raise ApiError(400, "Too many ids requested")
            render = {
                "track": request.renderer.track,
                "artist": request.renderer.artist,
                "album": request.renderer.album,
            }
            items = []
            for entity_id in ids:
                try:
                    items.append(render[kind](self._lookup(kind, entity_id)))
                except ApiError as error:
                    if error.status != 404:
                        raise
                    items.append(None)  # Spotify answers null for ids it does not know
            return Response(200, {f"{kind}s": items})

        return handler

    def _get_artist_top_tracks(self, request: Request) -> Response:
        artist = self._lookup("artist", request.path_args["id"])
        tracks = self.catalog.artist_top_tracks(artist, self.clock.today())
        return Response(200, {"tracks": [request.renderer.track(t) for t in tracks]})

    def _get_new_releases(self, request: Request) -> Response:
        limit, offset = self._page(request.params, default=20, maximum=50)
        albums = self.catalog.new_releases(self.clock.today())
        items = [request.renderer.simplified_album(a) for a in albums[offset : offset + limit]]
        return Response(
            200, {"albums": request.renderer.paging("/browse/new-releases", items, len(albums), limit, offset)}
        )

    # the user --------------------------------------------------------------------------------

    def _get_me(self, request: Request) -> Response:
        return Response(200, request.renderer.private_user())

    def _get_my_playlists(self, request: Request) -> Response:
        limit, offset = self._page(request.params, default=20, maximum=50)
        catalog = self.catalog
        followed = [p for p in range(catalog.playlist_count) if p % 4 == 1 and p not in catalog.owned_playlists()]
        renderer = request.renderer
        # The legacy "Starred" list (no id) comes last.
        playlists: list[int | None] = [*catalog.owned_playlists(), *followed, None]

        def entry(playlist: int | None) -> dict[str, Any] | None:
            if playlist is None:
                return renderer.starred_playlist(len(self.listener.saved_tracks(self.clock.today())))
            return None if catalog.is_null_entry("playlists", playlist) else renderer.simplified_playlist(playlist)

        items = [entry(p) for p in playlists[offset : offset + limit]]
        return Response(200, renderer.paging("/me/playlists", items, len(playlists), limit, offset))

    def _get_saved_tracks(self, request: Request) -> Response:
        limit, offset = self._page(request.params, default=20, maximum=50)
        saved = self.listener.saved_tracks(self.clock.today())
        items = [
            None if self.catalog.is_null_entry("tracks", t) else request.renderer.saved_track(t, d)
            for t, d in saved[offset : offset + limit]
        ]
        return Response(200, request.renderer.paging("/me/tracks", items, len(saved), limit, offset))

    def _get_saved_albums(self, request: Request) -> Response:
        limit, offset = self._page(request.params, default=20, maximum=50)
        saved = self.listener.saved_albums(self.clock.today())
        items = [
            None if self.catalog.is_null_entry("albums", a) else request.renderer.saved_album(a, d)
            for a, d in saved[offset : offset + limit]
        ]
        return Response(200, request.renderer.paging("/me/albums", items, len(saved), limit, offset))

    def _get_followed_artists(self, request: Request) -> Response:
        params = request.params
        if params.get("type") != "artist":
            raise ApiError(400, "Bad type field")
        limit, _ = self._page(params, default=20, maximum=50)
        followed = self.listener.followed_artists(self.clock.today())
        ids = [self.catalog.encode_id("artist", a) for a in followed]
        after = params.get("after")
        start = next((i + 1 for i, artist_id in enumerate(ids) if artist_id == after), 0) if after else 0
        page = followed[start : start + limit]
        last = ids[start + len(page) - 1] if page else None
        more = start + len(page) < len(ids)
        paging = request.renderer.cursor_paging(
            "/me/following",
            [request.renderer.artist(a) for a in page],
            limit,
            f"type=artist&after={last}" if more else None,
            {"after": last if more else None},
            len(ids),
        )
        return Response(200, {"artists": paging})

    def _get_top(self, request: Request) -> Response:
        kind = request.path_args["type"]
        if kind not in ("tracks", "artists"):
            raise ApiError(404, "Service not found")
        time_range = request.params.get("time_range", "medium_term")
        if time_range not in TIME_RANGES:
            raise ApiError(400, "Invalid time range")
        limit, offset = self._page(request.params, default=20, maximum=50)
        today = self.clock.today()
        if kind == "tracks":
            ranked, render = self.listener.top_tracks(time_range, today), request.renderer.track
        else:
            ranked, render = self.listener.top_artists(time_range, today), request.renderer.artist
        items = [render(i) for i in ranked[offset : offset + limit]]
        query = f"time_range={time_range}"
        return Response(200, request.renderer.paging(f"/me/top/{kind}", items, len(ranked), limit, offset, query))

    def _get_recently_played(self, request: Request) -> Response:
        params = request.params
        if "after" in params and "before" in params:
            raise ApiError(400, "Only one of after or before can be specified")
        limit, _ = self._page(params, default=20, maximum=50)
        try:
            after, before = int(params.get("after", 0)), int(params.get("before", 0))
        except ValueError:
            raise ApiError(400, "Invalid cursor") from None
        plays = self.listener.recent_plays(self.clock.now())

        def millis(moment: datetime) -> int:
            return int(moment.timestamp() * 1000)

        reachable = [p for p in plays if (not after or millis(p.played_at) > after)]
        reachable = [p for p in reachable if (not before or millis(p.played_at) < before)]
        page = reachable[:limit]
        cursors = None
        if page:
            cursors = {"after": str(millis(page[0].played_at)), "before": str(millis(page[-1].played_at))}
        more = len(reachable) > len(page)
        paging = request.renderer.cursor_paging(
            "/me/player/recently-played",
            [request.renderer.play(p) for p in page],
            limit,
            f"before={cursors['before']}" if more and cursors else None,
            cursors,
            len(plays),
        )
        return Response(200, paging)

    # administration --------------------------------------------------------------------------

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        try:
            value = json.loads(request.body or b"{}")
        except json.JSONDecodeError as error:
            raise ApiError(400, f"Invalid JSON: {error}") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Expected a JSON object")
        return value

    def _health(self, request: Request) -> Response:
        return Response(200, {"status": "ok", "tier": self.tier, "date": self.clock.today().isoformat()})

    def _catalog_summary(self, request: Request) -> Response:
        """Sizes and ids worth tracking, so a user can write a configuration for the sandbox."""
        catalog = self.catalog
        step = max(1, catalog.artist_count // 25)
        return Response(
            200,
            {
                "seed": catalog.seed,
                "artists": catalog.artist_count,
                "albums": catalog.album_count,
                "tracks": catalog.track_count,
                "playlists": catalog.playlist_count,
                "user_id": SANDBOX_USER_ID,
                "owned_playlist_ids": [catalog.encode_id("playlist", p) for p in catalog.owned_playlists()],
                "all_playlist_ids": [catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
                "sample_artist_ids": [catalog.encode_id("artist", a) for a in range(0, catalog.artist_count, step)][
                    :25
                ],
            },
        )

    def _get_clock(self, request: Request) -> Response:
        return Response(200, {"now": self.clock.now().isoformat(), "date": self.clock.today().isoformat()})

    def _set_clock(self, request: Request) -> Response:
        """`{"date": "YYYY-MM-DD"}`, `{"days": n}` or `{"seconds": n}`."""
        change = self._json(request)
        try:
            if "date" in change:
                self.clock.set_date(date.fromisoformat(change["date"]))
            elif "days" in change:
                self.clock.set_date(self.clock.today() + timedelta(days=int(change["days"])))
            elif "seconds" in change:
                self.clock.advance(float(change["seconds"]))
            else:
                raise ValueError("expected 'date' (YYYY-MM-DD), 'days' or 'seconds'")
        except (ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid clock request: {error}") from None
        return self._get_clock(request)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            rows = [{"endpoint": e, "status": s, "count": c} for (e, s), c in sorted(self._stats.items())]
        return {"total": sum(r["count"] for r in rows), "requests": rows}

    def _get_stats(self, request: Request) -> Response:
        return Response(200, self.stats())

    def _reset_stats(self, request: Request) -> Response:
        with self._lock:
            self._stats.clear()
        return Response(200, self.stats())

    def _get_export(self, request: Request) -> Response:
        """The user's privacy export as of the simulated date, as Spotify's download link gives it."""
        return Response(
            200,
            export_zip(self.listener, self.clock.today()),
            {"Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"'},
            content_type="application/zip",
        )

    def _get_faults(self, request: Request) -> Response:
        return Response(200, self.faults.describe())

    def _set_faults(self, request: Request) -> Response:
        try:
            return Response(200, self.faults.configure(self._json(request)))
        except (ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid faults request: {error}") from None
