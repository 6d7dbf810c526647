"""Constants of the Spotify source: endpoints, page sizes and the tables it loads."""

from __future__ import annotations

from typing import Any

API_URL = "https://api.spotify.com/v1"
TOKEN_URL = "https://accounts.spotify.com/api/token"  # noqa: S105 (a URL, not a secret)

# Page sizes a development-mode app may ask for (larger ones answer 400 "Invalid limit").
ARTIST_ALBUMS_PAGE = 10
PLAYLIST_ITEMS_PAGE = 50
ALBUM_TRACKS_PAGE = 50

# The artist's own discography; `appears_on` would pull in other artists' albums.
DISCOGRAPHY_GROUPS = "album,single,compilation"

REQUEST_TIMEOUT_S = 10
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER_S = 30


def _cols(**types: str) -> dict[str, dict[str, Any]]:
    """Column hints: every column nullable, since the 2026 API drops fields by tier."""
    return {name: {"data_type": data_type, "nullable": True} for name, data_type in types.items()}


# Every table is flat (no nested lists), so each engine reads it without JSON functions, and
# declares all its columns, so a field the tier withholds is a null column, not a missing one.
TABLES: dict[str, dict[str, Any]] = {
    "playlists": {
        "primary_key": ["playlist_id"],
        "columns": _cols(
            playlist_id="text",
            name="text",
            description="text",
            owner_id="text",
            owner_name="text",
            is_public="bool",
            is_collaborative="bool",
            snapshot_id="text",
            total_items="bigint",
            followers="bigint",
            are_items_readable="bool",
            observed_at="timestamp",
        ),
    },
    "playlist_items": {
        "primary_key": ["playlist_id", "snapshot_date", "position"],
        "columns": _cols(
            playlist_id="text",
            snapshot_date="date",
            position="bigint",
            item_type="text",
            track_id="text",
            episode_id="text",
            item_name="text",
            added_at="timestamp",
            added_by_id="text",
            observed_at="timestamp",
        ),
    },
    "tracks": {
        "primary_key": ["track_id"],
        "columns": _cols(
            track_id="text",
            name="text",
            album_id="text",
            duration_ms="bigint",
            is_explicit="bool",
            isrc="text",
            disc_number="bigint",
            track_number="bigint",
            popularity="bigint",
            observed_at="timestamp",
        ),
    },
    "track_artists": {
        "primary_key": ["track_id", "artist_position"],
        "columns": _cols(track_id="text", artist_position="bigint", artist_id="text"),
    },
    "albums": {
        "primary_key": ["album_id"],
        "columns": _cols(
            album_id="text",
            name="text",
            album_type="text",
            release_date="text",
            release_date_precision="text",
            total_tracks="bigint",
            upc="text",
            label="text",
            popularity="bigint",
            image_url="text",
            observed_at="timestamp",
        ),
    },
    "album_artists": {
        "primary_key": ["album_id", "artist_position"],
        "columns": _cols(album_id="text", artist_position="bigint", artist_id="text"),
    },
    "artists": {
        "primary_key": ["artist_id"],
        "columns": _cols(
            artist_id="text",
            name="text",
            popularity="bigint",
            followers="bigint",
            image_url="text",
            observed_at="timestamp",
        ),
    },
    "artist_albums": {
        "primary_key": ["artist_id", "album_id"],
        "columns": _cols(artist_id="text", album_id="text", album_group="text", observed_at="timestamp"),
    },
    "track_observations": {
        "primary_key": ["track_id", "observed_date"],
        "columns": _cols(track_id="text", observed_date="date", popularity="bigint", observed_at="timestamp"),
    },
    "album_observations": {
        "primary_key": ["album_id", "observed_date"],
        "columns": _cols(album_id="text", observed_date="date", popularity="bigint", observed_at="timestamp"),
    },
    "artist_observations": {
        "primary_key": ["artist_id", "observed_date"],
        "columns": _cols(
            artist_id="text",
            observed_date="date",
            popularity="bigint",
            followers="bigint",
            observed_at="timestamp",
        ),
    },
}
