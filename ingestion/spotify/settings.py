"""Constants of the Spotify source: endpoints, page sizes, tiers, limits (the tables: `tables.py`)."""

from __future__ import annotations

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
