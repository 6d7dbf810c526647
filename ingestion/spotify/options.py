"""What to crawl and how: the configuration a crawler is built from, validated in one place."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.errors import ConfigurationError
from ingestion.spotify import settings
from ingestion.spotify.helpers import parse_spotify_id

TIERS = ("auto", "development", "extended")


@dataclass(frozen=True)
class Tracked:
    """What the user asked to follow, as validated ids and queries."""

    playlists: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    albums: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()

    def by_kind(self) -> dict[str, tuple[str, ...]]:
        """The tracked ids per kind, as a skipped id names its kind (`search` for a query)."""
        return {"playlist": self.playlists, "artist": self.artists, "album": self.albums, "search": self.queries}


@dataclass(frozen=True)
class CrawlOptions:
    """How to crawl.

    Args:
        market: ISO country code for market-dependent answers (relinking needs one).
        tier: `auto` (decided once a day from what the endpoints allow), `development` or `extended`.
        refresh_days: Days before an entity's metadata is fetched again, per kind; defaults per tier.
        search_depth: Results read per tracked query and type.
    """

    market: str | None = None
    tier: str = "auto"
    refresh_days: dict[str, int] | None = None
    search_depth: int = settings.SEARCH_DEPTH


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
