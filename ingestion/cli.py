"""The `tunelake` command line."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path
from typing import ClassVar

import click

from ingestion.errors import ConfigurationError, RunInProgressError

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIGURATION = 3
EXIT_RATE_LIMITED = 4
EXIT_PARTIAL = 5
EXIT_LOCKED = 6


def _no_telemetry() -> None:
    """Keep dlt's telemetry off unless asked for: tunelake talks to Spotify and your destinations only."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        # spotipy logs every 4xx at ERROR before raising; the loader reports them itself.
        logging.getLogger("spotipy").setLevel(logging.CRITICAL)


class LazyGroup(click.Group):
    """A group whose development commands are imported only when asked for.

    `tunelake sandbox` and `tunelake demo` live in the `sandbox` package; the production path
    (`ingest`, `run`, the Lambda) never imports it.
    """

    LAZY: ClassVar[dict[str, str]] = {"sandbox": "sandbox.commands:sandbox", "demo": "sandbox.commands:demo"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name].split(":")
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def main(verbose: bool) -> None:
    """tunelake: Spotify analytics on dlt, dbt and DuckDB, Snowflake or Athena."""
    _no_telemetry()
    _setup_logging(verbose)


def _ingest(playlists: tuple[str, ...], artists: tuple[str, ...], dry_run: bool = False) -> None:
    """Run one ingestion (or show its plan) and exit with the documented code if it did not finish."""
    from tqdm import tqdm

    from ingestion.config import Settings
    from ingestion.pipeline import CoolingDownError, ingest, plan
    from ingestion.spotify import spotify_from_config

    # What the command line names replaces the configured lists.
    given = {"playlists": list(playlists)} if playlists else {}
    given |= {"artists": list(artists)} if artists else {}
    try:
        settings = Settings.from_config()
        if dry_run:
            lines = plan(settings, spotify_from_config(**given))
            click.echo("Dry run: nothing is requested. A run now would fetch:")
            for what, cost in lines:
                click.echo(f"  {cost:>6} requests  {what}")
            click.echo(f"  {sum(c for _, c in lines):>6} requests at least, plus one per album, track and artist found")
            click.echo("                   in today's answers and not fetched within its refresh window.")
            return
        # A progress bar on a terminal; nothing in logs or pipes.
        with tqdm(desc="Spotify requests", unit="req", disable=None, leave=False) as bar:
            summary = ingest(settings, spotify_from_config(**given, on_response=bar.update))
    except ConfigurationError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(EXIT_CONFIGURATION)
    except CoolingDownError as error:
        click.echo(f"Skipped: {error}. Nothing was fetched; run again after it.", err=True)
        sys.exit(EXIT_RATE_LIMITED)
    except RunInProgressError as error:
        click.echo(f"Skipped: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(summary.format())
    if summary.stopped:
        click.echo("Stopped by Spotify's rate limit: what was collected is loaded; the next run resumes.", err=True)
        sys.exit(EXIT_RATE_LIMITED)


_playlist_option = click.option(
    "--playlist",
    "playlists",
    multiple=True,
    help="Playlist id, URI or URL to track (repeatable; replaces sources.spotify.playlists).",
)
_artist_option = click.option(
    "--artist",
    "artists",
    multiple=True,
    help="Artist id, URI or URL to track (repeatable; replaces sources.spotify.artists).",
)


@main.command("ingest")
@_playlist_option
@_artist_option
@click.option("--dry-run", is_flag=True, help="Print what would be fetched and what it costs; request nothing.")
def ingest_command(playlists: tuple[str, ...], artists: tuple[str, ...], dry_run: bool) -> None:
    """Load Spotify into the raw zone and the warehouse (configuration: .dlt/config.toml)."""
    _ingest(playlists, artists, dry_run)


@main.command()
@_playlist_option
@_artist_option
@click.option(
    "--target", default=None, help="dbt target (duckdb, snowflake, athena); default: the configured tunelake.warehouse."
)
def run(playlists: tuple[str, ...], artists: tuple[str, ...], target: str | None) -> None:
    """Ingest, then `dbt build` the models on the same warehouse."""
    from ingestion.config import Settings
    from ingestion.transform import DbtError, run_dbt

    _ingest(playlists, artists)
    try:
        run_dbt(["build"], Settings.from_config(), target=target)
    except DbtError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILED)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run dbt on the dbt project with tunelake's settings (`tunelake dbt build`, `tunelake dbt docs serve`).

    The target is the configured tunelake.warehouse and the duckdb target's file is
    tunelake.duckdb_path, unless the arguments say otherwise.
    """
    from ingestion.config import Settings
    from ingestion.transform import DbtError, run_dbt

    try:
        settings = Settings.from_config()
        run_dbt(list(args) or ["--help"], settings)
    except ConfigurationError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(EXIT_CONFIGURATION)
    except DbtError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILED)


@main.command()
@click.option("--port", default=8501, show_default=True, help="Port on 127.0.0.1.")
def dashboard(port: int) -> None:
    """Serve the dashboard over the configured warehouse's marts on 127.0.0.1 (no usage statistics leave)."""
    import subprocess

    from ingestion.config import Settings
    from ingestion.transform import REPO_ROOT

    try:
        settings = Settings.from_config()
    except ConfigurationError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(EXIT_CONFIGURATION)
    if settings.warehouse == "duckdb" and not Path(settings.duckdb_path).is_file():
        click.echo(
            f"No warehouse at {Path(settings.duckdb_path).resolve()}: run `make demo` (or `tunelake run`) first."
        )
        sys.exit(EXIT_CONFIGURATION)
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    environment = {**os.environ, **settings.dbt_environment()}
    sys.exit(subprocess.run(command, env=environment, check=False).returncode)  # noqa: S603 (our own command)


