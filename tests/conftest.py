"""Shared fixtures: a real sandbox API server on 127.0.0.1, a throwaway data folder, Trino and its Athena front."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ingestion.config import Settings
from sandbox import Catalog, SandboxApi, SandboxServer

if TYPE_CHECKING:
    from tests.standins.athena import AthenaFront
    from tests.standins.trino import TrinoServer

START = date(2026, 11, 1)
# Tests never call the internet: no dlt telemetry, no dbt usage statistics.
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ["DO_NOT_TRACK"] = "1"


@pytest.fixture(autouse=True)
def _keep_working_directory(monkeypatch) -> None:
    """`tunelake` moves to its project's folder; in-process CLI tests get their own back afterwards."""
    monkeypatch.chdir(Path.cwd())


@pytest.fixture(autouse=True)
def _quiet_spotipy() -> None:
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandbox servers (stopped after the test): `start_sandbox(tier=..., tracks=...)`."""
    servers: list[SandboxServer] = []

    def start(tier: str = "development", seed: int = 7, tracks: int = 2_000, today: date = START) -> SandboxServer:
        server = SandboxServer(SandboxApi(Catalog(seed=seed, tracks=tracks), tier=tier, today=today)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def trino_standin(tmp_path_factory) -> Iterator[TrinoServer]:
    """One Trino stand-in for Athena per session, started by the first test that asks for it.

    Starting takes about 20 s, so tests share it: each one works in a schema of its own. Its
    configuration and `server.log` stay in pytest's temporary folder `trino0`.
    """
    # Imported here: importing boto3 takes 0.2 s, which tests that never start Trino should not pay.
    from tests.standins.trino import trino_server

    with trino_server(workdir=tmp_path_factory.mktemp("trino")) as server:
        yield server


@pytest.fixture(scope="session")
def athena_standin(trino_standin) -> Iterator[AthenaFront]:
    """The Athena API on 127.0.0.1 over the session's Trino stand-in (tests/standins/athena.py)."""
    from tests.standins.athena import athena_front

    with athena_front(trino_standin) as front:
        yield front


@pytest.fixture
def sandbox(start_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A development-tier sandbox with a small catalog."""
    return start_sandbox()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )


# The bucket of the `s3` fixture's raw zone.
S3_BUCKET = "tunelake-raw"


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server with an empty bucket `S3_BUCKET`; dlt's destination and source pointed at it."""
    from tests.standins import moto

    with moto.moto_server() as endpoint:
        for name, value in moto.aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        client = moto.client("s3", endpoint)
        client.create_bucket(Bucket=S3_BUCKET)
        yield client


ALL_USER_SCOPES = (
    "user-read-private user-read-recently-played user-library-read user-top-read user-follow-read playlist-read-private"
)
LOOPBACK_REDIRECT = "http://127.0.0.1:8888/callback"


def authorization_code(server: SandboxServer, scope: str = ALL_USER_SCOPES, **extra: str) -> str:
    """Walk /authorize as a browser would and return the code from the redirect."""
    params = {"client_id": "test-client", "response_type": "code", "redirect_uri": LOOPBACK_REDIRECT, "scope": scope}
    response = requests.get(f"{server.url}/authorize", params={**params, **extra}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def user_token(server: SandboxServer, scope: str = ALL_USER_SCOPES) -> str:
    """An access token for the sandbox user (authorization code flow with a client secret)."""
    answer = requests.post(
        server.token_url,
        data={
            "grant_type": "authorization_code",
            "code": authorization_code(server, scope),
            "redirect_uri": LOOPBACK_REDIRECT,
        },
        auth=("test-client", "test-secret"),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def client_token(server: SandboxServer) -> str:
    answer = requests.post(
        server.token_url, data={"grant_type": "client_credentials"}, auth=("test-client", "test-secret"), timeout=5
    )
    return answer.json()["access_token"]
