"""Walks what an app can see from what is tracked, spending as few requests as the API allows.

Discovery is a graph (playlists, searches and the user's library give tracks; tracks give
albums and artists; artists give albums; albums give tracks), so one crawler with ordered
stages does it rather than a tree of transformers: every resource asks the crawler for its
table, and the stages run once, each in a module of its own (`library`, `playlists`, `search`,
`discography`, `entities`) on a shared `Crawl`.

Economy, from the pipeline state and the freshness index (both live with the raw zone):
- per UTC day, each playlist is snapshotted, each artist's discography listed, each query
  searched and the user's top lists and library read once; recently played is read every run,
  from the last play seen. A tracked id Spotify refuses is reported every run, asked once a day;
- an entity's metadata is fetched again only when older than its refresh window (a week in
  development mode, a day with extended quota), and never twice in a run; an entity that
  arrives in full inside another answer (a track in a playlist) costs nothing;
- the tier is decided once a day from what the endpoints allow (`tier`); with extended quota
  entities come in batches.
A 429 with a `Retry-After` above the run's cap stops the crawl: what was collected is kept,
the cooldown is recorded in the state, and the next run resumes what is still missing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from ingestion.spotify import answers
from ingestion.spotify.answers import Ref
from ingestion.spotify.crawl import Crawl, Skipped
from ingestion.spotify.discography import crawl_discographies
from ingestion.spotify.entities import fetch_entities
from ingestion.spotify.freshness import Freshness, refresh_windows
from ingestion.spotify.helpers import RateLimitedError, RunStoppedError, SpotifyClient
from ingestion.spotify.library import crawl_user
from ingestion.spotify.options import TIERS, CrawlOptions, Tracked
from ingestion.spotify.planner import plan
from ingestion.spotify.playlists import crawl_playlists
from ingestion.spotify.search import crawl_searches
from ingestion.spotify.state import ENTITY_KINDS

logger = logging.getLogger(__name__)

__all__ = ["TIERS", "CatalogCrawler", "CrawlOptions", "Skipped", "Tracked"]

# In this order: the user's listening first (recently played keeps only 50), then what tracking
# reaches, then the entities all of those named.
STAGES: tuple[Callable[[Crawl], None], ...] = (
    crawl_user,
    crawl_playlists,
    crawl_searches,
    crawl_discographies,
    lambda crawl: fetch_entities(crawl, "album"),
    lambda crawl: fetch_entities(crawl, "track"),
    lambda crawl: fetch_entities(crawl, "artist"),
)


def _source_state() -> dict[str, Any]:
    return dlt.current.source_state().setdefault("crawler", {})


class CatalogCrawler:
    """Fetches what `tracked` reaches and keeps the rows of each table for the resources.

    Args:
        client: The Spotify client.
        tracked: What to follow.
        options: How to crawl.
        state: Where to remember what was done when; by default the dlt source state.
    """

    def __init__(
        self,
        client: SpotifyClient,
        tracked: Tracked,
        options: CrawlOptions | None = None,
        state: Callable[[], dict[str, Any]] = _source_state,
    ) -> None:
        self.client = client
        self.tracked = tracked
        self.options = options or CrawlOptions()
        self.stopped: RunStoppedError | None = None
        self.crawl = Crawl(client, tracked, self.options, state)
        self._crawled = False

    # what the run reports --------------------------------------------------------------------

    @property
    def skipped(self) -> list[Skipped]:
        return self.crawl.skipped

    @property
    def nulls(self) -> Counter[str]:
        return self.crawl.nulls

    @property
    def tier(self) -> str | None:
        return self.crawl.tier

    @property
    def tier_reason(self) -> str | None:
        return self.crawl.tier_reason

    @property
    def now(self) -> datetime | None:
        return self.crawl.now

    @property
    def freshness(self) -> Freshness:
        """When each entity was last fetched: what the run was given, and what it fetched."""
        return self.crawl.freshness

    @freshness.setter
    def freshness(self, value: Freshness) -> None:
        self.crawl.freshness = value

    @property
    def refresh_windows(self) -> dict[str, int]:
        """Per kind, the longest refresh window this run may apply: the freshness it needs goes back as far."""
        return refresh_windows(self.options)

    @property
    def today(self) -> int:
        """Spotify's UTC day number of this run (once `start` dated it)."""
        return self.crawl.today

    def start(self) -> datetime:
        """Get a token; the accounts service's answer dates the run (Spotify's clock, UTC)."""
        if self.crawl.now is None:
            self.crawl.now = self.client.authenticate()
        return self.crawl.now

    def plan(self) -> list[tuple[str, int]]:
        """What a run would fetch now and the fewest requests it costs, from the state alone."""
        crawl = self.crawl
        crawl.now = crawl.now or datetime.now(UTC)
        return plan(crawl.state, self.tracked, self.options, self.client.has_user, crawl.today)

    # the table the resources ask for ----------------------------------------------------------

    def table(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of table `name`, crawling first if this run has not yet."""
        self._run()
        with self.crawl.lock:
            rows = self.crawl.rows.pop(name, [])
        yield from rows

    def _run(self) -> None:
        with self.crawl.lock:
            if self._crawled:
                return
            self._crawled = True
        now = self.start()
        state = self.crawl.state
        cooldown = state.cooldown_until
        if cooldown and cooldown <= now:
            state.cooldown_until = None
        self._restore_backlog()
        self.crawl.report_refused_today({f"album:{a}": ("album", a) for a in self.tracked.albums})
        for album_id in self.tracked.albums:
            self.crawl.want("album", album_id)
        for stage in STAGES:
            try:
                stage(self.crawl)
            except RunStoppedError as error:
                self._stop(error)
                break
        self._save_backlog()

    def _stop(self, error: RunStoppedError) -> None:
        logger.warning("stopping the run: %s", error)
        self.stopped = error
        if isinstance(error, RateLimitedError):
            self.crawl.state.cooldown_until = error.server_time + timedelta(seconds=error.retry_after)

    def _restore_backlog(self) -> None:
        """Entities an earlier, stopped run discovered but did not get to fetch."""
        backlog = self.crawl.state.take_backlog()
        for kind in ENTITY_KINDS:
            # A list of ids is the form of state written before mentions were kept.
            pending = answers.as_dict(backlog.get(kind)) or dict.fromkeys(answers.as_list(backlog.get(kind)))
            for entity_id, mention in pending.items():
                self.crawl.want(kind, Ref.from_state(kind, entity_id, mention))
        self.crawl.expand_albums.update(dict.fromkeys(backlog.get("expand", [])))

    def _save_backlog(self) -> None:
        crawl = self.crawl
        backlog: dict[str, Any] = {}
        for kind in ENTITY_KINDS:
            # With what the answers said of each, so an entity Spotify then withholds keeps it.
            backlog[kind] = {i: crawl.mention(kind, i).to_state() for i in crawl.pending(kind)}
        # An album fetched within its window was expanded then: listing it would grow the state with discographies.
        backlog["expand"] = [
            a for a in crawl.expand_albums if not crawl.in_hand("album", a) and not crawl.is_fresh("album", a)
        ]
        crawl.state.put_backlog(backlog)
