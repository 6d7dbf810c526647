"""`tunelake auth`: get a user's refresh token through Spotify's authorization-code flow.

A one-shot HTTP server on 127.0.0.1 receives the redirect (Spotify accepts loopback IPs, not
`localhost`), spotipy exchanges the code (with the client secret, or PKCE without one), and
the refresh token is written to `.dlt/secrets.toml`, where the pipeline reads it. The token is
never printed or logged.
"""

from __future__ import annotations

import http.server
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import tomlkit
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOAuth, SpotifyOauthError, SpotifyPKCE

from ingestion.errors import ConfigurationError
from ingestion.spotify import settings

CALLBACK_PATH = "/callback"
PAGE = b"<html><body><h1>tunelake is authorized.</h1><p>You can close this tab.</p></body></html>"


@dataclass
class _Callback:
    code: str | None = None
    state: str | None = None
    error: str | None = None


def authorize_url_for(token_url: str) -> str:
    """Spotify's `/authorize` beside its token endpoint (`.../api/token` -> `.../authorize`)."""
    base = token_url.rstrip("/").removesuffix("/api/token")
    return f"{base}/authorize"


def _callback_server(port: int, received: _Callback, done: threading.Event) -> http.server.HTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != CALLBACK_PATH:
                self.send_error(404)
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            received.code, received.state, received.error = query.get("code"), query.get("state"), query.get("error")
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
            done.set()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """The request line carries the code: not logged."""

    return http.server.HTTPServer(("127.0.0.1", port), Handler)


def save_refresh_token(secrets_file: Path, refresh_token: str) -> None:
    """Write `sources.spotify.refresh_token`, keeping everything else in the file."""
    secrets_file.parent.mkdir(parents=True, exist_ok=True)
    document = tomlkit.parse(secrets_file.read_text()) if secrets_file.exists() else tomlkit.document()
    sources = document.setdefault("sources", tomlkit.table())
    spotify = sources.setdefault("spotify", tomlkit.table())
    spotify["refresh_token"] = refresh_token
    secrets_file.write_text(tomlkit.dumps(document))
    os.chmod(secrets_file, 0o600)


def run_authorization(
    client_id: str,
    client_secret: str | None,
    token_url: str,
    port: int,
    on_url: Callable[[str], None],
    timeout: float = 300.0,
) -> str:
    """Walk the authorization-code flow and return the refresh token.

    Args:
        client_id: The app's client id.
        client_secret: The app's secret; without one the flow uses PKCE.
        token_url: The accounts service token endpoint (the sandbox's, or Spotify's).
        port: Loopback port of the redirect URI (`http://127.0.0.1:PORT/callback`), as
            registered for the app.
        on_url: Called with the URL the user opens to consent.
        timeout: Seconds to wait for the redirect.

    Raises:
        ConfigurationError: when the user or Spotify refuses, or nothing comes back in time.
    """
    redirect_uri = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
    common = {
        "redirect_uri": redirect_uri,
        "scope": " ".join(settings.USER_SCOPES),
        "open_browser": False,
        "cache_handler": MemoryCacheHandler(),
        "requests_timeout": settings.REQUEST_TIMEOUT_S,
    }
    manager = SpotifyOAuth(client_id, client_secret, **common) if client_secret else SpotifyPKCE(client_id, **common)
    manager.OAUTH_AUTHORIZE_URL = authorize_url_for(token_url)
    manager.OAUTH_TOKEN_URL = token_url
    state = secrets.token_urlsafe(16)
    received, done = _Callback(), threading.Event()
    server = _callback_server(port, received, done)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        on_url(manager.get_authorize_url(state=state))
        if not done.wait(timeout):
            raise ConfigurationError(f"no answer on {redirect_uri} within {timeout:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    if received.error or not received.code:
        raise ConfigurationError(f"authorization refused: {received.error or 'no code in the redirect'}")
    if received.state != state:
        raise ConfigurationError("the redirect's state does not match this request (possible forgery): try again")
    try:
        if client_secret:
            manager.get_access_token(received.code, as_dict=False, check_cache=False)
        else:
            manager.get_access_token(received.code, check_cache=False)
    except SpotifyOauthError as error:
        raise ConfigurationError(f"Spotify refused the code: {error.error}: {error.error_description}") from None
    info = manager.cache_handler.get_cached_token()
    if not info or not info.get("refresh_token"):
        raise ConfigurationError("Spotify returned no refresh token")
    return info["refresh_token"]
