"""Constants of the Spotify source: endpoints, page sizes and the tables it loads."""

from __future__ import annotations

from typing import Any

API_URL = "https://api.spotify.com/v1"
TOKEN_URL = "https://accounts.spotify.com/api/token"  # noqa: S105 (a URL, not a secret)

# Page sizes per tier: a development-mode app gets 400 "Invalid limit" above these.
ARTIST_ALBUMS_PAGE = {"development": 10, "extended": 50}
SEARCH_PAGE = {"development": 10, "extended": 50}
PAGE = 50
# Batch endpoints (extended quota only) and how many ids each takes.
BATCH_SIZE = {"track": 50, "artist": 50, "album": 20}
TIER_ENDPOINTS = frozenset({"GET /v1/tracks", "GET /v1/artists", "GET /v1/albums"})

# Days an entity's metadata is not fetched again. In development mode Spotify gives no
# popularity, so metadata is all there is and it rarely changes; with extended quota the
# daily popularity is worth a (batched) request a day.
REFRESH_DAYS = {
    "development": {"track": 7, "album": 7, "artist": 7},
    "extended": {"track": 1, "album": 1, "artist": 1},
}
SEARCH_DEPTH = 20
SEARCH_TYPES = ("track", "artist", "album")
TOP_TIME_RANGES = ("short_term", "medium_term", "long_term")
# The user's library, each read once a day (`user:<key>` in the daily state).
LIBRARY_KEYS = ("saved_tracks", "saved_albums", "following", "playlists")
USER_SCOPES = (
    "user-read-recently-played",
    "user-top-read",
    "user-library-read",
    "user-follow-read",
    "playlist-read-private",
    "playlist-read-collaborative",
)
REDIRECT_URI = "http://127.0.0.1:8888/callback"

# The artist's own discography; `appears_on` would pull in other artists' albums.
DISCOGRAPHY_GROUPS = "album,single,compilation"

REQUEST_TIMEOUT_S = 10
MAX_ATTEMPTS = 6
MAX_RETRY_AFTER_S = 30
RETRY_BASE_S = 0.5
# Spotify publishes no numbers for its rolling 30-second window; a development-mode app stays
# well clear of it at a few requests a second.
REQUESTS_PER_SECOND = 5.0
WORKERS = 4


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
            playable_track_id="text",
            name="text",
            album_id="text",
            duration_ms="bigint",
            is_explicit="bool",
            isrc="text",
            disc_number="bigint",
            track_number="bigint",
            popularity="bigint",
            is_playable="bool",
            restriction_reason="text",
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
            is_playable="bool",
            restriction_reason="text",
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
    "search_results": {
        "primary_key": ["query", "result_type", "observed_date", "rank"],
        "columns": _cols(
            query="text",
            result_type="text",
            observed_date="date",
            rank="bigint",
            entity_id="text",
            observed_at="timestamp",
        ),
    },
    "plays": {
        "primary_key": ["played_at"],
        "columns": _cols(played_at="timestamp", track_id="text", context_type="text", context_uri="text"),
    },
    "user_top_items": {
        "primary_key": ["item_type", "time_range", "observed_date", "rank"],
        "columns": _cols(
            item_type="text",
            time_range="text",
            observed_date="date",
            rank="bigint",
            entity_id="text",
            observed_at="timestamp",
        ),
    },
    "saved_tracks": {
        "primary_key": ["track_id"],
        "columns": _cols(track_id="text", saved_at="timestamp", observed_at="timestamp"),
    },
    "saved_albums": {
        "primary_key": ["album_id"],
        "columns": _cols(album_id="text", saved_at="timestamp", observed_at="timestamp"),
    },
    "followed_artists": {
        "primary_key": ["artist_id"],
        "columns": _cols(artist_id="text", observed_at="timestamp"),
    },
    "user_playlists": {
        "primary_key": ["playlist_id"],
        "columns": _cols(
            playlist_id="text",
            name="text",
            owner_id="text",
            is_collaborative="bool",
            is_public="bool",
            total_items="bigint",
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
    "unavailable_entities": {
        "primary_key": ["entity_type", "entity_id", "observed_date"],
        "columns": _cols(
            entity_type="text",
            entity_id="text",
            observed_date="date",
            name="text",
            album_id="text",
            reason="text",
            status="bigint",
            observed_at="timestamp",
        ),
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
