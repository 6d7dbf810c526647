"""The sandbox's HTTP transport: a threaded server on loopback in front of `SandboxApi`."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from sandbox.api import SandboxApi

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write with TCP_NODELAY; otherwise Nagle's algorithm and
    # the client's delayed ACK add 40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        host, port = self.server.server_address[:2]
        base = f"http://{self.headers.get('Host') or f'{host}:{port}'}"
        response = self.server.api.handle(method, path, query, headers, body, base)
        if response.transport == "reset":
            self._reset_connection()
            return
        if isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = b"" if response.body is None else json.dumps(response.body, ensure_ascii=False).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.transport == "truncate":
            # The promised length never arrives: the client sees the connection end mid-body.
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._reset_connection()
            return
        self.wfile.write(payload)
        self.wfile.flush()

    def _reset_connection(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a dropped upstream would."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the simulated clock: clients date observations by it.
        return format_datetime(self.server.api.clock.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: SandboxApi) -> None:
        super().__init__(address, _Handler)
        self.api = api


class SandboxAddress:
    """Where a running sandbox answers, as the loader's settings want it (`url` is its root)."""

    url: str

    @property
    def api_url(self) -> str:
        """What replaces `https://api.spotify.com/v1`."""
        return f"{self.url}/v1"

    @property
    def token_url(self) -> str:
        """What replaces `https://accounts.spotify.com/api/token`."""
        return f"{self.url}/api/token"


class SandboxServer(SandboxAddress):
    """Runs the sandbox on `host:port` (port 0 picks a free one) in a background thread.

    Use as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, api: SandboxApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self._server = _Server((host, port), api)
        self._thread: threading.Thread | None = None

    @property  # type: ignore[override]
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def user_refresh_token(self, client_id: str, client_secret: str, scope: str) -> str:
        """Walk /authorize as the sandbox user's browser would and return a refresh token.

        The sandbox consents at once, so demos and tests get a user without a browser.
        """
        redirect = "http://127.0.0.1:8888/callback"
        consent = requests.get(
            f"{self.url}/authorize",
            params={"client_id": client_id, "response_type": "code", "redirect_uri": redirect, "scope": scope},
            allow_redirects=False,
            timeout=10,
        )
        code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
        answer = requests.post(
            self.token_url,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(client_id, client_secret),
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["refresh_token"]

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
