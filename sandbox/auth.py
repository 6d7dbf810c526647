"""Spotify's accounts service, as the sandbox plays it.

Client credentials, authorization code (with client secret or PKCE) and refresh tokens.
`/authorize` consents at once for the sandbox user and redirects to the loopback
`redirect_uri`. Any client id and secret are accepted; what is checked is what Spotify
checks: a code is used once, by the client and redirect URI it was issued for, with the
verifier its challenge was made from; redirect URIs are HTTPS or a loopback IP.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sandbox.errors import ApiError

USER_SCOPES = frozenset(
    {
        "user-read-private",
        "user-read-email",
        "user-read-recently-played",
        "user-library-read",
        "user-top-read",
        "user-follow-read",
        "playlist-read-private",
        "playlist-read-collaborative",
    }
)
CODE_LIFETIME_S = 600


@dataclass(frozen=True)
class Token:
    client_id: str
    expires: float
    user: bool
    scopes: frozenset[str]


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None
    expires: float


class OAuthError(Exception):
    """Answered as the accounts service answers: `{"error": ..., "error_description": ...}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def is_allowed_redirect(uri: str) -> bool:
    """HTTPS, or plain HTTP on a loopback IP (Spotify refuses `localhost` since 2025)."""
    parts = urlsplit(uri)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1"))


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class AccountsService:
    """Issues and checks tokens. Thread-safe.

    Args:
        token_lifetime: Seconds an access token stays valid.
    """

    def __init__(self, token_lifetime: int = 3600) -> None:
        self.token_lifetime = token_lifetime
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, tuple[str, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _issue(self, client_id: str, user: bool, scopes: frozenset[str]) -> dict[str, object]:
        access = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access] = Token(client_id, time.monotonic() + self.token_lifetime, user, scopes)
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.token_lifetime}

    # /authorize --------------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> str:
        """The redirect location for an authorization request: consent is given at once.

        Raises:
            OAuthError: for requests Spotify refuses before redirecting.
        """
        client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri", "")
        if not client_id:
            raise OAuthError("invalid_request", "Missing required parameter: client_id")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if not is_allowed_redirect(redirect_uri):
            raise OAuthError("invalid_request", "INVALID_CLIENT: Insecure redirect URI")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        scopes = frozenset(params.get("scope", "").split()) & USER_SCOPES
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(client_id, redirect_uri, scopes, challenge, time.monotonic() + CODE_LIFETIME_S)
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(answer)}"

    # /api/token --------------------------------------------------------------------------

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, object]:
        """Answer a token request (client credentials, authorization code or refresh token).

        Raises:
            OAuthError: with Spotify's error codes.
        """
        client_id, client_secret = basic if basic else (form.get("client_id"), form.get("client_secret"))
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            if not client_id or not client_secret:
                raise OAuthError("invalid_client", "Invalid client")
            return self._issue(client_id, user=False, scopes=frozenset())
        if grant_type == "authorization_code":
            return self._redeem_code(form, client_id, client_secret)
        if grant_type == "refresh_token":
            return self._refresh_token(form, client_id)
        raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")

    def _redeem_code(self, form: dict[str, str], client_id: str | None, secret: str | None) -> dict[str, object]:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires < time.monotonic():
            raise OAuthError("invalid_grant", "Invalid authorization code")
        if client_id != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "Invalid redirect URI")
        if grant.code_challenge:
            if pkce_challenge(form.get("code_verifier", "")) != grant.code_challenge:
                raise OAuthError("invalid_grant", "code_verifier was incorrect")
        elif not secret:
            raise OAuthError("invalid_client", "Invalid client secret")
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = (grant.client_id, grant.scopes)
        return {
            **self._issue(grant.client_id, user=True, scopes=grant.scopes),
            "scope": " ".join(sorted(grant.scopes)),
            "refresh_token": refresh,
        }

    def _refresh_token(self, form: dict[str, str], client_id: str | None) -> dict[str, object]:
        with self._lock:
            known = self._refresh.get(form.get("refresh_token", ""))
        if known is None or (client_id and client_id != known[0]):
            raise OAuthError("invalid_grant", "Invalid refresh token")
        return {**self._issue(known[0], user=True, scopes=known[1]), "scope": " ".join(sorted(known[1]))}

    # checking ----------------------------------------------------------------------------

    def check(self, authorization: str, scope: str | None = None, user: bool = False) -> Token:
        """The token behind an `Authorization` header.

        Raises:
            ApiError: 401 for a missing, unknown or expired token; 403 for a token without
                the user or scope the endpoint needs.
        """
        if not authorization.startswith("Bearer "):
            raise ApiError(401, "No token provided")
        token = self._tokens.get(authorization[len("Bearer ") :])
        if token is None:
            raise ApiError(401, "Invalid access token")
        if token.expires < time.monotonic():
            raise ApiError(401, "The access token expired")
        if (user and not token.user) or (scope and scope not in token.scopes):
            raise ApiError(403, "Insufficient client scope")
        return token
