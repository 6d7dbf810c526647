"""The `spotify` dlt source: everything a Spotify app can see of what you track.

Tables are flat and declared up front (`tables.TABLES`). Entity tables hold the latest
state (merge on the entity id); `playlist_items`, `search_results`, `user_top_items` and the
`*_observations` tables hold one row per entity (or rank) per UTC day, so popularity can be
followed over time and a second run on the same day replaces that day's rows instead of
adding to them; `plays` holds each play once, however often it was seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import dlt
from dlt.sources import DltResource

from ingestion.spotify import settings, tables
from ingestion.spotify.crawler import CatalogCrawler
from ingestion.spotify.helpers import ConfigurationError, SpotifyClient, parse_spotify_id
from ingestion.spotify.options import TIERS, CrawlOptions, Tracked


def _as_list(value: Sequence[str] | str | None, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # From the environment: a JSON list (what dlt documents) or comma-separated values.
        if value.strip().startswith("["):
            try:
                return [str(v) for v in json.loads(value)]
            except json.JSONDecodeError as error:
                raise ConfigurationError(f"{field}: not a JSON list: {value!r} ({error})") from None
        return [v for v in value.replace(",", " ").split() if v]
    return [str(v) for v in value]


def parse_tracked(
    playlists: Sequence[str] | str | None,
    artists: Sequence[str] | str | None,
    albums: Sequence[str] | str | None = None,
    queries: Sequence[str] | str | None = None,
) -> Tracked:
    """Validate what to track before any request is sent.

    Raises:
        ConfigurationError: naming the first malformed id, URL or query and its setting.
    """

    def ids(value: Sequence[str] | str | None, kind: str) -> tuple[str, ...]:
        field = f"sources.spotify.{kind}s"
        return tuple(dict.fromkeys(parse_spotify_id(v, kind, field) for v in _as_list(value, field)))

    # Queries may contain spaces and commas: a string is one query, a list holds several.
    query_list = [queries] if isinstance(queries, str) and not queries.strip().startswith("[") else queries
    cleaned = []
    for query in _as_list(query_list, "sources.spotify.queries"):
        if not query.strip() or len(query) > 200:
            raise ConfigurationError(f"sources.spotify.queries: {query!r} must be 1 to 200 characters")
        cleaned.append(query.strip())
    return Tracked(
        playlists=ids(playlists, "playlist"),
        artists=ids(artists, "artist"),
        albums=ids(albums, "album"),
        queries=tuple(dict.fromkeys(cleaned)),
    )


def check_options(tier: str, requests_per_second: float, workers: int) -> None:
    """Raises ConfigurationError naming the setting when an option is out of range."""
    if tier not in TIERS:
        raise ConfigurationError(f"sources.spotify.tier: {tier!r} is not one of {TIERS}")
    if requests_per_second <= 0:
        raise ConfigurationError(f"sources.spotify.requests_per_second: must be above 0, got {requests_per_second}")
    if workers < 1:
        raise ConfigurationError(f"sources.spotify.workers: must be at least 1, got {workers}")


@dlt.source(name="spotify", max_table_nesting=0)
def spotify(
    playlists: Sequence[str] | None = dlt.config.value,
    artists: Sequence[str] | None = dlt.config.value,
    albums: Sequence[str] | None = None,
    queries: Sequence[str] | None = None,
    client_id: str = dlt.secrets.value,
    client_secret: str | None = dlt.secrets.value,
    refresh_token: str | None = None,
    api_url: str = settings.API_URL,
    token_url: str = settings.TOKEN_URL,
    market: str | None = None,
    tier: str = "auto",
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    workers: int = settings.WORKERS,
    max_retry_after: float = settings.MAX_RETRY_AFTER_S,
) -> list[DltResource]:
    """Playlists, tracks, albums, artists, searches and (with a refresh token) the user's listening.

    Args:
        playlists: Playlist ids, URIs or open.spotify.com URLs to snapshot every day.
        artists: Artist ids, URIs or URLs whose discographies (albums and their tracks) to load.
        albums: Album ids, URIs or URLs to load with their tracks.
        queries: Search queries whose ranked results to record every day.
        client_id: Spotify app client id (a secret: `.dlt/secrets.toml` or the environment).
        client_secret: Spotify app client secret (may be empty with a PKCE refresh token).
        refresh_token: The user's refresh token (`tunelake auth`), for recently played, top
            items, saved tracks and albums, followed artists and own playlists.
        api_url: Web API base URL; point it at `tunelake sandbox` or a proxy.
        token_url: Accounts service token URL.
        market: ISO country code for market-dependent answers.
        tier: `auto`, `development` or `extended`.
        requests_per_second: Most requests per second.
        workers: Requests in flight at once.
        max_retry_after: Longest Retry-After (s) the run waits out before stopping.

    Returns:
        One resource per table in `tables.TABLES`.
    """
    tracked = parse_tracked(playlists, artists, albums, queries)
    check_options(tier, requests_per_second, workers)
    client = SpotifyClient(
        client_id,
        client_secret,
        api_url,
        token_url,
        refresh_token=refresh_token,
        max_retry_after=max_retry_after,
        requests_per_second=requests_per_second,
        workers=workers,
    )
    return spotify_resources(CatalogCrawler(client, tracked, CrawlOptions(market=market, tier=tier)))


def spotify_resources(crawler: CatalogCrawler) -> list[DltResource]:
    """One merge resource per table in `tables.TABLES`, all fed by one crawler.

    Use this instead of the `spotify` source to keep a handle on the crawler (its client's
    request counters, the ids it skipped, whether it stopped) for a run summary.
    """
    return [
        dlt.resource(
            crawler.table(name),
            name=name,
            primary_key=spec["primary_key"],
            write_disposition="merge",
            columns=spec["columns"],
        )
        for name, spec in tables.TABLES.items()
    ]


__all__ = [
    "CatalogCrawler",
    "ConfigurationError",
    "CrawlOptions",
    "SpotifyClient",
    "Tracked",
    "parse_tracked",
    "spotify",
    "spotify_resources",
]
