"""The Spotify client: auth, retries, rate limits and response dates, on top of spotipy."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from ingestion.spotify import settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_URI = re.compile(r"^spotify:(?P<kind>[a-z]+):(?P<id>[^:]+)$")
_URL = re.compile(r"^https?://open\.spotify\.com/(?:intl-[a-z]{2}/)?(?P<kind>[a-z]+)/(?P<id>[^/?#]+)")
_ID_IN_PATH = re.compile(r"/[0-9A-Za-z]{22}(?=/|$)")


class ConfigurationError(ValueError):
    """The configuration is invalid; raised before any request is sent."""


class SpotifyApiError(Exception):
    """Spotify answered with an error status for one endpoint and id."""

    def __init__(self, status: int, endpoint: str, message: str) -> None:
        super().__init__(f"{endpoint} answered {status}: {message}")
        self.status = status
        self.endpoint = endpoint


class RateLimitedError(Exception):
    """Spotify asked to wait longer than the run is willing to (`retry_after` seconds)."""

    def __init__(self, endpoint: str, retry_after: float, reason: str | None) -> None:
        super().__init__(f"{endpoint} is rate limited for {retry_after:.0f} s ({reason or 'rolling window'})")
        self.endpoint = endpoint
        self.retry_after = retry_after
        self.reason = reason


def parse_spotify_id(value: str, kind: str, field: str) -> str:
    """Return the base62 id in `value`: a bare id, a `spotify:kind:id` URI or an open.spotify.com URL.

    Raises:
        ConfigurationError: naming `field` and the value when it is not a `kind` id.
    """
    text = str(value).strip()
    match = _URI.match(text) or _URL.match(text)
    if match:
        if match["kind"] != kind:
            raise ConfigurationError(f"{field}: {value!r} is a {match['kind']} link, expected a {kind}")
        text = match["id"]
    if not _ID.match(text):
        raise ConfigurationError(
            f"{field}: {value!r} is not a Spotify {kind} id (22 letters and digits), URI or open.spotify.com URL"
        )
    return text


def endpoint_of(method: str, url: str) -> str:
    """`GET /v1/tracks/{id}` for `https://api.spotify.com/v1/tracks/4iV5W9uYEdYUVa79Axb7Rh?market=ES`."""
    path = re.sub(r"^https?://[^/]+", "", url.split("?", 1)[0])
    return f"{method} {_ID_IN_PATH.sub('/{id}', path)}"


class SpotifyClient:
    """spotipy with the retry policy a long-running loader needs.

    spotipy's own urllib3 retries are bypassed (it is handed a plain `requests.Session`):
    they sleep through hour-long `Retry-After`s and report exhausted 5xx retries as 429.
    Here 429s wait only up to `max_retry_after` seconds and otherwise raise
    `RateLimitedError`; 5xx, resets and timeouts are retried with jittered backoff; a 401
    refreshes the token once.

    Args:
        client_id: Spotify app client id.
        client_secret: Spotify app client secret.
        api_url: Base of the Web API (the sandbox or a proxy in place of Spotify's).
        token_url: The accounts service token endpoint.
        max_retry_after: Longest `Retry-After` (seconds) waited out inside the run.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_url: str = settings.API_URL,
        token_url: str = settings.TOKEN_URL,
        max_retry_after: float = settings.MAX_RETRY_AFTER_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_retry_after = max_retry_after
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        session = requests.Session()
        session.hooks["response"].append(self._observe)
        self._auth = SpotifyClientCredentials(
            client_id,
            client_secret,
            requests_session=session,
            requests_timeout=settings.REQUEST_TIMEOUT_S,
            cache_handler=MemoryCacheHandler(),
        )
        self._auth.OAUTH_TOKEN_URL = token_url
        self.spotipy = spotipy.Spotify(
            auth_manager=self._auth,
            requests_session=session,
            requests_timeout=settings.REQUEST_TIMEOUT_S,
        )
        self.spotipy.prefix = api_url.rstrip("/") + "/"

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.requests[endpoint_of(response.request.method or "GET", response.url)] += 1
            self.statuses[response.status_code] += 1
        self._local.date = response.headers.get("Date")

    def response_time(self) -> datetime:
        """When the last response on this thread was produced, by the server's `Date` header.

        Observations are dated by the API's clock, not the machine's, so a run is dated the
        same wherever it runs (and a simulated sandbox day is honoured).
        """
        header = getattr(self._local, "date", None)
        if header:
            try:
                return parsedate_to_datetime(header).astimezone(UTC)
            except (TypeError, ValueError):
                logger.debug("unparseable Date header %r", header)
        return datetime.now(UTC)

    def call(self, endpoint: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a spotipy method with this client's retry policy.

        Raises:
            SpotifyApiError: for 4xx answers other than 429 (after one token refresh on 401).
            RateLimitedError: when Spotify asks to wait longer than `max_retry_after`.
        """
        refreshed = False
        for attempt in range(1, settings.MAX_ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except spotipy.SpotifyException as error:
                status = error.http_status
                if status == 429:
                    retry_after = float((error.headers or {}).get("Retry-After", 1))
                    reason = getattr(error, "reason", None)
                    if retry_after > self.max_retry_after:
                        raise RateLimitedError(endpoint, retry_after, reason) from None
                    logger.info("%s: 429, waiting %.0f s", endpoint, retry_after)
                    self._sleep(retry_after)
                    continue
                if status == 401 and not refreshed:
                    refreshed = True
                    self._auth.cache_handler.save_token_to_cache(None)
                    continue
                if status is not None and 400 <= status < 500:
                    raise SpotifyApiError(status, endpoint, str(error.msg).split(":\n", 1)[-1].strip()) from None
                failure: str = f"HTTP {status}"
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
                failure = type(error).__name__
            if attempt == settings.MAX_ATTEMPTS:
                raise SpotifyApiError(599, endpoint, f"gave up after {attempt} attempts ({failure})")
            delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311 (jitter, not crypto)
            logger.info("%s: %s, retrying in %.1f s (attempt %d)", endpoint, failure, delay, attempt)
            self._sleep(delay)
        raise AssertionError("unreachable")
