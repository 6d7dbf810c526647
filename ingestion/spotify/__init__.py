"""The `spotify` dlt source: what a Spotify app can see of tracked playlists and artists.

Tables are flat and declared up front (`settings.TABLES`); entity tables hold the latest
state (merge on the entity id) and `*_observations` / `playlist_items` hold one row per entity
per UTC day, so popularity can be followed over time and a second run on the same day
replaces that day's rows instead of adding to them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import dlt
from dlt.sources import DltResource

from ingestion.spotify import settings
from ingestion.spotify.crawler import CatalogCrawler, Tracked
from ingestion.spotify.helpers import ConfigurationError, SpotifyClient, parse_spotify_id


def parse_tracked(playlists: Sequence[str] | str | None, artists: Sequence[str] | str | None) -> Tracked:
    """Validate the configured ids before any request is sent.

    Raises:
        ConfigurationError: naming the first malformed id or URL and the setting it is in.
    """

    def as_list(value: Sequence[str] | str | None) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            # From the environment: a JSON list (what dlt documents) or comma-separated ids.
            if value.strip().startswith("["):
                try:
                    return list(json.loads(value))
                except json.JSONDecodeError as error:
                    raise ConfigurationError(f"not a JSON list of ids: {value!r} ({error})") from None
            return [v for v in value.replace(",", " ").split() if v]
        return list(value)

    tracked = Tracked(
        playlists=tuple(
            dict.fromkeys(parse_spotify_id(v, "playlist", "sources.spotify.playlists") for v in as_list(playlists))
        ),
        artists=tuple(
            dict.fromkeys(parse_spotify_id(v, "artist", "sources.spotify.artists") for v in as_list(artists))
        ),
    )
    if not tracked.playlists and not tracked.artists:
        raise ConfigurationError("nothing to track: set sources.spotify.playlists and/or sources.spotify.artists")
    return tracked


@dlt.source(name="spotify", max_table_nesting=0)
def spotify(
    playlists: Sequence[str] | None = dlt.config.value,
    artists: Sequence[str] | None = dlt.config.value,
    client_id: str = dlt.secrets.value,
    client_secret: str = dlt.secrets.value,
    api_url: str = settings.API_URL,
    token_url: str = settings.TOKEN_URL,
    market: str | None = None,
    max_retry_after: float = settings.MAX_RETRY_AFTER_S,
) -> list[DltResource]:
    """Playlists, tracks, albums and artists reachable from the tracked playlists and artists.

    Args:
        playlists: Playlist ids, URIs or open.spotify.com URLs to snapshot every run.
        artists: Artist ids, URIs or URLs whose discographies (albums, their tracks) to load.
        client_id: Spotify app client id (a secret: `.dlt/secrets.toml` or the environment).
        client_secret: Spotify app client secret.
        api_url: Web API base URL; point it at `tunelake sandbox` or a proxy.
        token_url: Accounts service token URL.
        market: ISO country code for market-dependent answers.
        max_retry_after: Longest Retry-After (s) the run waits out before stopping.

    Returns:
        One resource per table in `settings.TABLES`.
    """
    tracked = parse_tracked(playlists, artists)
    client = SpotifyClient(client_id, client_secret, api_url, token_url, max_retry_after=max_retry_after)
    return spotify_resources(CatalogCrawler(client, tracked, market))


def spotify_resources(crawler: CatalogCrawler) -> list[DltResource]:
    """One merge resource per table in `settings.TABLES`, all fed by one crawler.

    Use this instead of the `spotify` source to keep a handle on the crawler (its client's
    request counters and the ids it skipped) for a run summary.
    """
    return [
        dlt.resource(
            crawler.table(name),
            name=name,
            primary_key=spec["primary_key"],
            write_disposition="merge",
            columns=spec["columns"],
        )
        for name, spec in settings.TABLES.items()
    ]


__all__ = ["CatalogCrawler", "ConfigurationError", "SpotifyClient", "parse_tracked", "spotify", "spotify_resources"]
