"""Every endpoint, both tiers, checked against Spotify's OpenAPI definition."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import client_token, user_token
from tests.sandbox.openapi_contract import contract_errors

TIERS = ("development", "extended")


def served(catalog, kind: str) -> int:
    """The first entity of `kind` Spotify serves (some answer 404, as real ones do)."""
    return next(i for i in range(3, catalog.count(kind)) if not catalog.is_withheld(kind, i))


def cases(catalog):
    """(name, spec path, request path, params, token kind, status per tier)."""
    track, album, artist = (catalog.encode_id(k, served(catalog, k)) for k in ("track", "album", "artist"))
    withheld = catalog.encode_id(
        "album", next(i for i in range(catalog.album_count) if catalog.is_withheld("album", i))
    )
    relinked = catalog.encode_id("track", next(i for i in range(catalog.track_count) if catalog.is_relinked(i)))
    ghost = catalog.encode_id("ghost", 0)
    owned = catalog.encode_id("playlist", catalog.owned_playlists()[0])
    foreign = catalog.encode_id(
        "playlist",
        next(
            p
            for p in range(catalog.playlist_count)
            if p not in catalog.owned_playlists() and not catalog.playlist_is_editorial(p)
        ),
    )
    editorial = catalog.encode_id(
        "playlist", next(p for p in range(catalog.playlist_count) if catalog.playlist_is_editorial(p))
    )
    both, extended_only = {"development": 200, "extended": 200}, {"development": 403, "extended": 200}
    return [
        ("track", "/tracks/{id}", f"/tracks/{track}", {}, "client", both),
        ("relinked track", "/tracks/{id}", f"/tracks/{relinked}", {"market": "DE"}, "client", both),
        ("ghost track", "/tracks/{id}", f"/tracks/{ghost}", {}, "client", {"development": 404, "extended": 404}),
        ("withheld album", "/albums/{id}", f"/albums/{withheld}", {}, "client", {"development": 404, "extended": 404}),
        ("unknown track", "/tracks/{id}", f"/tracks/{'0' * 22}", {}, "client", {"development": 404, "extended": 404}),
        ("album", "/albums/{id}", f"/albums/{album}", {}, "client", both),
        ("album tracks", "/albums/{id}/tracks", f"/albums/{album}/tracks", {"limit": 2}, "client", both),
        ("artist", "/artists/{id}", f"/artists/{artist}", {}, "client", both),
        ("artist albums", "/artists/{id}/albums", f"/artists/{artist}/albums", {"limit": 10}, "client", both),
        (
            "artist albums over the limit",
            "/artists/{id}/albums",
            f"/artists/{artist}/albums",
            {"limit": 11},
            "client",
            {"development": 400, "extended": 200},
        ),
        ("owned playlist", "/playlists/{playlist_id}", f"/playlists/{owned}", {}, "client", both),
        ("foreign playlist", "/playlists/{playlist_id}", f"/playlists/{foreign}", {}, "client", both),
        (
            "editorial playlist",
            "/playlists/{playlist_id}",
            f"/playlists/{editorial}",
            {},
            "client",
            {"development": 404, "extended": 200},
        ),
        (
            "owned playlist items",
            "/playlists/{playlist_id}/items",
            f"/playlists/{owned}/items",
            {"limit": 50},
            "client",
            both,
        ),
        (
            "foreign playlist items",
            "/playlists/{playlist_id}/items",
            f"/playlists/{foreign}/items",
            {},
            "client",
            {"development": 403, "extended": 200},
        ),
        (
            "playlist items over the limit",
            "/playlists/{playlist_id}/items",
            f"/playlists/{owned}/items",
            {"limit": 51},
            "client",
            {"development": 400, "extended": 200},
        ),
        (
            "search",
            "/search",
            "/search",
            {"q": "midnight", "type": "track,artist,album,playlist", "limit": 10},
            "client",
            both,
        ),
        (
            "search over the limit",
            "/search",
            "/search",
            {"q": "midnight", "type": "track", "limit": 11},
            "client",
            {"development": 400, "extended": 200},
        ),
        (
            "batch tracks",
            "/tracks",
            "/tracks",
            {"ids": f"{track},{'0' * 22},{relinked}", "market": "DE"},
            "client",
            extended_only,
        ),
        ("batch artists", "/artists", "/artists", {"ids": artist}, "client", extended_only),
        ("batch albums", "/albums", "/albums", {"ids": f"{album},{withheld}"}, "client", extended_only),
        ("artist top tracks", "/artists/{id}/top-tracks", f"/artists/{artist}/top-tracks", {}, "client", extended_only),
        ("new releases", "/browse/new-releases", "/browse/new-releases", {"limit": 5}, "client", extended_only),
        ("me", "/me", "/me", {}, "user", both),
        ("my playlists", "/me/playlists", "/me/playlists", {}, "user", both),
        ("saved tracks", "/me/tracks", "/me/tracks", {"limit": 50}, "user", both),
        ("saved albums", "/me/albums", "/me/albums", {"limit": 50}, "user", both),
        ("followed artists", "/me/following", "/me/following", {"type": "artist", "limit": 5}, "user", both),
        ("top tracks", "/me/top/tracks", "/me/top/tracks", {"time_range": "short_term", "limit": 5}, "user", both),
        ("top artists", "/me/top/artists", "/me/top/artists", {"time_range": "long_term"}, "user", both),
        ("recently played", "/me/player/recently-played", "/me/player/recently-played", {"limit": 50}, "user", both),
        ("me with a client token", "/me", "/me", {}, "client", {"development": 403, "extended": 403}),
        ("no token", "/tracks/{id}", f"/tracks/{track}", {}, None, {"development": 401, "extended": 401}),
    ]


@pytest.mark.parametrize("tier", TIERS)
def test_every_endpoint_answers_as_the_definition_says(start_sandbox, tier):
    server = start_sandbox(tier=tier)
    tokens = {"client": client_token(server), "user": user_token(server), None: None}
    checked = 0
    for name, spec_path, path, params, token, statuses in cases(server.api.catalog):
        headers = {"Authorization": f"Bearer {tokens[token]}"} if token else {}
        response = requests.get(f"{server.api_url}{path}", params=params, headers=headers, timeout=10)
        assert response.status_code == statuses[tier], f"{name}: {response.status_code} {response.text[:300]}"
        errors = contract_errors(tier, spec_path, response.status_code, response.json())
        assert errors == [], f"{name} ({tier}) breaks the definition:\n" + "\n".join(errors[:10])
        checked += 1
    assert checked == len(cases(server.api.catalog))


def test_development_answers_carry_no_deprecated_field_and_extended_ones_do(start_sandbox):
    dev, ext = start_sandbox(tier="development"), start_sandbox(tier="extended")
    track_id = dev.api.catalog.encode_id("track", served(dev.api.catalog, "track"))
    dev_track = requests.get(
        f"{dev.api_url}/tracks/{track_id}", headers={"Authorization": f"Bearer {client_token(dev)}"}, timeout=5
    ).json()
    ext_track = requests.get(
        f"{ext.api_url}/tracks/{track_id}", headers={"Authorization": f"Bearer {client_token(ext)}"}, timeout=5
    ).json()
    assert {"popularity", "available_markets"} <= set(ext_track)
    assert not {"popularity", "available_markets", "linked_from", "preview_url"} & set(dev_track)
    assert contract_errors("extended", "/tracks/{id}", 200, ext_track) == []


def test_a_deliberately_broken_payload_fails_the_contract(sandbox):
    token = client_token(sandbox)
    track = requests.get(
        f"{sandbox.api_url}/tracks/{sandbox.api.catalog.encode_id('track', served(sandbox.api.catalog, 'track'))}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert contract_errors("development", "/tracks/{id}", 200, track) == []

    wrong_type = {**track, "duration_ms": "three minutes"}
    assert any("duration_ms" in e for e in contract_errors("development", "/tracks/{id}", 200, wrong_type))

    leaked = {**track, "popularity": 55}
    assert any("popularity" in e for e in contract_errors("development", "/tracks/{id}", 200, leaked))

    bad_album = {**track, "album": {k: v for k, v in track["album"].items() if k != "release_date"}}
    assert any("release_date" in e for e in contract_errors("development", "/tracks/{id}", 200, bad_album))
