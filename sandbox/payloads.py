"""Spotify Web API JSON objects rendered from the synthetic catalog.

Shapes follow the OpenAPI definition (TrackObject, AlbumObject, ArtistObject, PlaylistObject,
PlaylistTrackObject, EpisodeObject, paging objects). Fields the definition marks deprecated
are what a development-mode app no longer receives; they are rendered only in the extended
tier.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.catalog import EPOCH, SANDBOX_USER_ID, SANDBOX_USER_NAME, Catalog, PlaylistEntry
from sandbox.listener import Play

MARKETS = ["DE", "ES", "FR", "GB", "JP", "SE", "US"]


class PayloadRenderer:
    """Renders catalog entities as Spotify JSON for one tier and one simulated day.

    Args:
        catalog: The synthetic catalog.
        base_url: What `href` and `next` links start with, e.g. `http://127.0.0.1:8765/v1`.
        extended: Whether the app has extended quota (deprecated fields present).
        day: The simulated date, for facts that change over time.
        market: The request's market: tracks unavailable there are relinked (extended quota)
            or marked unplayable (development mode, which lost `linked_from`).
    """

    def __init__(self, catalog: Catalog, base_url: str, extended: bool, day: date, market: str | None = None) -> None:
        self.catalog = catalog
        self.base_url = base_url
        self.extended = extended
        self.day = day
        self.market = market

    # building blocks -------------------------------------------------------------------------

    def _ref(self, kind: str, entity_id: str) -> dict[str, Any]:
        path = {"user": "users", "show": "shows"}.get(kind, f"{kind}s")
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{entity_id}"},
            "href": f"{self.base_url}/{path}/{entity_id}",
            "id": entity_id,
            "type": kind,
            "uri": f"spotify:{kind}:{entity_id}",
        }

    def _images(self, kind_code: int, index: int, entity_id: str) -> list[dict[str, Any]] | None:
        """Three sizes; none as `[]` or, as Spotify also answers, `null`. Playlist mosaics have no sizes."""
        if not self.catalog.has_images(kind_code, index):
            return None if index % 2 else []
        if kind_code == 3:
            return [{"url": f"https://mosaic.scdn.co/640/{entity_id}", "height": None, "width": None}]
        return [
            {"url": f"https://i.scdn.co/image/{entity_id}{size}", "height": size, "width": size}
            for size in (640, 300, 64)
        ]

    def paging(
        self, path: str, items: list[Any], total: int, limit: int, offset: int, query: str = ""
    ) -> dict[str, Any]:
        """A Spotify paging object whose links carry `query` (extra parameters) and the market along."""
        extra = f"&{query}" if query else ""
        if self.market:
            extra += f"&market={self.market}"

        def link(at: int) -> str:
            return f"{self.base_url}{path}?offset={at}&limit={limit}{extra}"

        return {
            "href": link(offset),
            "items": items,
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    # artists ---------------------------------------------------------------------------------

    def simplified_artist(self, artist: int) -> dict[str, Any]:
        artist_id = self.catalog.encode_id("artist", artist)
        return {**self._ref("artist", artist_id), "name": self.catalog.artist_name(artist)}

    def artist(self, artist: int) -> dict[str, Any]:
        payload = self.simplified_artist(artist)
        payload["images"] = self._images(0, artist, payload["id"])
        if self.extended:
            payload["followers"] = {"href": None, "total": self.catalog.artist_followers(artist, self.day)}
            payload["genres"] = self.catalog.artist_genres(artist)
            payload["popularity"] = self.catalog.artist_popularity(artist, self.day)
        return payload

    # albums ----------------------------------------------------------------------------------

    def simplified_album(self, album: int) -> dict[str, Any]:
        album_id = self.catalog.encode_id("album", album)
        release_date, precision = self.catalog.album_release(album)
        payload = {
            "album_type": self.catalog.album_type(album),
            "total_tracks": len(self.catalog.album_tracks(album)),
            **self._ref("album", album_id),
            "images": self._images(1, album, album_id),
            "name": self.catalog.album_name(album),
            "release_date": release_date,
            "release_date_precision": precision,
            "artists": [self.simplified_artist(a) for a in self.catalog.album_artists(album)],
            # Not in the definition, sent anyway.
            "is_playable": not self.catalog.is_restricted_album(album),
        }
        if self.catalog.is_restricted_album(album):
            payload["restrictions"] = {"reason": "market"}
        if self.extended:
            payload["available_markets"] = MARKETS
        return payload

    def album(self, album: int) -> dict[str, Any]:
        payload = self.simplified_album(album)
        first_page = self.album_tracks(album, limit=50, offset=0)
        payload["tracks"] = first_page
        payload["copyrights"] = [{"text": f"(C) {payload['release_date'][:4]} Sandbox Records", "type": "C"}]
        payload["external_ids"] = {"upc": self.catalog.album_upc(album)}
        if self.extended:
            payload["genres"] = []
            payload["label"] = "Sandbox Records"
            payload["popularity"] = self.catalog.album_popularity(album, self.day)
        return payload

    def album_tracks(self, album: int, limit: int, offset: int) -> dict[str, Any]:
        tracks = self.catalog.album_tracks(album)
        items = [self.simplified_track(t) for t in tracks[offset : offset + limit]]
        album_id = self.catalog.encode_id("album", album)
        return self.paging(f"/albums/{album_id}/tracks", items, len(tracks), limit, offset)

    def artist_album(self, album: int, artist: int) -> dict[str, Any]:
        payload = self.simplified_album(album)
        if self.extended:
            owner = self.catalog.album_artist(album) == artist
            payload["album_group"] = payload["album_type"] if owner else "appears_on"
        return payload

    # tracks ----------------------------------------------------------------------------------

    def simplified_track(self, track: int, as_playable: bool = False) -> dict[str, Any]:
        """A track; `as_playable` renders the equivalent a relinked track is answered under, as itself."""
        track_id = self.catalog.encode_id("relink" if as_playable else "track", track)
        album = self.catalog.track_album(track)
        payload = {
            "artists": [self.simplified_artist(a) for a in self.catalog.track_artists(track)],
            "disc_number": 1,
            "duration_ms": self.catalog.track_duration_ms(track),
            "explicit": self.catalog.track_explicit(track),
            **self._ref("track", track_id),
            "is_playable": True,
            "name": self.catalog.track_name(track),
            "track_number": track - self.catalog.album_tracks(album).start + 1,
            "is_local": False,
        }
        if self.market and not as_playable and self.catalog.is_relinked(track):
            if self.extended:
                # Answered under the playable equivalent's id; the id asked for is in `linked_from`.
                payload.update(self._ref("track", self.catalog.encode_id("relink", track)))
                payload["linked_from"] = self._ref("track", track_id)
            else:
                payload["is_playable"] = False
                payload["restrictions"] = {"reason": "market"}
        if self.extended:
            payload["available_markets"] = MARKETS
            payload["preview_url"] = None
        return payload

    def track(self, track: int, as_playable: bool = False, with_album: bool = True) -> dict[str, Any]:
        """A whole track; old tracks in recently played come `with_album=False`, as Spotify sends them."""
        payload = self.simplified_track(track, as_playable)
        if with_album:
            payload["album"] = self.simplified_album(self.catalog.track_album(track))
        payload["external_ids"] = {"isrc": self.catalog.track_isrc(track)}
        if self.extended and not self.catalog.is_legacy_track(track):
            # Tier signs are per field: old tracks lack popularity even with extended quota.
            payload["popularity"] = self.catalog.track_popularity(track, self.day)
        return payload

    @staticmethod
    def _no_album(total_tracks: int | None) -> dict[str, Any]:
        """The album Spotify sends for a track that has none of the catalog's (a local file, a ghost)."""
        return {
            "album_type": None,
            "total_tracks": total_tracks,
            "external_urls": {},
            "href": None,
            "id": None,
            "images": [],
            "name": "",
            "release_date": None,
            "release_date_precision": None,
            "type": "album",
            "uri": None,
            "artists": [],
        }

    def ghost_track(self, ghost: int) -> dict[str, Any]:
        """A track Spotify still lists in a playlist but no longer serves: empty name, duration 0."""
        return {
            "album": self._no_album(total_tracks=0),
            "artists": [],
            "disc_number": 0,
            "duration_ms": 0,
            "explicit": False,
            "external_ids": {},
            **self._ref("track", self.catalog.encode_id("ghost", ghost)),
            "is_local": False,
            "is_playable": False,
            "name": "",
            "track_number": 0,
        }

    def local_track(self, playlist: int) -> dict[str, Any]:
        """A local file in a playlist: no id, no uri of the catalog, `is_local` true."""
        name = f"My Recording {playlist + 1}"
        return {
            "album": self._no_album(total_tracks=None),
            "artists": [{"external_urls": {}, "href": None, "id": None, "name": "", "type": "artist", "uri": None}],
            "disc_number": 0,
            "duration_ms": 201_000,
            "explicit": False,
            "external_ids": {},
            "external_urls": {},
            "href": None,
            "id": None,
            "is_local": True,
            "name": name,
            "track_number": 0,
            "type": "track",
            "uri": f"spotify:local:::{name.replace(' ', '+')}:201",
        }

    def episode(self, episode: int) -> dict[str, Any]:
        episode_id = self.catalog.encode_id("episode", episode)
        show = self.catalog.episode_show(episode)
        show_id = self.catalog.encode_id("show", show)
        released = EPOCH + timedelta(days=episode * 3)
        payload: dict[str, Any] = {
            "description": "A sandbox podcast episode.",
            "html_description": "<p>A sandbox podcast episode.</p>",
            "duration_ms": self.catalog.episode_duration_ms(episode),
            "explicit": False,
            **self._ref("episode", episode_id),
            "images": self._images(4, episode, episode_id),
            "is_externally_hosted": False,
            "is_playable": True,
            "languages": ["en"],
            "name": self.catalog.episode_name(episode),
            "release_date": released.isoformat(),
            "release_date_precision": "day",
            "show": {
                "copyrights": [],
                "description": "Sandbox talk.",
                "html_description": "<p>Sandbox talk.</p>",
                "explicit": False,
                **self._ref("show", show_id),
                "images": [],
                "is_externally_hosted": False,
                "languages": ["en"],
                "media_type": "audio",
                "name": self.catalog.show_name(show),
                "total_episodes": self.catalog.episode_count // self.catalog.show_count,
            },
        }
        if self.extended:
            payload["show"].update(publisher="Sandbox Audio", available_markets=MARKETS)
            payload["audio_preview_url"] = None
            payload["language"] = "en"
        return payload

    # playlists -------------------------------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any]:
        names = {SANDBOX_USER_ID: SANDBOX_USER_NAME, "spotify": "Spotify"}
        return {**self._ref("user", user_id), "display_name": names.get(user_id, user_id)}

    def playlist_item(self, playlist: int, entry: PlaylistEntry) -> dict[str, Any]:
        added_at = datetime.combine(EPOCH + timedelta(days=entry.added_day), time(12), tzinfo=UTC)
        owner = self.catalog.playlist_owner(playlist)
        item: dict[str, Any] | None = None
        if entry.kind == "track":
            # Entry flags sent since 2024, not in the definition.
            item = {**self.track(entry.index), "episode": False, "track": True}
        elif entry.kind == "episode":
            item = {**self.episode(entry.index), "episode": True, "track": False}
        elif entry.kind == "local":
            item = self.local_track(playlist)
        elif entry.kind == "ghost":
            item = self.ghost_track(entry.index)
        editorial = self.catalog.playlist_is_editorial(playlist)
        # Editorial playlists carry no date (the epoch) and no adder; old entries no adder either.
        old = entry.added_day < self.catalog.day_number(self.day) - 300
        adder = {k: v for k, v in self.user(owner).items() if k != "display_name"}
        return {
            "added_at": "1970-01-01T00:00:00Z" if editorial else added_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "added_by": None if editorial or old else adder,
            "is_local": entry.kind == "local",
            # Since 2026 each entry carries its item under both names.
            "item": item,
            "track": item,
            "video_thumbnail": {"url": None},
        }

    def playlist_items(self, playlist: int, limit: int, offset: int) -> dict[str, Any]:
        entries = self.catalog.playlist_entries(playlist, self.day)
        items = [self.playlist_item(playlist, e) for e in entries[offset : offset + limit]]
        playlist_id = self.catalog.encode_id("playlist", playlist)
        return self.paging(f"/playlists/{playlist_id}/items", items, len(entries), limit, offset)

    def playlist(self, playlist: int, with_items: bool) -> dict[str, Any]:
        """A playlist, with its first page of items when `with_items`.

        Without them it is metadata only (no `items` at all): what a development app sees of
        playlists it neither owns nor collaborates on.
        """
        playlist_id = self.catalog.encode_id("playlist", playlist)
        owner = self.catalog.playlist_owner(playlist)
        description = f"Sandbox playlist {playlist + 1}, curated by {self.user(owner)['display_name']}."
        payload: dict[str, Any] = {
            "collaborative": self.catalog.playlist_is_collaborative(playlist),
            "description": None if playlist % 3 == 2 else description,
            **self._ref("playlist", playlist_id),
            "images": self._images(3, playlist, playlist_id),
            "name": self.catalog.playlist_name(playlist),
            "owner": self.user(owner),
            "primary_color": None if playlist % 2 else "#ffffff",
            "public": playlist % 5 != 4,
            "snapshot_id": self.catalog.playlist_snapshot_id(playlist, self.day),
        }
        if with_items:
            # Since 2026 the entries come under both names.
            payload["items"] = self.playlist_items(playlist, limit=100 if self.extended else 50, offset=0)
            payload["tracks"] = payload["items"]
        if self.extended:
            payload["followers"] = {"href": None, "total": self.catalog.playlist_followers(playlist, self.day)}
        return payload

    def simplified_playlist(self, playlist: int) -> dict[str, Any]:
        """As in lists and search results: the items are a reference `{href, total}`."""
        playlist_id = self.catalog.encode_id("playlist", playlist)
        payload = self.playlist(playlist, with_items=False)
        payload.pop("followers", None)
        reference = {
            "href": f"{self.base_url}/playlists/{playlist_id}/items",
            "total": len(self.catalog.playlist_entries(playlist, self.day)),
        }
        payload["items"] = reference
        payload["tracks"] = reference
        return payload

    def starred_playlist(self, total: int) -> dict[str, Any]:
        """The legacy "Starred" list some accounts still have in `/me/playlists`: no id at all."""
        return {
            "collaborative": False,
            "description": None,
            "external_urls": {},
            "href": None,
            "id": None,
            "images": None,
            "name": "Starred",
            "owner": self.user(SANDBOX_USER_ID),
            "primary_color": None,
            "public": False,
            "snapshot_id": None,
            "items": {"href": None, "total": total},
            "tracks": {"href": None, "total": total},
            "type": "playlist",
            "uri": f"spotify:user:{SANDBOX_USER_ID}:starred",
        }

    # the sandbox user ----------------------------------------------------------------------

    def private_user(self) -> dict[str, Any]:
        payload = {
            **self.user(SANDBOX_USER_ID),
            "images": [],
        }
        if self.extended:
            payload.update(
                country="DE",
                email="listener@sandbox.invalid",
                explicit_content={"filter_enabled": False, "filter_locked": False},
                followers={"href": None, "total": 12},
                product="premium",
            )
        return payload

    @staticmethod
    def _moment(day_number: int) -> str:
        return f"{(EPOCH + timedelta(days=day_number)).isoformat()}T09:30:00Z"

    def saved_track(self, track: int, saved_day: int) -> dict[str, Any]:
        return {"added_at": self._moment(saved_day), "track": self.track(track)}

    def saved_album(self, album: int, saved_day: int) -> dict[str, Any]:
        return {"added_at": self._moment(saved_day), "album": self.album(album)}

    def play(self, play: Play) -> dict[str, Any]:
        context = None
        if play.playlist is not None:
            playlist_id = self.catalog.encode_id("playlist", play.playlist)
            ref = self._ref("playlist", playlist_id)
            context = {
                "type": "playlist",
                "href": ref["href"],
                "external_urls": ref["external_urls"],
                "uri": ref["uri"],
            }
        return {
            # Old tracks arrive without their album.
            "track": self.track(play.track, with_album=not self.catalog.is_legacy_track(play.track)),
            "played_at": play.played_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{play.played_at.microsecond // 1000:03d}Z",
            "context": context,
        }

    def cursor_paging(
        self, path: str, items: list[Any], limit: int, next_query: str | None, cursors: dict[str, Any], total: int
    ) -> dict[str, Any]:
        """Spotify's cursor-based paging object (`cursors`, `next` carrying the cursor)."""
        return {
            "href": f"{self.base_url}{path}?limit={limit}",
            "items": items,
            "limit": limit,
            "next": f"{self.base_url}{path}?{next_query}&limit={limit}" if next_query else None,
            "cursors": cursors,
            "total": total,
        }
