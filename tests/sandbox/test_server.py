import time
from datetime import date
from email.utils import parsedate_to_datetime

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from sandbox import Catalog, SandboxApi, SandboxServer


def spotipy_for(server: SandboxServer) -> spotipy.Spotify:
    """spotipy as a user would set it up, with only the base URLs changed."""
    auth = SpotifyClientCredentials("client", "secret", cache_handler=MemoryCacheHandler())
    auth.OAUTH_TOKEN_URL = server.token_url
    client = spotipy.Spotify(auth_manager=auth, retries=0)
    client.prefix = server.api_url + "/"
    return client


def test_starts_and_stops_within_two_seconds_on_loopback():
    started = time.monotonic()
    server = SandboxServer(SandboxApi(Catalog(seed=1, tracks=500))).start()
    assert server.url.startswith("http://127.0.0.1:")
    assert requests.get(f"{server.url}/_sandbox/health", timeout=5).json()["status"] == "ok"
    server.stop()
    assert time.monotonic() - started < 2


def test_spotipy_pages_through_a_whole_playlist(sandbox):
    sp = spotipy_for(sandbox)
    catalog = sandbox.api.catalog
    playlist = catalog.owned_playlists()[0]
    playlist_id = catalog.encode_id("playlist", playlist)
    page = sp.playlist_items(playlist_id, limit=50)
    items = list(page["items"])
    while page["next"]:
        page = sp.next(page)
        items.extend(page["items"])
    expected = catalog.playlist_entries(playlist, sandbox.api.clock.today())
    assert len(items) == page["total"] == len(expected)
    for item, entry in zip(items, expected, strict=True):
        if entry.kind == "missing":
            assert item["item"] is None
        elif entry.kind == "local":
            assert item["is_local"] is True
            assert item["item"]["id"] is None
        else:
            assert item["item"]["id"] == catalog.encode_id(entry.kind, entry.index)


def test_development_tier_refuses_what_spotify_refuses(sandbox):
    sp = spotipy_for(sandbox)
    catalog = sandbox.api.catalog
    artist_id = catalog.encode_id("artist", 0)
    with pytest.raises(spotipy.SpotifyException) as too_many:
        sp.artist_albums(artist_id)  # spotipy's default limit=20; development mode allows 10
    assert too_many.value.http_status == 400
    assert "Invalid limit" in too_many.value.msg

    foreign = next(
        p
        for p in range(catalog.playlist_count)
        if p not in catalog.owned_playlists() and not catalog.playlist_is_editorial(p)
    )
    with pytest.raises(spotipy.SpotifyException) as forbidden:
        sp.playlist_items(catalog.encode_id("playlist", foreign))
    assert forbidden.value.http_status == 403
    assert "items" not in sp.playlist(catalog.encode_id("playlist", foreign)), "metadata only"

    editorial = next(p for p in range(catalog.playlist_count) if catalog.playlist_is_editorial(p))
    with pytest.raises(spotipy.SpotifyException) as missing:
        sp.playlist(catalog.encode_id("playlist", editorial))
    assert missing.value.http_status == 404

    track = sp.track(catalog.encode_id("track", 5))
    assert "popularity" not in track
    assert "followers" not in sp.artist(artist_id)
    assert track["external_ids"]["isrc"]


def test_extended_tier_gives_popularity_and_followers(start_sandbox):
    server = start_sandbox(tier="extended")
    sp = spotipy_for(server)
    catalog = server.api.catalog
    track = sp.track(catalog.encode_id("track", 5))
    artist = sp.artist(catalog.encode_id("artist", 0))
    assert 0 <= track["popularity"] <= 100
    assert artist["followers"]["total"] > 0
    assert sp.artist_albums(catalog.encode_id("artist", 0), limit=20)["limit"] == 20


def test_requests_without_a_valid_token_get_spotifys_401(sandbox):
    track_url = f"{sandbox.api_url}/tracks/{sandbox.api.catalog.encode_id('track', 1)}"
    missing = requests.get(track_url, timeout=5)
    wrong = requests.get(track_url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}
    assert wrong.json()["error"]["message"] == "Invalid access token"


def test_token_endpoint_rejects_a_request_without_client_credentials(sandbox):
    response = requests.post(sandbox.token_url, data={"grant_type": "client_credentials"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_malformed_and_unknown_ids_answer_400_and_404(sandbox):
    sp = spotipy_for(sandbox)
    with pytest.raises(spotipy.SpotifyException) as unknown:
        sp.track("0" * 22)
    assert unknown.value.http_status == 404
    token = sp.auth_manager.get_access_token(as_dict=False)
    malformed = requests.get(f"{sandbox.api_url}/tracks/short", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["message"] == "Invalid base62 id"


def test_the_date_header_and_the_data_follow_the_simulated_clock(sandbox):
    sp = spotipy_for(sandbox)
    playlist_id = sandbox.api.catalog.encode_id("playlist", 0)
    before = sp.playlist(playlist_id)["snapshot_id"]
    moved = requests.post(f"{sandbox.url}/_sandbox/clock", json={"date": "2027-02-03"}, timeout=5)
    assert moved.json()["date"] == "2027-02-03"
    response = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5)
    assert parsedate_to_datetime(response.headers["Date"]).date() == date(2027, 2, 3)
    assert sp.playlist(playlist_id)["snapshot_id"] != before


def test_stats_count_requests_per_endpoint_and_status_and_reset(sandbox):
    sp = spotipy_for(sandbox)
    catalog = sandbox.api.catalog
    sp.track(catalog.encode_id("track", 1))
    sp.track(catalog.encode_id("track", 2))
    with pytest.raises(spotipy.SpotifyException):
        sp.album("0" * 22)
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    counts = {(row["endpoint"], row["status"]): row["count"] for row in stats["requests"]}
    assert counts == {
        ("POST /api/token", 200): 1,
        ("GET /v1/tracks/{id}", 200): 2,
        ("GET /v1/albums/{id}", 404): 1,
    }
    requests.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=5)
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["total"] == 0
