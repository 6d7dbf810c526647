"""The accounts service: client credentials, authorization code (secret or PKCE), refresh."""

import time

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOAuth, SpotifyPKCE

from tests.conftest import ALL_USER_SCOPES, LOOPBACK_REDIRECT, authorization_code, client_token


def follow_consent(authorize_url: str) -> str:
    """What the browser does: open the authorize URL and land on the redirect."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    return response.headers["Location"]


def with_sandbox_urls(manager, server):
    manager.OAUTH_AUTHORIZE_URL = f"{server.url}/authorize"
    manager.OAUTH_TOKEN_URL = server.token_url
    return manager


def test_spotipy_authorization_code_flow_reads_the_users_data(sandbox):
    oauth = with_sandbox_urls(
        SpotifyOAuth(
            "client",
            "secret",
            LOOPBACK_REDIRECT,
            scope=ALL_USER_SCOPES,
            open_browser=False,
            cache_handler=MemoryCacheHandler(),
        ),
        sandbox,
    )
    redirect = follow_consent(oauth.get_authorize_url())
    assert redirect.startswith(LOOPBACK_REDIRECT + "?code=")
    oauth.get_access_token(oauth.parse_response_code(redirect), as_dict=False, check_cache=False)
    sp = spotipy.Spotify(auth_manager=oauth, retries=0)
    sp.prefix = sandbox.api_url + "/"
    assert sp.me()["id"] == "tunelake-sandbox"
    assert sp.current_user_saved_tracks(limit=5)["items"][0]["track"]["id"]
    assert sp.current_user_top_artists(time_range="short_term", limit=3)["items"]
    assert sp.current_user_followed_artists(limit=5)["artists"]["items"]
    assert len(sp.current_user_recently_played(limit=50)["items"]) == 50


def test_spotipy_pkce_flow_needs_no_client_secret(sandbox):
    pkce = with_sandbox_urls(
        SpotifyPKCE(
            "public-client",
            LOOPBACK_REDIRECT,
            scope="user-library-read",
            open_browser=False,
            cache_handler=MemoryCacheHandler(),
        ),
        sandbox,
    )
    redirect = follow_consent(pkce.get_authorize_url(state="xyz"))
    assert "state=xyz" in redirect
    token = pkce.get_access_token(pkce.parse_response_code(redirect), check_cache=False)
    answer = requests.get(f"{sandbox.api_url}/me/albums", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 200
    refreshed = pkce.refresh_access_token(pkce.cache_handler.get_cached_token()["refresh_token"])
    assert refreshed["access_token"] != token


def test_a_pkce_code_redeemed_with_the_wrong_verifier_is_refused(sandbox):
    code = authorization_code(sandbox, "user-library-read", code_challenge="x" * 43, code_challenge_method="S256")
    answer = requests.post(
        sandbox.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": LOOPBACK_REDIRECT,
            "client_id": "test-client",
            "code_verifier": "not-the-verifier",
        },
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "code_verifier was incorrect"}


def test_a_code_works_once(sandbox):
    code = authorization_code(sandbox)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": LOOPBACK_REDIRECT}
    first = requests.post(sandbox.token_url, data=form, auth=("test-client", "s"), timeout=5)
    second = requests.post(sandbox.token_url, data=form, auth=("test-client", "s"), timeout=5)
    assert first.status_code == 200
    assert "refresh_token" in first.json()
    assert second.status_code == 400


@pytest.mark.parametrize("redirect", ["http://localhost:8888/callback", "http://example.com/callback"])
def test_redirects_that_are_not_https_or_a_loopback_ip_are_refused(sandbox, redirect):
    answer = requests.get(
        f"{sandbox.url}/authorize",
        params={"client_id": "c", "response_type": "code", "redirect_uri": redirect},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 400
    assert "Insecure redirect URI" in answer.json()["error_description"]


def test_an_expired_token_gets_spotifys_401(start_sandbox):
    server = start_sandbox()
    server.api.accounts.token_lifetime = 1
    token = client_token(server)
    url = f"{server.api_url}/tracks/{server.api.catalog.encode_id('track', 1)}"
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200
    time.sleep(1.1)
    expired = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert expired.status_code == 401
    assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}


def test_user_endpoints_need_the_scope_they_read(sandbox):
    token = requests.post(
        sandbox.token_url,
        data={
            "grant_type": "authorization_code",
            "code": authorization_code(sandbox, "user-top-read"),
            "redirect_uri": LOOPBACK_REDIRECT,
        },
        auth=("test-client", "s"),
        timeout=5,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{sandbox.api_url}/me/top/tracks", headers=headers, timeout=5).status_code == 200
    refused = requests.get(f"{sandbox.api_url}/me/player/recently-played", headers=headers, timeout=5)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Insufficient client scope"
