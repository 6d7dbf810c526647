"""The `tunelake` command line, run as users run it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from ingestion.cli import EXIT_CONFIGURATION, EXIT_RATE_LIMITED, main
from tests.support import cli_environment

COMMANDS = [
    "sandbox",
    "ingest",
    "run",
    "auth",
    "demo",
    "query",
    "import-history",
    "clean-raw-zone",
    "compact",
    "dashboard",
]


def test_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in COMMANDS:
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage:")
    assert "--help" in result.output


def test_a_malformed_playlist_id_stops_before_any_request(sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environment = cli_environment(sandbox, tmp_path)
    good = sandbox.api.catalog.encode_id("playlist", 0)
    result = CliRunner().invoke(main, ["ingest", "--playlist", good, "--playlist", "not/a-playlist"], env=environment)
    assert result.exit_code == EXIT_CONFIGURATION
    assert "'not/a-playlist'" in result.output
    assert "sources.spotify.playlists" in result.output
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["total"] == 0


def test_missing_credentials_are_a_configuration_error_that_names_the_settings(tmp_path, monkeypatch):
    (tmp_path / ".dlt").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in ("SOURCES__SPOTIFY__CLIENT_ID", "SOURCES__SPOTIFY__CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["ingest", "--artist", "0TnOYISbd1XYRBk9myaseg"])
    assert result.exit_code == EXIT_CONFIGURATION
    assert "sources.spotify.client_id" in result.output


@pytest.mark.e2e
def test_ingest_from_the_command_line_loads_and_prints_a_summary(sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    catalog = sandbox.api.catalog
    environment = cli_environment(sandbox, tmp_path, client_secret="secret-that-must-not-leak")
    result = CliRunner().invoke(
        main,
        ["ingest", "--playlist", catalog.encode_id("playlist", 0), "--artist", catalog.encode_id("artist", 1)],
        env=environment,
    )
    assert result.exit_code == 0, result.output
    assert "Ingestion finished" in result.output
    assert "GET /v1/playlists/{id}" in result.output
    assert "tracks" in result.output
    assert "secret-that-must-not-leak" not in result.output
    assert (tmp_path / "tunelake.duckdb").exists()


def test_sandbox_command_serves_on_loopback_until_terminated():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingestion.cli",
            "sandbox",
            "--port",
            "0",
            "--tier",
            "extended",
            "--seed",
            "3",
            "--tracks",
            "500",
            "--date",
            "2026-03-04",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        base = re.search(r"http://127\.0\.0\.1:\d+", banner).group()
        health = requests.get(f"{base}/_sandbox/health", timeout=5).json()
        assert health == {"status": "ok", "tier": "extended", "date": "2026-03-04"}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


@pytest.mark.e2e
def test_dry_run_prices_the_run_without_a_request_and_sees_what_is_done(start_sandbox, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    server = start_sandbox(today=datetime.now(UTC).date())
    monkeypatch.chdir(tmp_path)
    catalog = server.api.catalog
    owned = catalog.owned_playlists()[:2]
    environment = cli_environment(
        server,
        tmp_path,
        playlists=[catalog.encode_id("playlist", p) for p in owned],
        artists=[catalog.encode_id("artist", 1)],
    )
    before = CliRunner().invoke(main, ["ingest", "--dry-run"], env=environment)
    assert before.exit_code == 0, before.output
    assert "2 of 2 playlists to snapshot today" in before.output
    assert "1 of 1 discographies" in before.output
    assert requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["total"] == 0

    assert CliRunner().invoke(main, ["ingest"], env=environment).exit_code == 0
    requests.post(f"{server.url}/_sandbox/stats/reset", timeout=5)
    after = CliRunner().invoke(main, ["ingest", "--dry-run"], env=environment)
    assert "0 of 2 playlists to snapshot today" in after.output
    assert re.search(r"\s1 requests at least", after.output), after.output
    assert requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["total"] == 0


@pytest.mark.e2e
def test_a_long_429_exits_with_the_rate_limited_code_and_the_next_run_skips(sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    catalog = sandbox.api.catalog
    environment = cli_environment(
        sandbox, tmp_path, playlists=[catalog.encode_id("playlist", p) for p in catalog.owned_playlists()]
    )
    sandbox.api.faults.configure(
        {"script": [{"kind": "429", "retry_after": 86400, "reason": "QUOTA_EXCEEDED", "after": 3}]}
    )
    stopped = CliRunner().invoke(main, ["ingest"], env=environment)
    assert stopped.exit_code == EXIT_RATE_LIMITED, stopped.output
    assert "stopped early" in stopped.output
    skipped = CliRunner().invoke(main, ["ingest"], env=environment)
    assert skipped.exit_code == EXIT_RATE_LIMITED
    assert "cooldown lasts until" in skipped.output


def test_the_production_commands_never_import_the_sandbox():
    check = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ingestion.cli import main\n"
        "import ingestion.pipeline\n"
        "result = CliRunner().invoke(main, ['ingest', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m == 'sandbox' or m.startswith('sandbox.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
    sandbox_help = CliRunner().invoke(main, ["sandbox", "--help"])
    assert sandbox_help.exit_code == 0
    assert "--withheld" in sandbox_help.output


def test_version_is_the_installed_package_version():
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"tunelake {version('tunelake')}"
