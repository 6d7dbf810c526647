"""The tracked searches: each query's ranked results, read once a UTC day."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ingestion.spotify import answers, settings
from ingestion.spotify.crawl import Crawl
from ingestion.spotify.tier import decide_tier

ENDPOINT = "GET /v1/search"


def crawl_searches(crawl: Crawl) -> None:
    """Run each tracked query not yet searched today."""
    due = crawl.due("search", "search", crawl.tracked.queries)
    if due:
        decide_tier(crawl)  # the page size depends on it
    crawl.for_each(lambda query: search(crawl, query), due)


def search(crawl: Crawl, query: str) -> None:
    depth = crawl.options.search_depth
    ranked = _ranked_items(crawl, query, min(settings.SEARCH_PAGE[crawl.page_tier()], depth))
    if ranked is None:
        return
    observed_at, items_by_kind = ranked
    for kind, items in items_by_kind.items():
        key = {"query": query, "result_type": kind}
        for row, item in answers.ranked("search_results", key, items[:depth], kind, observed_at):
            crawl.emit("search_results", row)
            if kind == "track":
                crawl.add_track(item, observed_at)
            elif kind == "artist":
                crawl.add_artist(item, observed_at)
            else:
                crawl.want("album", answers.ref("album", item))
    crawl.state.mark_done(f"search:{query}", crawl.today)


def _ranked_items(crawl: Crawl, query: str, limit: int) -> tuple[Any, dict[str, list[Any]]] | None:
    """(when, results per kind in Spotify's order) over as many pages as the depth needs; None if refused."""
    ranked: dict[str, list[Any]] = defaultdict(list)
    observed_at = None
    for offset in range(0, crawl.options.search_depth, limit):
        answer = crawl.fetch(
            "search",
            query,
            ENDPOINT,
            crawl.client.spotipy.search,
            query,
            limit=limit,
            offset=offset,
            type=",".join(settings.SEARCH_TYPES),
            market=crawl.options.market,
        )
        if answer is None:
            return None
        observed_at = observed_at or crawl.client.response_time()
        more = False
        for kind in settings.SEARCH_TYPES:
            page = answers.as_dict(answer).get(f"{kind}s")
            items = answers.as_list(answers.page_items(page))
            crawl.count_nulls(ENDPOINT, answers.count_nulls(items))
            ranked[kind].extend(items)
            more = more or bool(answers.next_url(page))
        if not more:
            break
    if observed_at is None:  # a search depth of 0 asks for nothing
        return None
    return observed_at, ranked
