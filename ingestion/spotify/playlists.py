"""The tracked playlists: snapshotted once a UTC day, every entry a row."""

from __future__ import annotations

from ingestion.spotify import answers
from ingestion.spotify.crawl import Crawl

NOT_READABLE = "items not readable by this app (development mode: only playlists you own or collaborate on)"


def crawl_playlists(crawl: Crawl) -> None:
    """Snapshot each tracked playlist not yet snapshotted today."""
    due = crawl.due("playlist", "playlist", crawl.tracked.playlists)
    crawl.for_each(lambda playlist_id: snapshot(crawl, playlist_id), due)


def snapshot(crawl: Crawl, playlist_id: str) -> None:
    """A playlist's metadata and every entry, with the tracks they hold."""
    payload = crawl.fetch_tracked(
        "playlist",
        "playlist",
        playlist_id,
        "GET /v1/playlists/{id}",
        crawl.client.spotipy.playlist,
        playlist_id,
        market=crawl.options.market,
        additional_types=("track", "episode"),
    )
    if payload is None:
        return
    observed_at = crawl.client.response_time()
    row, first_page, readable = answers.playlist(payload, playlist_id, observed_at)
    crawl.emit("playlists", row)
    if not readable:
        crawl.refuse("playlist", "playlist", playlist_id, NOT_READABLE)
        return
    entries = crawl.pages("playlist", playlist_id, "GET /v1/playlists/{id}/items", first_page)
    if entries is None:
        return
    for position, entry in enumerate(entries):
        item_row, track = answers.playlist_entry(entry, playlist_id, position, observed_at)
        crawl.emit("playlist_items", item_row)
        if track is not None:
            crawl.add_track(track, observed_at)
    crawl.finish("playlist", playlist_id, len(entries))
