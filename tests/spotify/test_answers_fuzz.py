"""The loader never raises on what Spotify may answer: a fuzz test of the parser, through the crawler.

A small HTTP server on 127.0.0.1 answers every endpoint the crawler calls with a body drawn by
hypothesis from the OpenAPI definition, with and without the real-world departures
(`tests/spotify/openapi_strategies.py`). A whole crawl runs against it: every request, every
page, every entity fetch. It must end without an exception, and every row it keeps must have
its primary key and only declared columns, which is what the warehouse load relies on.
CI runs it derandomized (a fixed seed) with a bounded number of examples.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.spotify import CatalogCrawler, CrawlOptions, SpotifyClient, parse_tracked
from ingestion.spotify.tables import TABLES
from tests.spotify.openapi_strategies import answer

ROUTES = (
    (r"/v1/playlists/[^/]+/items", "/playlists/{playlist_id}/items"),
    (r"/v1/playlists/[^/]+", "/playlists/{playlist_id}"),
    (r"/v1/search", "/search"),
    (r"/v1/artists/[^/]+/albums", "/artists/{id}/albums"),
    (r"/v1/albums/[^/]+/tracks", "/albums/{id}/tracks"),
    (r"/v1/albums/[^/]+", "/albums/{id}"),
    (r"/v1/tracks/[^/]+", "/tracks/{id}"),
    (r"/v1/artists/[^/]+", "/artists/{id}"),
    (r"/v1/tracks", "/tracks"),
    (r"/v1/albums", "/albums"),
    (r"/v1/artists", "/artists"),
    (r"/v1/me/playlists", "/me/playlists"),
    (r"/v1/me/tracks", "/me/tracks"),
    (r"/v1/me/albums", "/me/albums"),
    (r"/v1/me/following", "/me/following"),
    (r"/v1/me/top/tracks", "/me/top/tracks"),
    (r"/v1/me/top/artists", "/me/top/artists"),
    (r"/v1/me/player/recently-played", "/me/player/recently-played"),
    # Where every drawn `next` link points: another page of entries, whose own `next` is null.
    (r"/v1/next", "/playlists/{playlist_id}/items"),
)
ID = "4iV5W9uYEdYUVa79Axb7Rh"


def _link_next_pages(value: Any, url: str | None) -> Any:
    """Every string `next` link pointed at `url` (None ends the paging), so a crawl stays on the server."""
    if isinstance(value, dict):
        return {
            k: (url if isinstance(v, str) else None) if k == "next" else _link_next_pages(v, url)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_link_next_pages(v, url) for v in value]
    return value


class FuzzServer:
    """Answers each route with its drawn body; the token endpoint answers as Spotify's does."""

    def __init__(self, bodies: dict[str, Any]) -> None:
        self.bodies = bodies
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].rstrip("/")
                spec_path = next((s for pattern, s in ROUTES if re.fullmatch(pattern, path)), None)
                body = server.body(path, spec_path)
                self._send(200 if spec_path else 404, body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = {"access_token": "fuzz", "token_type": "Bearer", "expires_in": 3600, "scope": ""}
                self._send(200, token)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Date", format_datetime(datetime.now(UTC), usegmt=True))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def body(self, path: str, spec_path: str | None) -> Any:
        if spec_path is None:
            return {"error": {"status": 404, "message": "Service not found"}}
        next_url = None if path == "/v1/next" else f"{self.url}/v1/next"
        return _link_next_pages(self.bodies[spec_path], next_url)

    def __enter__(self) -> FuzzServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


SPEC_PATHS = sorted({spec_path for _, spec_path in ROUTES})
BODIES = st.fixed_dictionaries(
    {spec_path: st.one_of(answer(spec_path, departures=False), answer(spec_path)) for spec_path in SPEC_PATHS}
)


def crawl(server: FuzzServer, tier: str) -> dict[str, list[dict[str, Any]]]:
    client = SpotifyClient(
        "fuzz",
        "secret",
        f"{server.url}/v1",
        f"{server.url}/api/token",
        refresh_token="fuzz",
        retry_base=0.01,
        requests_per_second=10_000,
    )
    tracked = parse_tracked([ID], [ID], [ID], ["fuzz"])
    crawler = CatalogCrawler(client, tracked, CrawlOptions(tier=tier, market="DE"), state=dict)
    return {table: list(crawler.table(table)) for table in TABLES}


@pytest.mark.parametrize("tier", ["auto", "extended"])
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(bodies=BODIES)
def test_a_crawl_of_any_answers_the_definition_allows_and_spotify_sends_never_raises(tier, bodies):
    with FuzzServer(bodies) as server:
        tables = crawl(server, tier)
    for table, rows in tables.items():
        spec = TABLES[table]
        for row in rows:
            assert set(row) <= set(spec["columns"]), (table, set(row) - set(spec["columns"]))
            missing = [key for key in spec["primary_key"] if row.get(key) is None]
            assert missing == [], f"{table} row without its key {missing}: {row}"
