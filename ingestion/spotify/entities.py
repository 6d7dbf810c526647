"""Albums, tracks and artists by id: what no answer delivered whole, fetched once per refresh window.

With extended quota they come in batches (20 albums, 50 tracks or artists a request); after a
refusal the run fetches one by one. An entity Spotify will not serve (404, 403, a null in a
batch) is kept as a row built from what the answers that mentioned it carried.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ingestion.spotify import answers, settings
from ingestion.spotify.crawl import REFUSALS, Crawl
from ingestion.spotify.helpers import RunStoppedError, SpotifyApiError
from ingestion.spotify.tier import decide_tier

logger = logging.getLogger(__name__)


def fetch_entities(crawl: Crawl, kind: str) -> None:
    """Fetch the wanted entities of `kind`: in batches with extended quota, else one by one."""
    pending = crawl.pending(kind)
    if not pending:
        return
    decide_tier(crawl)
    batch_endpoint = f"GET /v1/{kind}s"
    if crawl.tier == "extended" and batch_endpoint not in crawl.client.refused:
        size = settings.BATCH_SIZE[kind]
        chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
        # The first batch goes alone: if the tier lacks the endpoint, one request learns it.
        for group in (chunks[:1], chunks[1:]):
            if not _fetch_batches(crawl, kind, group):
                break
        if crawl.tier == "extended":
            return
        pending = crawl.pending(kind)
    crawl.for_each(lambda entity_id: fetch_one(crawl, kind, entity_id), pending)


def _fetch_batches(crawl: Crawl, kind: str, chunks: list[list[str]]) -> bool:
    """Fetch `chunks` of ids by batch; False when the endpoint refused (the tier lacks it)."""
    batch_endpoint = f"GET /v1/{kind}s"
    rejected: list[str] = []
    for ids, result in crawl.client.map(lambda ids: _fetch_batch(crawl, kind, ids), chunks):
        if isinstance(result, RunStoppedError):
            raise result
        if isinstance(result, SpotifyApiError) and result.status in (403, 404):
            crawl.client.refuse(batch_endpoint)
            crawl.set_tier("development", f"{batch_endpoint} refused ({result.status})")
            logger.warning("%s refused (%s): fetching one by one from now on", batch_endpoint, result.status)
            return False
        if isinstance(result, SpotifyApiError) and result.status == 400:
            rejected.extend(ids)  # one id the batch did not take: each alone is answered for itself
            continue
        if isinstance(result, BaseException):
            raise result
        observed_at = crawl.client.response_time()
        answered = answers.as_list(result)
        for position, entity_id in enumerate(ids):
            entity = answered[position] if position < len(answered) else None
            if isinstance(entity, dict):
                _add_fetched(crawl, kind, entity_id, entity, observed_at)
            else:
                crawl.count_nulls(batch_endpoint, 1)
                unavailable(crawl, kind, entity_id, f"{batch_endpoint} answered null: unknown id", None)
    crawl.for_each(lambda entity_id: fetch_one(crawl, kind, entity_id), rejected)
    return True


def _fetch_batch(crawl: Crawl, kind: str, ids: list[str]) -> Any:
    sp = crawl.client.spotipy
    fn = {"track": sp.tracks, "album": sp.albums, "artist": sp.artists}[kind]
    kwargs = {} if kind == "artist" else {"market": crawl.options.market}
    answer = crawl.client.call(f"GET /v1/{kind}s", fn, ids, **kwargs)
    return answers.as_dict(answer).get(f"{kind}s")


def fetch_one(crawl: Crawl, kind: str, entity_id: str) -> None:
    sp = crawl.client.spotipy
    fn = {"track": sp.track, "album": sp.album, "artist": sp.artist}[kind]
    kwargs = {} if kind == "artist" else {"market": crawl.options.market}
    endpoint = f"GET /v1/{kind}s/{{id}}"
    try:
        entity = crawl.client.call(endpoint, fn, entity_id, **kwargs)
    except SpotifyApiError as error:
        if error.status not in REFUSALS:
            raise
        unavailable(crawl, kind, entity_id, str(error), error.status)
        return
    _add_fetched(crawl, kind, entity_id, answers.as_dict(entity), crawl.client.response_time())


def _add_fetched(crawl: Crawl, kind: str, entity_id: str, entity: dict[str, Any], observed_at: datetime) -> None:
    if kind == "track":
        crawl.add_track(entity, observed_at, requested_id=entity_id)
    elif kind == "album":
        crawl.add_album(entity, observed_at)
    else:
        crawl.add_artist(entity, observed_at)
    if not crawl.in_hand(kind, entity_id):
        # The answer named another entity (or none): this one is as good as unavailable.
        unavailable(crawl, kind, entity_id, f"GET /v1/{kind}s/{{id}} answered without this id", None)


def unavailable(crawl: Crawl, kind: str, entity_id: str, reason: str, status: int | None) -> None:
    """An entity Spotify will not serve: a row from what mentioned it, not asked again this window."""
    crawl.skip(kind, entity_id, reason)
    reference = crawl.mention(kind, entity_id)
    crawl.settle(kind, entity_id)
    if entity_id in crawl.tracked.albums or entity_id in crawl.tracked.artists:
        crawl.state.refuse(f"{kind}:{entity_id}", crawl.today, reason)
    crawl.emit_all(answers.unavailable(reference, reason, status, crawl.now or crawl.client.response_time()))
    for artist in reference.artists:
        crawl.want("artist", artist)
