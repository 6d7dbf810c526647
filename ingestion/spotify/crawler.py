"""Walks the catalog from what is tracked and shapes every answer into flat table rows.

Discovery is a graph (playlists give tracks, tracks give albums and artists, artists give
albums, albums give tracks), so it is done by one crawler with memoized stages rather than
a tree of transformers: each entity is fetched at most once per run, whichever resource asks
for it first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingestion.spotify import settings
from ingestion.spotify.helpers import SpotifyApiError, SpotifyClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tracked:
    """What the user asked to follow, as validated ids."""

    playlists: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()


@dataclass
class Skipped:
    """An id that could not be loaded, and why (reported in the run summary)."""

    kind: str
    entity_id: str
    reason: str


def _largest_image(images: list[dict[str, Any]] | None) -> str | None:
    if not images:
        return None
    return max(images, key=lambda image: image.get("width") or 0).get("url")


@dataclass
class CatalogCrawler:
    """Fetches what `tracked` reaches and keeps the rows of each table for the resources."""

    client: SpotifyClient
    tracked: Tracked
    market: str | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    skipped: list[Skipped] = field(default_factory=list)
    _done: set[str] = field(default_factory=set)
    _full_tracks: set[str] = field(default_factory=set)
    _discography_albums: dict[str, None] = field(default_factory=dict)
    _other_albums: dict[str, None] = field(default_factory=dict)
    _album_track_ids: dict[str, None] = field(default_factory=dict)
    _artist_ids: dict[str, None] = field(default_factory=dict)

    def table(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of table `name`, crawling whatever stages it depends on first."""
        stage = {
            "playlists": self._crawl_playlists,
            "playlist_items": self._crawl_playlists,
            "artist_albums": self._crawl_discographies,
            "albums": self._crawl_albums,
            "album_artists": self._crawl_albums,
            "album_observations": self._crawl_albums,
            "tracks": self._crawl_tracks,
            "track_artists": self._crawl_tracks,
            "track_observations": self._crawl_tracks,
            "artists": self._crawl_artists,
            "artist_observations": self._crawl_artists,
        }[name]
        stage()
        yield from self.rows.pop(name, [])

    def _once(self, stage: str) -> bool:
        if stage in self._done:
            return False
        self._done.add(stage)
        return True

    def _fetch(self, kind: str, entity_id: str, endpoint: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One entity; a 400/403/404 is recorded as skipped and gives None, the run goes on."""
        try:
            return self.client.call(endpoint, fn, *args, **kwargs)
        except SpotifyApiError as error:
            if error.status in (400, 403, 404):
                logger.info("skipping %s %s: %s", kind, entity_id, error)
                self.skipped.append(Skipped(kind, entity_id, str(error)))
                return None
            raise

    def _pages(self, kind: str, entity_id: str, endpoint: str, page: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        """Items of a paging object and of every page after it."""
        while page:
            yield from page.get("items") or []
            if not page.get("next"):
                return
            page = self._fetch(kind, entity_id, endpoint, self.client.spotipy.next, page)

    # playlists -------------------------------------------------------------------------------

    def _crawl_playlists(self) -> None:
        if not self._once("playlists"):
            return
        sp = self.client.spotipy
        for playlist_id in self.tracked.playlists:
            playlist = self._fetch(
                "playlist",
                playlist_id,
                "GET /playlists/{id}",
                sp.playlist,
                playlist_id,
                market=self.market,
                additional_types=("track", "episode"),
            )
            if playlist is None:
                continue
            observed_at = self.client.response_time()
            first_page = playlist.get("items") or playlist.get("tracks") or {}
            # A development-mode app gets only {href, total} for playlists it neither owns nor
            # collaborates on; asking for their items would be a guaranteed 403.
            readable = "items" in first_page
            self.rows["playlists"].append(
                {
                    "playlist_id": playlist_id,
                    "name": playlist.get("name"),
                    "description": playlist.get("description"),
                    "owner_id": (playlist.get("owner") or {}).get("id"),
                    "owner_name": (playlist.get("owner") or {}).get("display_name"),
                    "is_public": playlist.get("public"),
                    "is_collaborative": playlist.get("collaborative"),
                    "snapshot_id": playlist.get("snapshot_id"),
                    "total_items": first_page.get("total"),
                    "followers": (playlist.get("followers") or {}).get("total"),
                    "are_items_readable": readable,
                    "observed_at": observed_at,
                }
            )
            if not readable:
                self.skipped.append(
                    Skipped(
                        "playlist",
                        playlist_id,
                        "items not readable by this app (development mode: only playlists you own or collaborate on)",
                    )
                )
                continue
            for position, entry in enumerate(
                self._pages("playlist", playlist_id, "GET /playlists/{id}/items", first_page)
            ):
                self._add_playlist_item(playlist_id, position, entry, observed_at)

    def _add_playlist_item(self, playlist_id: str, position: int, entry: dict[str, Any], observed_at: datetime) -> None:
        item = entry.get("item") or entry.get("track")
        item_type = "missing"
        if item is not None:
            item_type = "local" if entry.get("is_local") or item.get("is_local") else item.get("type", "track")
        self.rows["playlist_items"].append(
            {
                "playlist_id": playlist_id,
                "snapshot_date": observed_at.date(),
                "position": position,
                "item_type": item_type,
                "track_id": item.get("id") if item_type == "track" else None,
                "episode_id": item.get("id") if item_type == "episode" else None,
                "item_name": (item or {}).get("name"),
                "added_at": entry.get("added_at"),
                "added_by_id": (entry.get("added_by") or {}).get("id"),
                "observed_at": observed_at,
            }
        )
        if item_type == "track" and item.get("id"):
            self._add_track(item, observed_at)

    # artists' discographies ------------------------------------------------------------------

    def _crawl_discographies(self) -> None:
        if not self._once("discographies"):
            return
        sp = self.client.spotipy
        for artist_id in self.tracked.artists:
            self._artist_ids.setdefault(artist_id)
            first_page = self._fetch(
                "artist",
                artist_id,
                "GET /artists/{id}/albums",
                sp.artist_albums,
                artist_id,
                include_groups=settings.DISCOGRAPHY_GROUPS,
                limit=settings.ARTIST_ALBUMS_PAGE,
            )
            observed_at = self.client.response_time()
            for album in self._pages("artist", artist_id, "GET /artists/{id}/albums", first_page):
                self._discography_albums.setdefault(album["id"])
                self.rows["artist_albums"].append(
                    {
                        "artist_id": artist_id,
                        "album_id": album["id"],
                        "album_group": album.get("album_group"),
                        "observed_at": observed_at,
                    }
                )

    # albums ----------------------------------------------------------------------------------

    def _crawl_albums(self) -> None:
        self._crawl_playlists()
        self._crawl_discographies()
        if not self._once("albums"):
            return
        sp = self.client.spotipy
        for album_id in dict.fromkeys([*self._discography_albums, *self._other_albums]):
            album = self._fetch("album", album_id, "GET /albums/{id}", sp.album, album_id, market=self.market)
            if album is None:
                continue
            observed_at = self.client.response_time()
            self.rows["albums"].append(
                {
                    "album_id": album_id,
                    "name": album.get("name"),
                    "album_type": album.get("album_type"),
                    "release_date": album.get("release_date"),
                    "release_date_precision": album.get("release_date_precision"),
                    "total_tracks": album.get("total_tracks"),
                    "upc": (album.get("external_ids") or {}).get("upc"),
                    "label": album.get("label"),
                    "popularity": album.get("popularity"),
                    "image_url": _largest_image(album.get("images")),
                    "observed_at": observed_at,
                }
            )
            self.rows["album_observations"].append(
                {
                    "album_id": album_id,
                    "observed_date": observed_at.date(),
                    "popularity": album.get("popularity"),
                    "observed_at": observed_at,
                }
            )
            for position, artist in enumerate(album.get("artists") or []):
                self._artist_ids.setdefault(artist["id"])
                self.rows["album_artists"].append(
                    {"album_id": album_id, "artist_position": position, "artist_id": artist["id"]}
                )
            if album_id in self._discography_albums:
                tracks = self._pages("album", album_id, "GET /albums/{id}/tracks", album.get("tracks"))
                for track in tracks:
                    if track.get("id"):
                        self._album_track_ids.setdefault(track["id"])

    # tracks ----------------------------------------------------------------------------------

    def _add_track(self, track: dict[str, Any], observed_at: datetime) -> None:
        """Rows of a full track object, once per run."""
        track_id = track["id"]
        if track_id in self._full_tracks:
            return
        self._full_tracks.add(track_id)
        album_id = (track.get("album") or {}).get("id")
        if album_id and album_id not in self._discography_albums:
            self._other_albums.setdefault(album_id)
        self.rows["tracks"].append(
            {
                "track_id": track_id,
                "name": track.get("name"),
                "album_id": album_id,
                "duration_ms": track.get("duration_ms"),
                "is_explicit": track.get("explicit"),
                "isrc": (track.get("external_ids") or {}).get("isrc"),
                "disc_number": track.get("disc_number"),
                "track_number": track.get("track_number"),
                "popularity": track.get("popularity"),
                "observed_at": observed_at,
            }
        )
        self.rows["track_observations"].append(
            {
                "track_id": track_id,
                "observed_date": observed_at.date(),
                "popularity": track.get("popularity"),
                "observed_at": observed_at,
            }
        )
        for position, artist in enumerate(track.get("artists") or []):
            if artist.get("id"):
                self._artist_ids.setdefault(artist["id"])
                self.rows["track_artists"].append(
                    {"track_id": track_id, "artist_position": position, "artist_id": artist["id"]}
                )

    def _crawl_tracks(self) -> None:
        self._crawl_albums()
        if not self._once("tracks"):
            return
        sp = self.client.spotipy
        # Album tracks are simplified objects (no ISRC, album or popularity): fetch the full
        # track unless a playlist already delivered it.
        for track_id in self._album_track_ids:
            if track_id in self._full_tracks:
                continue
            track = self._fetch("track", track_id, "GET /tracks/{id}", sp.track, track_id, market=self.market)
            if track is not None:
                self._add_track(track, self.client.response_time())

    # artists ---------------------------------------------------------------------------------

    def _crawl_artists(self) -> None:
        self._crawl_tracks()
        if not self._once("artists"):
            return
        sp = self.client.spotipy
        for artist_id in self._artist_ids:
            artist = self._fetch("artist", artist_id, "GET /artists/{id}", sp.artist, artist_id)
            if artist is None:
                continue
            observed_at = self.client.response_time()
            followers = (artist.get("followers") or {}).get("total")
            self.rows["artists"].append(
                {
                    "artist_id": artist_id,
                    "name": artist.get("name"),
                    "popularity": artist.get("popularity"),
                    "followers": followers,
                    "image_url": _largest_image(artist.get("images")),
                    "observed_at": observed_at,
                }
            )
            self.rows["artist_observations"].append(
                {
                    "artist_id": artist_id,
                    "observed_date": observed_at.date(),
                    "popularity": artist.get("popularity"),
                    "followers": followers,
                    "observed_at": observed_at,
                }
            )
