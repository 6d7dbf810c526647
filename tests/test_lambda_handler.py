"""The Lambda handler, called in-process as Lambda calls it, against the sandbox."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HANDLER = Path(__file__).resolve().parents[1] / "lambda" / "handler.py"


def load_handler():
    spec = importlib.util.spec_from_file_location("tunelake_lambda_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@pytest.mark.e2e
def test_handler_ingests_from_environment_configuration_and_returns_a_summary(sandbox, tmp_path, monkeypatch):
    catalog = sandbox.api.catalog
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SOURCES__SPOTIFY__CLIENT_ID": "client",
        "SOURCES__SPOTIFY__CLIENT_SECRET": "secret",
        "SOURCES__SPOTIFY__API_URL": sandbox.api_url,
        "SOURCES__SPOTIFY__TOKEN_URL": sandbox.token_url,
        "SOURCES__SPOTIFY__PLAYLISTS": f'["{catalog.encode_id("playlist", 0)}"]',
        "SOURCES__SPOTIFY__ARTISTS": "[]",
        "TUNELAKE__RAW_ZONE_URL": str(tmp_path / "raw"),
        "TUNELAKE__DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "TUNELAKE__PIPELINES_DIR": str(tmp_path / "pipelines"),
    }.items():
        monkeypatch.setenv(name, value)

    result = load_handler()({}, None)

    entries = catalog.playlist_entries(0, sandbox.api.clock.today())
    assert result["rows"]["playlist_items"] == len(entries)
    assert result["requests"] > 0
    assert result["skipped"] == []
