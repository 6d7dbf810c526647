"""Shared fixtures: a real sandbox API server on 127.0.0.1 and a throwaway data folder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from ingestion.pipeline import Settings
from ingestion.sandbox import Catalog, SandboxApi, SandboxServer
from ingestion.spotify import SpotifyClient

START = date(2026, 11, 1)


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


@pytest.fixture
def sandbox(start_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A development-tier sandbox with a small catalog."""
    return start_sandbox()


@pytest.fixture
def client_for() -> Callable[[SandboxServer], SpotifyClient]:
    def make(server: SandboxServer) -> SpotifyClient:
        return SpotifyClient("test-client", "test-secret", server.api_url, server.token_url)

    return make


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        raw_zone_url=str(tmp_path / "raw"),
        duckdb_path=str(tmp_path / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
    )
