"""The sandbox user's library and listening, and search: paging, cursors and change over time."""

from datetime import datetime

import requests

from tests.conftest import client_token, user_token


def get(server, path, token, **params):
    return requests.get(
        f"{server.api_url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def millis(played_at: str) -> int:
    return int(datetime.fromisoformat(played_at.replace("Z", "+00:00")).timestamp() * 1000)


def test_recently_played_reaches_only_the_last_50_plays_by_before_cursor(sandbox):
    token = user_token(sandbox)
    seen, page = [], get(sandbox, "/me/player/recently-played", token, limit=20).json()
    while True:
        seen.extend(page["items"])
        if not page["next"]:
            break
        page = requests.get(page["next"], headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    times = [millis(p["played_at"]) for p in seen]
    assert len(seen) == 50
    assert times == sorted(times, reverse=True)
    assert len(set(times)) == 50


def test_recently_played_after_a_cursor_gives_only_newer_plays(sandbox):
    token = user_token(sandbox)
    first = get(sandbox, "/me/player/recently-played", token, limit=50).json()
    newest = first["cursors"]["after"]
    assert get(sandbox, "/me/player/recently-played", token, after=newest).json()["items"] == []

    sandbox.api.clock.advance(2 * 86_400)
    later = get(sandbox, "/me/player/recently-played", token, after=newest, limit=50).json()["items"]
    assert later
    assert all(millis(p["played_at"]) > int(newest) for p in later)
    assert get(sandbox, "/me/player/recently-played", token, after=1, before=2).status_code == 400


def test_the_library_grows_and_the_top_lists_move_day_by_day(sandbox):
    token = user_token(sandbox)
    saved_before = get(sandbox, "/me/tracks", token).json()["total"]
    top_before = [
        t["id"] for t in get(sandbox, "/me/top/tracks", token, time_range="short_term", limit=50).json()["items"]
    ]
    long_before = [
        t["id"] for t in get(sandbox, "/me/top/tracks", token, time_range="long_term", limit=50).json()["items"]
    ]
    sandbox.api.clock.advance(9 * 86_400)
    token = user_token(sandbox)
    assert get(sandbox, "/me/tracks", token).json()["total"] == saved_before + 3
    top_after = [
        t["id"] for t in get(sandbox, "/me/top/tracks", token, time_range="short_term", limit=50).json()["items"]
    ]
    assert top_after != top_before
    assert len(top_after) == 50
    assert len(long_before) == 50
    assert get(sandbox, "/me/top/tracks", token, time_range="yesterday").status_code == 400


def test_followed_artists_page_by_after_cursor(sandbox):
    token = user_token(sandbox)
    page = get(sandbox, "/me/following", token, type="artist", limit=3).json()["artists"]
    ids = [a["id"] for a in page["items"]]
    while page["next"]:
        page = requests.get(page["next"], headers={"Authorization": f"Bearer {token}"}, timeout=5).json()["artists"]
        ids.extend(a["id"] for a in page["items"])
    assert len(ids) == len(set(ids)) == page["total"]
    assert ids == sorted(ids)
    assert get(sandbox, "/me/following", token, type="album").status_code == 400


def test_search_enforces_development_limits_and_ranks_drift_daily(sandbox):
    token = client_token(sandbox)
    assert get(sandbox, "/search", token, q="midnight", type="track", limit=11).status_code == 400
    assert get(sandbox, "/search", token, q="midnight", type="track", offset=1001).status_code == 400
    assert get(sandbox, "/search", token, type="track").status_code == 400
    assert get(sandbox, "/search", token, q="midnight", type="song").status_code == 400

    def ranking():
        ids = []
        for offset in range(0, 100, 10):
            ids += [
                t["id"]
                for t in get(sandbox, "/search", token, q="midnight", type="track", limit=10, offset=offset).json()[
                    "tracks"
                ]["items"]
            ]
        return ids

    today = ranking()
    sandbox.api.clock.advance(86_400)
    tomorrow = ranking()
    assert set(today) == set(tomorrow)
    assert today != tomorrow


def test_extended_only_endpoints_answer_in_the_extended_tier_within_their_limits(start_sandbox):
    server = start_sandbox(tier="extended")
    token = client_token(server)
    catalog = server.api.catalog
    ids = [catalog.encode_id("album", a) for a in range(21)]
    assert get(server, "/albums", token, ids=",".join(ids[:20])).status_code == 200
    assert get(server, "/albums", token, ids=",".join(ids)).json()["error"]["message"] == "Too many ids requested"
    tracks = get(server, "/tracks", token, ids=f"{catalog.encode_id('track', 0)},{'0' * 22}").json()["tracks"]
    assert tracks[0]["id"] == catalog.encode_id("track", 0)
    assert tracks[1] is None
    top = get(server, f"/artists/{catalog.encode_id('artist', 2)}/top-tracks", token).json()["tracks"]
    assert [t["popularity"] for t in top] == sorted((t["popularity"] for t in top), reverse=True)
    assert get(server, "/browse/new-releases", token, limit=5).json()["albums"]["items"]
