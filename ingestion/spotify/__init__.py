"""The `spotify` dlt source: everything a Spotify app can see of what you track.

Tables are flat and declared up front (`tables.TABLES`). Entity tables hold the latest
state (merge on the entity id); `playlist_items`, `search_results`, `user_top_items` and the
`*_observations` tables hold one row per entity (or rank) per UTC day, so popularity can be
followed over time and a second run on the same day replaces that day's rows instead of
adding to them; `plays` holds each play once, however often it was seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigValueCannotBeCoercedException
from dlt.common.typing import TSecretStrValue
from dlt.extract.source import DltSource
from dlt.sources import DltResource

from ingestion.errors import ConfigurationError
from ingestion.spotify import settings, tables
from ingestion.spotify.crawler import CatalogCrawler
from ingestion.spotify.helpers import SpotifyClient
from ingestion.spotify.options import CrawlOptions, Tracked, check_options, parse_tracked


class SpotifySource(DltSource):
    """The `spotify` source, with the crawler that feeds its resources (requests, skipped ids, tier)."""

    crawler: CatalogCrawler


@dlt.source(name="spotify", max_table_nesting=0)
def spotify(
    playlists: Sequence[str] | None = dlt.config.value,
    artists: Sequence[str] | None = dlt.config.value,
    albums: Sequence[str] | None = None,
    queries: Sequence[str] | None = None,
    client_id: str = dlt.secrets.value,
    client_secret: TSecretStrValue | None = None,
    refresh_token: TSecretStrValue | None = None,
    api_url: str = settings.API_URL,
    token_url: str = settings.TOKEN_URL,
    market: str | None = None,
    tier: str = "auto",
    requests_per_second: float = settings.REQUESTS_PER_SECOND,
    workers: int = settings.WORKERS,
    max_retry_after: float = settings.MAX_RETRY_AFTER_S,
    retry_base: float = settings.RETRY_BASE_S,
    on_response: Any = None,
    deadline: float | None = None,
) -> SpotifySource:
    """Playlists, tracks, albums, artists, searches and (with a refresh token) the user's listening.

    Every argument comes from dlt config (`sources.spotify.*` in `.dlt/config.toml` and
    `.dlt/secrets.toml`, or `SOURCES__SPOTIFY__*` in the environment) unless given; the CLI, the
    Lambda and the demo all build their runs here.

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
        retry_base: First backoff (s) after a 5xx, reset or timeout; doubles each time.
        on_response: Called after every answer (a progress bar); not a setting.
        deadline: `time.monotonic()` after which no request is sent (a Lambda's budget); not a setting.

    Returns:
        One append resource per table in `tables.API`, and the crawler behind them.

    Raises:
        ConfigurationError: naming the setting, before any request is sent.
    """
    tracked = parse_tracked(playlists, artists, albums, queries)
    check_options(tier, requests_per_second, workers)
    if not client_secret and not refresh_token:
        raise ConfigurationError(
            "sources.spotify.client_secret is required (or a refresh_token from `tunelake auth --pkce`): "
            ".dlt/secrets.toml or SOURCES__SPOTIFY__CLIENT_SECRET"
        )
    if not (tracked.playlists or tracked.artists or tracked.albums or tracked.queries or refresh_token):
        raise ConfigurationError(
            "nothing to track: set sources.spotify.playlists, artists, albums or queries, "
            "or a refresh_token (tunelake auth) for your own listening"
        )
    client = SpotifyClient(
        client_id,
        client_secret,
        api_url,
        token_url,
        refresh_token=refresh_token,
        max_retry_after=max_retry_after,
        requests_per_second=requests_per_second,
        workers=workers,
        retry_base=retry_base,
        on_response=on_response,
        deadline=deadline,
    )
    crawler = CatalogCrawler(client, tracked, CrawlOptions(market=market, tier=tier))
    source = SpotifySource(dlt.current.source_schema(), "spotify", spotify_resources(crawler))
    source.crawler = crawler
    return source


# What a setting's type asks for, as a person reads it.
EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "Sequence": 'a list, e.g. ["37i9dQZF1DXcBWIGoYBM5M"] (in the environment: a JSON list)',
}


def spotify_from_config(**given: Any) -> SpotifySource:
    """`spotify()` with every argument not `given` from dlt config, its errors naming the setting.

    Raises:
        ConfigurationError: for a missing or malformed setting, before any request is sent.
    """
    try:
        # The decorator's typing says DltSource; the function makes a SpotifySource.
        return cast(SpotifySource, spotify(**given))
    except ConfigFieldMissingException as error:
        missing = " and ".join(f"sources.spotify.{name}" for name in error.fields)
        variables = " / ".join(f"SOURCES__SPOTIFY__{name.upper()}" for name in error.fields)
        raise ConfigurationError(f"{missing} required (.dlt/secrets.toml or {variables})") from None
    except ConfigValueCannotBeCoercedException as error:
        kind = getattr(error.hint, "__name__", str(error.hint))
        expected = EXPECTED.get(kind, f"a {kind}")
        raise ConfigurationError(
            f"sources.spotify.{error.field_name}: expected {expected}, got {error.field_value!r}"
        ) from None


def spotify_resources(crawler: CatalogCrawler) -> list[DltResource]:
    """One resource per table of `tables.API`, all fed by one crawler.

    They append: what the source yields is history (the raw zone keeps every load); the
    warehouse load merges on each table's primary key.
    """
    return [
        dlt.resource(crawler.table(table.name), name=table.name, write_disposition="append", **table.hints())
        for table in tables.API
    ]


__all__ = [
    "CatalogCrawler",
    "ConfigurationError",
    "CrawlOptions",
    "SpotifyClient",
    "SpotifySource",
    "Tracked",
    "parse_tracked",
    "spotify",
    "spotify_from_config",
    "spotify_resources",
]
