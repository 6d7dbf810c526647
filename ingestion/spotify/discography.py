"""The tracked artists' discographies: listed once a UTC day, every album fetched with its tracks."""

from __future__ import annotations

from ingestion.spotify import answers, settings
from ingestion.spotify.crawl import Crawl
from ingestion.spotify.tier import decide_tier

ENDPOINT = "GET /v1/artists/{id}/albums"


def crawl_discographies(crawl: Crawl) -> None:
    """List each tracked artist's albums not yet listed today; the artists themselves are fetched too."""
    for artist_id in crawl.tracked.artists:
        crawl.want("artist", artist_id)
    due = crawl.due("discography", "artist", crawl.tracked.artists)
    if due:
        decide_tier(crawl)  # the page size depends on it
    crawl.for_each(lambda artist_id: discography(crawl, artist_id), due)


def discography(crawl: Crawl, artist_id: str) -> None:
    """One artist's albums: each becomes an `artist_albums` row and is fetched with its tracks."""
    limit = settings.ARTIST_ALBUMS_PAGE[crawl.page_tier()]
    call = crawl.client.spotipy.artist_albums
    first_page = crawl.fetch_tracked(
        "discography",
        "artist",
        artist_id,
        ENDPOINT,
        call,
        artist_id,
        include_groups=settings.DISCOGRAPHY_GROUPS,
        limit=limit,
    )
    if first_page is None:
        return
    observed_at = crawl.client.response_time()
    albums = crawl.pages("artist", artist_id, ENDPOINT, first_page)
    if albums is None:
        return
    for album in albums:
        row = answers.artist_album(album, artist_id, observed_at)
        if row is None:
            continue
        with crawl.lock:
            crawl.expand_albums.setdefault(row["album_id"])
        crawl.want("album", answers.ref("album", album))
        crawl.emit("artist_albums", row)
    crawl.finish("discography", artist_id, len(albums))