@main.command()
@click.argument("warehouse", type=click.Choice(["snowflake", "athena", "trino"]))
def smoke(warehouse: str) -> None:
    """Ingest and `dbt build` on a real Snowflake, Athena or Trino warehouse, after checking every setting.

    Refuses (exit 3), naming what is missing, before any request is sent.
    """
    from ingestion.smoke import missing, refusal

    absent = missing(warehouse)
    if absent:
        click.echo(refusal(warehouse, absent), err=True)
        sys.exit(EXIT_CONFIGURATION)
    os.environ["TUNELAKE__WAREHOUSE"] = warehouse
    click.get_current_context().invoke(run, playlists=(), artists=(), target=warehouse)


@main.command()
@click.option(
    "--port", default=8888, show_default=True, help="Port of the redirect URI http://127.0.0.1:PORT/callback."
)
@click.option("--pkce", is_flag=True, help="Use PKCE instead of the client secret (for apps that cannot keep one).")
@click.option("--no-browser", is_flag=True, help="Print the consent URL instead of opening a browser.")
@click.option(
    "--secrets-file",
    default=".dlt/secrets.toml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to store the refresh token (sources.spotify.refresh_token).",
)
def auth(port: int, pkce: bool, no_browser: bool, secrets_file: Path) -> None:
    """Authorize tunelake to read your listening, and store the refresh token.

    Register http://127.0.0.1:PORT/callback as a redirect URI of your Spotify app first.
    """
    import webbrowser

    import dlt

    from ingestion.auth import run_authorization, save_refresh_token
    from ingestion.spotify import settings as source_settings

    client_id: str | None = dlt.secrets.get("sources.spotify.client_id")
    client_secret: str | None = None if pkce else dlt.secrets.get("sources.spotify.client_secret")
    if not client_id or not (pkce or client_secret):
        click.echo(
            "Configuration error: sources.spotify.client_id (and client_secret, or --pkce) are required.", err=True
        )
        sys.exit(EXIT_CONFIGURATION)

    def show(url: str) -> None:
        click.echo(f"Open this URL and allow tunelake to read your listening:\n  {url}", nl=True)
        if not no_browser:
            webbrowser.open(url)

    try:
        refresh_token = run_authorization(
            str(client_id),
            client_secret,
            dlt.config.get("sources.spotify.token_url", str) or source_settings.TOKEN_URL,
            port,
            show,
        )
    except ConfigurationError as error:
        click.echo(f"Authorization failed: {error}", err=True)
        sys.exit(EXIT_CONFIGURATION)
    save_refresh_token(secrets_file, refresh_token)
    click.echo(
        f"Saved the refresh token to {secrets_file} (sources.spotify.refresh_token); tunelake ingest now reads your "
        "recently played, top items, library, follows and playlists.\n"
        "For the Lambda, keep it in AWS Secrets Manager instead, e.g.:\n"
        f"  aws secretsmanager create-secret --name tunelake/spotify --secret-string "
        f'"$(python -c \'import tomllib; s=tomllib.load(open("{secrets_file}", "rb"))["sources"]["spotify"]; '
        f"import json; print(json.dumps(s))')\""
    )


@main.command("import-history")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_history_command(paths: tuple[Path, ...]) -> None:
    """Import Spotify's privacy export: the zip, its folder, or single JSON files.

    Both formats: the extended streaming history (Streaming_History_Audio_*.json, endsong_*.json)
    and the account data (StreamingHistory_music_*.json, StreamingHistory_podcast_*.json).
    Importing the same streams again adds nothing. IP addresses and user agents are never kept.
    """
    from tqdm import tqdm

    from ingestion.config import Settings
    from ingestion.history.importer import import_history

    try:
        settings = Settings.from_config()
        with tqdm(desc="Streams", unit="rows", disable=None, leave=False) as bar:
            summary = import_history(settings, paths, on_row=bar.update)
    except ConfigurationError as error:
        click.echo(f"Nothing imported: {error}", err=True)
        sys.exit(EXIT_CONFIGURATION)
    except RunInProgressError as error:
        click.echo(f"Nothing imported: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(summary.format())
    if not summary.complete:
        click.echo("Some files or rows were not imported (see above); everything else is loaded.", err=True)
        sys.exit(EXIT_PARTIAL)


@main.command()
@click.argument("sql")
def query(sql: str) -> None:
    """Run SQL against the DuckDB warehouse and print the result."""
    import duckdb

    from ingestion.config import Settings

    with duckdb.connect(Settings.from_config().duckdb_path, read_only=True) as con:
        con.sql(sql).show(max_rows=50)


if __name__ == "__main__":
    main()
