"""Request handling of the sandbox: routing, auth, tiers, limits, the clock and counters.

Transport-free: `SandboxApi.handle` takes a parsed request and returns a `Response`, so the
HTTP server stays thin and the behaviour can be exercised without sockets.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from urllib.parse import parse_qs

from ingestion.sandbox.catalog import Catalog
from ingestion.sandbox.payloads import PayloadRenderer, error_body

TIERS = ("development", "extended")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Answered as Spotify's error body with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
        noon = datetime.combine(day, dtime(12), tzinfo=UTC)
        self._offset = noon - datetime.now(UTC)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    authenticated: bool


class SandboxApi:
    """The Spotify Web API stand-in.

    Args:
        catalog: The synthetic catalog served.
        tier: `development` (what new apps get) or `extended` (extended quota).
        today: Simulated date to start on; defaults to the real UTC date.
        token_lifetime: Seconds an access token stays valid.
    """

    def __init__(
        self,
        catalog: Catalog,
        tier: str = "development",
        today: date | None = None,
        token_lifetime: int = 3600,
    ) -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
        self.catalog = catalog
        self.tier = tier
        self.clock = SimulatedClock(today)
        self.token_lifetime = token_lifetime
        self._tokens: dict[str, float] = {}
        self._stats: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._routes = self._build_routes()

    @property
    def extended(self) -> bool:
        return self.tier == "extended"

    def _build_routes(self) -> list[Route]:
        table: list[tuple[str, str, Callable[..., Response], bool]] = [
            ("POST", "/api/token", self._token, False),
            ("GET", "/v1/tracks/{id}", self._get_track, True),
            ("GET", "/v1/albums/{id}", self._get_album, True),
            ("GET", "/v1/albums/{id}/tracks", self._get_album_tracks, True),
            ("GET", "/v1/artists/{id}", self._get_artist, True),
            ("GET", "/v1/artists/{id}/albums", self._get_artist_albums, True),
            ("GET", "/v1/playlists/{id}", self._get_playlist, True),
            ("GET", "/v1/playlists/{id}/items", self._get_playlist_items, True),
            ("GET", "/_sandbox/health", self._health, False),
            ("GET", "/_sandbox/catalog", self._catalog_summary, False),
            ("GET", "/_sandbox/clock", self._get_clock, False),
            ("POST", "/_sandbox/clock", self._set_clock, False),
            ("GET", "/_sandbox/stats", self._get_stats, False),
            ("POST", "/_sandbox/stats/reset", self._reset_stats, False),
        ]
        routes = []
        for method, template, handler, authenticated in table:
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
            routes.append(Route(method, template, re.compile(regex), handler, authenticated))
        return routes

    # entry point -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, base: str) -> Response:
        """Answer one request; `base` is the scheme and host the client used."""
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        for route in self._routes:
            match = route.pattern.match(path)
            if not match or route.method != method:
                continue
            try:
                if route.authenticated:
                    self._check_token(headers.get("authorization", ""))
                renderer = PayloadRenderer(self.catalog, f"{base}/v1", self.extended, self.clock.today())
                response = route.handler(
                    renderer=renderer, params=params, body=body, headers=headers, **match.groupdict()
                )
            except ApiError as error:
                response = Response(error.status, error_body(error.status, error.message))
            self._count(f"{method} {route.template}", response.status)
            return response
        self._count(f"{method} (unknown)", 404)
        return Response(404, error_body(404, "Service not found"))

    def _count(self, endpoint: str, status: int) -> None:
        if endpoint.startswith(("GET /_sandbox", "POST /_sandbox")):
            return
        with self._lock:
            self._stats[(endpoint, status)] += 1

    # auth ------------------------------------------------------------------------------------

    def _check_token(self, authorization: str) -> None:
        if not authorization.startswith("Bearer "):
            raise ApiError(401, "No token provided")
        expires = self._tokens.get(authorization[len("Bearer ") :])
        if expires is None:
            raise ApiError(401, "Invalid access token")
        if expires < time.monotonic():
            raise ApiError(401, "The access token expired")

    def _token(self, body: bytes, headers: dict[str, str], **_: Any) -> Response:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                client_id = None
        if not client_id or not client_secret:
            return Response(400, {"error": "invalid_client", "error_description": "Invalid client"})
        if form.get("grant_type") != "client_credentials":
            return Response(
                400, {"error": "unsupported_grant_type", "error_description": "grant_type parameter is missing"}
            )
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime})

    # lookups ---------------------------------------------------------------------------------

    def _lookup(self, kind: str, entity_id: str) -> int:
        if len(entity_id) != 22 or not entity_id.isascii() or not entity_id.isalnum():
            raise ApiError(400, "Invalid base62 id")
        ref = self.catalog.decode_id(entity_id)
        if ref is None or ref.kind != kind:
            raise ApiError(404, "Resource not found")
        return ref.index

    @staticmethod
    def _page(params: dict[str, str], default: int, maximum: int) -> tuple[int, int]:
        try:
            limit = int(params.get("limit", default))
            offset = int(params.get("offset", 0))
        except ValueError:
            raise ApiError(400, "Invalid limit") from None
        if not 1 <= limit <= maximum:
            raise ApiError(400, "Invalid limit")
        if offset < 0:
            raise ApiError(400, "Invalid offset")
        return limit, offset

    # catalog endpoints -----------------------------------------------------------------------

    def _get_track(self, renderer: PayloadRenderer, id: str, **_: Any) -> Response:  # noqa: A002
        return Response(200, renderer.track(self._lookup("track", id)))

    def _get_album(self, renderer: PayloadRenderer, id: str, **_: Any) -> Response:  # noqa: A002
        return Response(200, renderer.album(self._lookup("album", id)))

    def _get_album_tracks(self, renderer: PayloadRenderer, id: str, params: dict[str, str], **_: Any) -> Response:  # noqa: A002
        album = self._lookup("album", id)
        limit, offset = self._page(params, default=20, maximum=50)
        return Response(200, renderer.album_tracks(album, limit, offset))

    def _get_artist(self, renderer: PayloadRenderer, id: str, **_: Any) -> Response:  # noqa: A002
        return Response(200, renderer.artist(self._lookup("artist", id)))

    def _get_artist_albums(self, renderer: PayloadRenderer, id: str, params: dict[str, str], **_: Any) -> Response:  # noqa: A002
        artist = self._lookup("artist", id)
        limit, offset = self._page(params, default=5 if not self.extended else 20, maximum=50 if self.extended else 10)
        groups = set(filter(None, params.get("include_groups", "album,single,compilation,appears_on").split(",")))
        albums = [a for a in self.catalog.artist_albums(artist) if (self.catalog.album_type(a) in groups)]
        if "appears_on" in groups:
            albums += self._appears_on(artist)
        items = [renderer.artist_album(a, artist) for a in albums[offset : offset + limit]]
        query = f"include_groups={','.join(sorted(groups))}" if "include_groups" in params else ""
        return Response(200, renderer.paging(f"/artists/{id}/albums", items, len(albums), limit, offset, query))

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

    # playlists -------------------------------------------------------------------------------

    def _readable_playlist(self, playlist_id: str) -> tuple[int, bool]:
        """The playlist index and whether this app may read its items."""
        playlist = self._lookup("playlist", playlist_id)
        if not self.extended and self.catalog.playlist_is_editorial(playlist):
            raise ApiError(404, "Resource not found")
        return playlist, self.extended or playlist in self.catalog.owned_playlists()

    def _get_playlist(self, renderer: PayloadRenderer, id: str, **_: Any) -> Response:  # noqa: A002
        playlist, readable = self._readable_playlist(id)
        return Response(200, renderer.playlist(playlist, with_items=readable))

    def _get_playlist_items(self, renderer: PayloadRenderer, id: str, params: dict[str, str], **_: Any) -> Response:  # noqa: A002
        playlist, readable = self._readable_playlist(id)
        if not readable:
            raise ApiError(403, "Forbidden")
        limit, offset = self._page(params, default=20, maximum=50 if not self.extended else 100)
        return Response(200, renderer.playlist_items(playlist, limit, offset))

    # administration --------------------------------------------------------------------------

    def _health(self, **_: Any) -> Response:
        return Response(200, {"status": "ok", "tier": self.tier, "date": self.clock.today().isoformat()})

    def _catalog_summary(self, **_: Any) -> Response:
        """Sizes and ids worth tracking, so a user can write a configuration for the sandbox."""
        catalog = self.catalog
        return Response(
            200,
            {
                "seed": catalog.seed,
                "artists": catalog.artist_count,
                "albums": catalog.album_count,
                "tracks": catalog.track_count,
                "playlists": catalog.playlist_count,
                "owned_playlist_ids": [catalog.encode_id("playlist", p) for p in catalog.owned_playlists()],
                "all_playlist_ids": [catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
                "sample_artist_ids": [
                    catalog.encode_id("artist", a)
                    for a in range(0, catalog.artist_count, max(1, catalog.artist_count // 25))
                ][:25],
            },
        )

    def _get_clock(self, **_: Any) -> Response:
        return Response(200, {"now": self.clock.now().isoformat(), "date": self.clock.today().isoformat()})

    def _set_clock(self, body: bytes, **_: Any) -> Response:
        try:
            request = json.loads(body or b"{}")
            if "date" in request:
                self.clock.set_date(date.fromisoformat(request["date"]))
            elif "days" in request:
                self.clock.set_date(self.clock.today() + timedelta(days=int(request["days"])))
            else:
                raise ValueError("expected 'date' (YYYY-MM-DD) or 'days' (integer)")
        except (ValueError, TypeError) as error:
            raise ApiError(400, f"Invalid clock request: {error}") from None
        return self._get_clock()

    def _get_stats(self, **_: Any) -> Response:
        with self._lock:
            rows = [{"endpoint": e, "status": s, "count": c} for (e, s), c in sorted(self._stats.items())]
        return Response(200, {"total": sum(r["count"] for r in rows), "requests": rows})

    def _reset_stats(self, **_: Any) -> Response:
        with self._lock:
            self._stats.clear()
        return Response(200, {"total": 0, "requests": []})
