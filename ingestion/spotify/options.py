"""What to crawl and how: the validated configuration a crawler is built from."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.spotify import settings

TIERS = ("auto", "development", "extended")


@dataclass(frozen=True)
class Tracked:
    """What the user asked to follow, as validated ids and queries."""

    playlists: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    albums: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()


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
