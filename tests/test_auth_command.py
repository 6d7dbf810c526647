"""`tunelake auth` end to end: consent at the sandbox, refresh token stored where ingest reads it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib

import pytest
import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("pkce", [False, True])
def test_auth_stores_a_working_refresh_token_without_printing_it(sandbox, tmp_path, pkce):
    env = {
        **os.environ,
        "SOURCES__SPOTIFY__CLIENT_ID": "test-client",
        "SOURCES__SPOTIFY__CLIENT_SECRET": "test-secret",
        "SOURCES__SPOTIFY__TOKEN_URL": sandbox.token_url,
    }
    (tmp_path / ".dlt").mkdir()  # a project, as a clone is
    command = [sys.executable, "-m", "ingestion.cli", "auth", "--no-browser", "--port", str(free_port())]
    process = subprocess.Popen(
        command + (["--pkce"] if pkce else []),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        for line in process.stdout:
            match = re.search(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)", line)
            if match:
                url = match[1]
                break
        assert url, "the consent URL is printed"
        assert ("code_challenge=" in url) == pkce
        # The "browser": consent at the sandbox, which redirects to tunelake's loopback callback.
        landing = requests.get(url, timeout=10)
        assert landing.status_code == 200
        assert "authorized" in landing.text
        output = process.communicate(timeout=30)[0]
    finally:
        process.kill()
    assert process.returncode == 0, output

    secrets_file = tmp_path / ".dlt" / "secrets.toml"
    token = tomllib.loads(secrets_file.read_text())["sources"]["spotify"]["refresh_token"]
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    assert token not in output
    refreshed = requests.post(
        sandbox.token_url,
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": "test-client"},
        auth=None if pkce else ("test-client", "test-secret"),
        timeout=5,
    )
    assert refreshed.status_code == 200
    assert "user-read-recently-played" in refreshed.json()["scope"]
    assert "secretsmanager" in output


def test_auth_keeps_the_other_secrets_in_the_file(tmp_path):
    from ingestion.auth import save_refresh_token

    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('[sources.spotify]\nclient_id = "abc"\n\n[destination.filesystem.credentials]\nx = "y"\n')
    save_refresh_token(secrets_file, "rt-1")
    saved = tomllib.loads(secrets_file.read_text())
    assert saved["sources"]["spotify"] == {"client_id": "abc", "refresh_token": "rt-1"}
    assert saved["destination"]["filesystem"]["credentials"] == {"x": "y"}
