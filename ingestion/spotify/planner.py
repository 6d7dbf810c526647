"""A dry run's price: what a run would fetch now and the fewest requests it costs, from the state alone."""

from __future__ import annotations

from ingestion.spotify import settings
from ingestion.spotify.options import CrawlOptions, Tracked
from ingestion.spotify.state import ENTITY_KINDS, CrawlState


def _pages(size: int | None, page: int) -> int:
    return 1 if not size or size <= page else 1 + -(-(size - page) // page)


def plan(
    state: CrawlState, tracked: Tracked, options: CrawlOptions, has_user: bool, today: int
) -> list[tuple[str, int]]:
    """(what, requests) lines of a run on day `today`.

    Entities found in today's answers (albums, tracks, artists) cost one request each (a
    batch of 20 or 50 with extended quota) unless fetched within their refresh window; they are
    not known before the answers come, so they are not counted here.
    """
    tier = options.tier if options.tier != "auto" else state.tier or "development"
    lines = [("a token", 1)]
    if options.tier == "auto" and not state.tier_decided_on(today):
        lines.append(("one batch request a day that shows the tier (refused in development mode)", 1))
    playlist_page = 100 if tier == "extended" else settings.PAGE
    due = [p for p in tracked.playlists if not state.done_on(f"playlist:{p}", today)]
    lines.append(
        (
            f"{len(due)} of {len(tracked.playlists)} playlists to snapshot today",
            sum(_pages(state.size(f"playlist:{p}"), playlist_page) for p in due),
        )
    )
    due = [a for a in tracked.artists if not state.done_on(f"discography:{a}", today)]
    lines.append(
        (
            f"{len(due)} of {len(tracked.artists)} discographies to list today",
            sum(_pages(state.size(f"discography:{a}"), settings.ARTIST_ALBUMS_PAGE[tier]) for a in due),
        )
    )
    due = [q for q in tracked.queries if not state.done_on(f"search:{q}", today)]
    per_query = _pages(options.search_depth, settings.SEARCH_PAGE[tier])
    lines.append((f"{len(due)} of {len(tracked.queries)} searches to run today", len(due) * per_query))
    if has_user:
        user = 1 + (0 if state.done_on("user:top", today) else 2 * len(settings.TOP_TIME_RANGES))
        user += sum(0 if state.done_on(f"user:{k}", today) else 1 for k in settings.LIBRARY_KEYS)
        lines.append(("your recently played, and once a day your top items, library, follows and playlists", user))
    backlog = state.backlog()
    waiting = sum(len(backlog.get(kind, [])) for kind in ENTITY_KINDS)
    if waiting:
        batches = tier == "extended"
        cost = sum(
            -(-len(backlog.get(k, [])) // settings.BATCH_SIZE[k]) if batches else len(backlog.get(k, []))
            for k in ENTITY_KINDS
        )
        lines.append((f"{waiting} entities a stopped run left to fetch", cost))
    return lines
