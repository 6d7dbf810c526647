"""Which quota tier this app has, decided once a day from what the endpoints allow.

One batch request (`GET /v1/artists?ids=`) tells: extended quota answers it, a development-mode
app is refused. Objects' fields cannot tell: within one run some carry `popularity` and others
(old or unavailable tracks) do not.
"""

from __future__ import annotations

from ingestion.spotify import answers
from ingestion.spotify.crawl import Crawl
from ingestion.spotify.helpers import SpotifyApiError

PROBE = "GET /v1/artists"


def decide_tier(crawl: Crawl) -> None:
    """Settle `crawl.tier`, unless configured or decided earlier today; one request at most."""
    if crawl.tier is not None:
        return
    state = crawl.state
    if state.tier_decided_on(crawl.today) and state.tier in ("development", "extended"):
        crawl.tier, crawl.tier_reason = state.tier, "decided earlier today"
        return
    probe = _probe_id(crawl)
    if probe is None:
        return  # nothing to ask about yet; development's page sizes meanwhile
    try:
        answer = crawl.client.call(PROBE, crawl.client.spotipy.artists, [probe])
    except SpotifyApiError as error:
        if error.status not in (403, 404):
            raise
        crawl.client.refuse(PROBE)
        crawl.set_tier("development", f"{PROBE} refused ({error.status})")
        return
    crawl.set_tier("extended", f"{PROBE} answered")
    observed_at = crawl.client.response_time()
    for artist in crawl.items(PROBE, answers.as_dict(answer).get("artists")):
        crawl.add_artist(artist, observed_at)


def _probe_id(crawl: Crawl) -> str | None:
    """An artist worth asking for anyway: a tracked one, one the answers named, one in hand."""
    candidates = [*crawl.tracked.artists, *crawl.wanted("artist")]
    return candidates[0] if candidates else None
