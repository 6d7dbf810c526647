"""The Spotify client: auth, rate, concurrency, retries and response dates, on top of spotipy."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
import spotipy
import tenacity
from requests.adapters import HTTPAdapter
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth, SpotifyOauthError, SpotifyPKCE

from ingestion.errors import ConfigurationError
from ingestion.spotify import redaction, settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_URI = re.compile(r"^spotify:(?P<kind>[a-z]+):(?P<id>[^:]+)$")
_URL = re.compile(r"^https?://open\.spotify\.com/(?:intl-[a-z]{2}/)?(?P<kind>[a-z]+)/(?P<id>[^/?#]+)")
_ID_IN_PATH = re.compile(r"/[0-9A-Za-z]{22}(?=/|$)")


class SpotifyApiError(Exception):
    """Spotify answered with an error status for one endpoint."""

    def __init__(self, status: int, endpoint: str, message: str) -> None:
        super().__init__(f"{endpoint} answered {status}: {message}")
        self.status = status
        self.endpoint = endpoint


class EndpointUnavailableError(SpotifyApiError):
    """The endpoint refused this app earlier in the run (its tier lacks it): not asked again."""


class RunStoppedError(Exception):
    """The run must end now: it keeps what it collected, and the next run resumes."""


class RateLimitedError(RunStoppedError):
    """Spotify asked to wait longer than the run is willing to (`retry_after` seconds)."""

    def __init__(self, endpoint: str, retry_after: float, reason: str | None, server_time: datetime) -> None:
        super().__init__(f"{endpoint} is rate limited for {retry_after:.0f} s ({reason or 'rolling window'})")
        self.endpoint = endpoint
        self.retry_after = retry_after
        self.reason = reason
        self.server_time = server_time


class OutOfTimeError(RunStoppedError):
    """The run's time budget is spent (a Lambda nearing its timeout), before `endpoint`."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"the run's time budget was spent before {endpoint}")
        self.endpoint = endpoint


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
    path = re.sub(r"^https?://[^/]+", "", url.split("?", 1)[0]).rstrip("/")
    return f"{method} {_ID_IN_PATH.sub('/{id}', path)}"


