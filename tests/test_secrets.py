"""No secret (client secret, refresh token, access token) reaches logs, files or error text."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingestion.cli import EXIT_CONFIGURATION, main
from tests.support import cli_environment, refresh_token

CLIENT_SECRET = "client-secret-d0-not-leak"


def environment(server, tmp_path, token: str) -> dict[str, str]:
    playlist = server.api.catalog.encode_id("playlist", 0)
    return cli_environment(
        server, tmp_path, client_secret=CLIENT_SECRET, refresh_token=token, playlists=[playlist], queries=["midnight"]
    )


@pytest.fixture
def debug_log():
    """Everything logged at DEBUG, by every library, while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("spotipy").setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret[:6] + "..." for secret in secrets if secret in text]


@pytest.mark.e2e
def test_no_secret_reaches_logs_files_or_output(sandbox, tmp_path, monkeypatch, debug_log):
    monkeypatch.chdir(tmp_path)
    token = refresh_token(sandbox)
    result = CliRunner().invoke(main, ["--verbose", "ingest"], env=environment(sandbox, tmp_path, token))
    assert result.exit_code == 0, result.output
    access_tokens = list(sandbox.api.accounts._tokens)
    assert len(access_tokens) >= 2, "the run used a user token"
    secrets = [CLIENT_SECRET, token, base64.b64encode(f"test-client:{CLIENT_SECRET}".encode()).decode(), *access_tokens]

    assert "Sending GET" in debug_log.getvalue(), "spotipy logged its requests at DEBUG"
    assert leaks(debug_log.getvalue(), secrets) == []
    assert leaks(result.output, secrets) == []
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any("raw" in p.parts for p in files)
    for path in files:
        assert leaks(path.read_bytes().decode("latin-1"), secrets) == [], path


def test_a_refused_refresh_token_is_reported_without_the_token(sandbox, tmp_path, monkeypatch, debug_log):
    monkeypatch.chdir(tmp_path)
    revoked = "AQ-revoked-refresh-token-value"
    result = CliRunner().invoke(main, ["--verbose", "ingest"], env=environment(sandbox, tmp_path, revoked))
    assert result.exit_code == EXIT_CONFIGURATION
    assert "refused the credentials" in result.output
    assert "invalid_grant" in result.output
    assert leaks(result.output + debug_log.getvalue() + repr(result.exception), [revoked, CLIENT_SECRET]) == []
    assert not Path(tmp_path / "raw").exists() or not any((tmp_path / "raw").rglob("*.jsonl.gz"))