class RateLimiter:
    """Spaces requests to at most `per_second`, shared by every worker thread."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class SpotifyClient:
    """spotipy with the request policy a long-running loader needs.

    spotipy's own urllib3 retries are bypassed (it is handed a plain `requests.Session`):
    they sleep through hour-long `Retry-After`s and report exhausted 5xx retries as 429.
    Here 429s wait only up to `max_retry_after` seconds and otherwise raise
    `RateLimitedError`; 5xx, resets and timeouts are retried with jittered backoff; a 401
    refreshes the token once. Requests go out from `workers` threads at most
    `requests_per_second`. With a refresh token the client acts for the user (authorization
    code flow; PKCE when there is no client secret), otherwise with client credentials.

    Args:
        client_id: Spotify app client id.
        client_secret: Spotify app client secret (may be empty with a PKCE refresh token).
        api_url: Base of the Web API (the sandbox or a proxy in place of Spotify's).
        token_url: The accounts service token endpoint.
        refresh_token: A user's refresh token, for the endpoints under `/me`.
        max_retry_after: Longest `Retry-After` (seconds) waited out inside the run.
        requests_per_second: Most requests sent per second, all threads together.
        workers: Requests in flight at once.
        retry_base: First backoff (seconds) after a 5xx, reset or timeout; doubles each time.
        on_response: Called after every answer (a progress bar).
        deadline: `time.monotonic()` after which no request is sent (`OutOfTimeError`); None: no limit.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str | None,
        api_url: str = settings.API_URL,
        token_url: str = settings.TOKEN_URL,
        refresh_token: str | None = None,
        max_retry_after: float = settings.MAX_RETRY_AFTER_S,
        requests_per_second: float = settings.REQUESTS_PER_SECOND,
        workers: int = settings.WORKERS,
        retry_base: float = settings.RETRY_BASE_S,
        on_response: Callable[[], object] | None = None,
        deadline: float | None = None,
    ) -> None:
        redaction.install()
        self.max_retry_after = max_retry_after
        self.retry_base = retry_base
        # Full jitter on doubling waits, from `retry_base` up to 30 s.
        self._backoff = tenacity.wait_random_exponential(multiplier=retry_base, max=30)
        self.workers = max(1, workers)
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.refused: set[str] = set()
        self.has_user = bool(refresh_token)
        self.on_response = on_response
        self.deadline = deadline
        self._limiter = RateLimiter(requests_per_second)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._auth_lock = threading.Lock()
        session = requests.Session()
        session.mount("http://", HTTPAdapter(pool_maxsize=self.workers * 2))
        session.mount("https://", HTTPAdapter(pool_maxsize=self.workers * 2))
        session.hooks["response"].append(self._observe)
        self._auth = self._auth_manager(client_id, client_secret, refresh_token, session)
        self._auth.OAUTH_TOKEN_URL = token_url
        self.spotipy = spotipy.Spotify(
            auth_manager=self._auth, requests_session=session, requests_timeout=settings.REQUEST_TIMEOUT_S
        )
        self.spotipy.prefix = api_url.rstrip("/") + "/"

    @staticmethod
    def _auth_manager(
        client_id: str, client_secret: str | None, refresh_token: str | None, session: requests.Session
    ) -> SpotifyClientCredentials | SpotifyOAuth | SpotifyPKCE:
        timeout = settings.REQUEST_TIMEOUT_S
        if not refresh_token:
            return SpotifyClientCredentials(
                client_id,
                client_secret,
                requests_session=session,
                requests_timeout=timeout,
                cache_handler=MemoryCacheHandler(),
            )
        # An expired token with the refresh token: the first request refreshes it.
        cache = MemoryCacheHandler(
            {
                "access_token": "",
                "expires_at": 0,
                "refresh_token": refresh_token,
                "scope": " ".join(settings.USER_SCOPES),
            }
        )
        common = {
            "redirect_uri": settings.REDIRECT_URI,
            "scope": " ".join(settings.USER_SCOPES),
            "open_browser": False,
            "cache_handler": cache,
            "requests_session": session,
            "requests_timeout": timeout,
        }
        if client_secret:
            return SpotifyOAuth(client_id, client_secret, **common)
        return SpotifyPKCE(client_id, **common)

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.requests[endpoint_of(response.request.method or "GET", response.url)] += 1
            self.statuses[response.status_code] += 1
        self._local.date = response.headers.get("Date")
        if self.on_response:
            self.on_response()

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

    def authenticate(self) -> datetime:
        """Get a token now (one request) and return the accounts service's time.

        Raises:
            ConfigurationError: when Spotify refuses the credentials.
        """
        try:
            with self._auth_lock:
                if isinstance(self._auth, SpotifyPKCE):
                    self._auth.get_access_token(check_cache=True)
                else:
                    self._auth.get_access_token(as_dict=False)
        except SpotifyOauthError as error:
            # The error names the grant problem; it never echoes the secret or the token.
            raise ConfigurationError(
                f"Spotify refused the credentials: {error.error}: {error.error_description}"
            ) from None
        return self.response_time()

    def call(self, endpoint: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a spotipy method with this client's rate, retry and refusal policy.

        Retries (tenacity): a 429 whose `Retry-After` is within `max_retry_after` waits that
        long; 5xx answers, resets, truncated bodies and timeouts back off exponentially with
        jitter from `retry_base`; a 401 refreshes the token once. Every attempt waits its turn
        under `requests_per_second` and checks the run's `deadline`.

        Raises:
            EndpointUnavailableError: when `endpoint` refused this app earlier in the run.
            SpotifyApiError: for 4xx answers other than 429 (after one token refresh on 401),
                and with status 599 when the retries ran out.
            RateLimitedError: when Spotify asks to wait longer than `max_retry_after`.
            OutOfTimeError: when `deadline` has passed (no request is sent).
        """
        if endpoint in self.refused:
            raise EndpointUnavailableError(403, endpoint, "refused earlier in this run")
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(settings.MAX_ATTEMPTS),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_RetryableError),
            before_sleep=lambda retry: logger.info(
                "%s: %s (attempt %d)",
                endpoint,
                retry.outcome.exception() if retry.outcome else "",
                retry.attempt_number,
            ),
            reraise=True,
        )
        refreshed: list[bool] = []
        try:
            return retrying(self._attempt, endpoint, refreshed, fn, *args, **kwargs)
        except _RetryableError as error:
            raise SpotifyApiError(599, endpoint, f"gave up after {settings.MAX_ATTEMPTS} attempts ({error})") from None

    def _attempt(self, endpoint: str, refreshed: list[bool], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One request; what is worth another attempt raises `_RetryableError`, the rest as `call` says."""
        self._limiter.wait()
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise OutOfTimeError(endpoint)
        try:
            return fn(*args, **kwargs)
        except spotipy.SpotifyException as error:
            status = error.http_status
            if status == 429:
                retry_after = float((error.headers or {}).get("Retry-After", 1))
                if retry_after > self.max_retry_after:
                    raise RateLimitedError(endpoint, retry_after, error.reason, self.response_time()) from None
                raise _RetryableError("HTTP 429", wait=retry_after) from None
            if status == 401 and not refreshed:
                refreshed.append(True)
                with self._auth_lock:
                    self._auth.cache_handler.save_token_to_cache(self._expired_token())
                raise _RetryableError("HTTP 401, token refreshed", wait=0.0) from None
            if status is not None and 400 <= status < 500:
                raise SpotifyApiError(status, endpoint, str(error.msg).split(":\n", 1)[-1].strip()) from None
            raise _RetryableError(f"HTTP {status}") from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            raise _RetryableError(type(error).__name__) from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds before the next attempt: what Spotify asked for, else jittered exponential backoff."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.wait is not None:
            return error.wait
        return self._backoff(state)

    def _expired_token(self) -> dict[str, Any] | None:
        cached = self._auth.cache_handler.get_cached_token()
        if cached and cached.get("refresh_token"):
            return {**cached, "expires_at": 0}
        return None

    def refuse(self, endpoint: str) -> None:
        """Send `endpoint` no more requests this run."""
        with self._lock:
            self.refused.add(endpoint)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R | BaseException]]:
        """`fn` over `items` on the worker threads, in order; a failure is returned, not raised.

        Stops submitting after a `RunStoppedError` (rate limit, time budget), so the run can end
        with what it has.
        """
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            for item in items:
                try:
                    yield item, fn(item)
                except RunStoppedError as error:
                    yield item, error
                    return
                except Exception as error:  # handed back to the caller, who decides
                    yield item, error
            return
        stop = threading.Event()

        def guarded(item: T) -> R | BaseException:
            if stop.is_set():
                return _NOT_RUN
            try:
                return fn(item)
            except RunStoppedError as error:
                stop.set()
                return error
            except Exception as error:
                return error

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="spotify") as pool:
            for item, result in zip(items, pool.map(guarded, items), strict=True):
                if result is _NOT_RUN:
                    continue
                yield item, result


class _RetryableError(Exception):
    """An attempt worth repeating; `wait` is what Spotify asked for (`Retry-After`), if it did."""

    def __init__(self, failure: str, wait: float | None = None) -> None:
        super().__init__(failure)
        self.wait = wait


class _NotRunError(Exception):
    """Marks work skipped after the run was rate limited."""


_NOT_RUN = _NotRunError()
