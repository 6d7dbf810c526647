"""The `tunelake` command line."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from ingestion.errors import ConfigurationError, RunInProgressError
from ingestion.exits import (
    DEBUG_VARIABLE,
    EXIT_CONFIGURATION,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_RATE_LIMITED,
    EXIT_USAGE,
    debugging,
    explain,
)

if TYPE_CHECKING:
    from datetime import datetime

    from ingestion.compaction import DayResult
    from ingestion.config import Settings

__all__ = [
    "EXIT_CONFIGURATION",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_RATE_LIMITED",
    "EXIT_USAGE",
    "main",
]


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

    def invoke(self, ctx: click.Context) -> object:
        """Every command's errors as messages with their exit code (`ingestion.exits`), tracebacks on demand."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:
            if debugging():
                raise
            code, message = explain(error)
            click.echo(message, err=True)
            ctx.exit(code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.option("--debug", is_flag=True, help=f"Show the traceback of an error (also {DEBUG_VARIABLE}=1).")
@click.version_option(package_name="tunelake", prog_name="tunelake", message="%(prog)s %(version)s")
def main(verbose: bool, debug: bool) -> None:
    """tunelake: Spotify analytics on dlt, dbt and DuckDB, Snowflake, Athena or Trino."""
    _no_telemetry()
    _setup_logging(verbose)
    if debug:
        os.environ[DEBUG_VARIABLE] = "1"


def project_settings() -> Settings:
    """The settings of the project this command runs in (found from a subdirectory too)."""
    from ingestion.config import Settings
    from ingestion.project import enter_project

    enter_project()
    return Settings.from_config()


def _ingest(
    playlists: tuple[str, ...] = (),
    artists: tuple[str, ...] = (),
    albums: tuple[str, ...] = (),
    queries: tuple[str, ...] = (),
    dry_run: bool = False,
) -> None:
    """Run one ingestion (or show its plan) and exit with the documented code if it did not finish."""
    # What the command line names replaces the configured lists.
    named = {"playlists": playlists, "artists": artists, "albums": albums, "queries": queries}
    given: dict[str, object] = {name: list(values) for name, values in named.items() if values}
    settings = project_settings()
    if dry_run:
        _plan(settings, given)
        return
    from ingestion import run_lock

    try:
        # Taken before the pipeline's imports (seconds on a busy machine): a second run is
        # refused at once. `ingest` holds it again, re-entrantly.
        with run_lock.hold(settings.raw_zone_url, "ingest"):
            _run(settings, given)
    except RunInProgressError as error:
        click.echo(f"Skipped: {error}", err=True)
        sys.exit(EXIT_LOCKED)


def _plan(settings: Settings, given: dict[str, object]) -> None:
    """Show what a run would fetch; a plan sends nothing, so it needs no credentials."""
    import dlt

    from ingestion.pipeline import plan
    from ingestion.spotify import spotify_from_config

    # Placeholders stand in for missing credentials.
    for secret in ("client_id", "client_secret"):
        configured: str | None = dlt.secrets.get(f"sources.spotify.{secret}")
        given.setdefault(secret, configured or "dry-run")
    lines = plan(settings, spotify_from_config(**given))
    click.echo("Dry run: nothing is requested. A run now would fetch:")
    for what, cost in lines:
        click.echo(f"  {cost:>6} requests  {what}")
    click.echo(f"  {sum(c for _, c in lines):>6} requests at least, plus one per album, track and artist found")
    click.echo("                   in today's answers and not fetched within its refresh window.")


def _run(settings: Settings, given: dict[str, object]) -> None:
    """One ingestion, its summary, and the documented exit code if it did not finish."""
    from tqdm import tqdm

    from ingestion.pipeline import CoolingDownError, ingest
    from ingestion.spotify import spotify_from_config

    try:
        # A progress bar on a terminal; nothing in logs or pipes.
        with tqdm(desc="Spotify requests", unit="req", disable=None, leave=False) as bar:
            source = spotify_from_config(**given, on_response=bar.update)
            summary = ingest(settings, source)
    except CoolingDownError as error:
        click.echo(f"Skipped: {error}. Nothing was fetched; run again after it.", err=True)
        sys.exit(EXIT_RATE_LIMITED)
    click.echo(summary.format())
    if summary.stopped:
        click.echo("Stopped by Spotify's rate limit: what was collected is loaded; the next run resumes.", err=True)
        sys.exit(EXIT_RATE_LIMITED)
    refused = summary.nothing_asked_loaded(source.crawler.tracked)
    if refused:
        click.echo(f"Nothing you asked for was loaded: {refused}", err=True)
        sys.exit(EXIT_PARTIAL)


# The command line's tracked ids: (option, setting, what one value is). Each replaces its setting.
_TRACKED = (
    ("--playlist", "playlists", "Playlist id, URI or URL to track"),
    ("--artist", "artists", "Artist id, URI or URL to track"),
    ("--album", "albums", "Album id, URI or URL to track"),
    ("--query", "queries", "Search query whose ranked results to record"),
)


def _tracked_options(command: Callable[..., None]) -> Callable[..., None]:
    # Applied last to first, so `--help` lists them in _TRACKED's order.
    for flag, setting, what in reversed(_TRACKED):
        help_text = f"{what} (repeatable; replaces sources.spotify.{setting})."
        command = click.option(flag, setting, multiple=True, help=help_text)(command)
    return command


@main.command("ingest")
@_tracked_options
@click.option("--dry-run", is_flag=True, help="Print what would be fetched and what it costs; request nothing.")
def ingest_command(
    playlists: tuple[str, ...],
    artists: tuple[str, ...],
    albums: tuple[str, ...],
    queries: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Load Spotify into the raw zone and the warehouse (configuration: .dlt/config.toml)."""
    _ingest(playlists, artists, albums, queries, dry_run)


@main.command()
@_tracked_options
@click.option(
    "--target", default=None, help="dbt target (duckdb, snowflake, athena); default: the configured tunelake.warehouse."
)
def run(
    playlists: tuple[str, ...],
    artists: tuple[str, ...],
    albums: tuple[str, ...],
    queries: tuple[str, ...],
    target: str | None,
) -> None:
    """Ingest, then `dbt build` the models on the same warehouse."""
    from ingestion.transform import DbtError, run_dbt

    _ingest(playlists, artists, albums, queries)
    try:
        run_dbt(["build"], project_settings(), target=target)
    except DbtError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILED)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.option("--demo", is_flag=True, help="On the demo's warehouse, profile and artifacts (data/demo/), not yours.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(demo: bool, args: tuple[str, ...]) -> None:
    """Run dbt on the dbt project with tunelake's settings (`tunelake dbt build`, `tunelake dbt docs serve`).

    The target is the configured tunelake.warehouse and the duckdb target's file is
    tunelake.duckdb_path, unless the arguments say otherwise. With --demo (`tunelake dbt --demo
    docs serve`): the demo's DuckDB file, profile template and dbt artifacts under data/demo/,
    whatever is configured.
    """
    from ingestion.transform import DbtError, run_dbt

    try:
        if demo:
            from ingestion.project import enter_project
            from sandbox.demo import apart, demo_dbt, demo_settings

            settings = demo_settings(enter_project())
            if not Path(settings.duckdb_path).is_file():
                click.echo(_no_warehouse(Path(settings.duckdb_path), demo=True), err=True)
                sys.exit(EXIT_CONFIGURATION)
            with apart():
                demo_dbt(list(args) or ["--help"], settings)
        else:
            run_dbt(list(args) or ["--help"], project_settings())
    except DbtError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_FAILED)


@main.command()
@click.option("--port", default=8501, show_default=True, help="Port on 127.0.0.1.")
@click.option("--demo", is_flag=True, help="Over the demo's warehouse (data/demo/tunelake.duckdb), not yours.")
def dashboard(port: int, demo: bool) -> None:
    """Serve the dashboard over the configured warehouse's marts on 127.0.0.1 (no usage statistics leave).

    With --demo, over the demo's marts (`make dashboard-demo`), whatever is configured.
    """
    import subprocess

    from ingestion.transform import REPO_ROOT

    if demo:
        from ingestion.project import enter_project
        from sandbox.demo import demo_settings

        settings = demo_settings(enter_project())
    else:
        settings = project_settings()
    if settings.warehouse == "duckdb" and not Path(settings.duckdb_path).is_file():
        click.echo(_no_warehouse(Path(settings.duckdb_path), demo), err=True)
        sys.exit(EXIT_CONFIGURATION)
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    environment = {**os.environ, **settings.dbt_environment()}
    sys.exit(subprocess.run(command, env=environment, check=False).returncode)  # noqa: S603 (our own command)


def _no_warehouse(path: Path, demo: bool) -> str:
    """What to run when there is no DuckDB file to read: never the other warehouse in silence."""
    if demo:
        return f"No demo warehouse at {path.resolve()}: run `make demo` first."
    from sandbox.demo import demo_settings

    demo_path = Path(demo_settings().duckdb_path)
    if demo_path.is_file():
        return (
            f"No warehouse at {path.resolve()} (tunelake.duckdb_path) yet: `tunelake run` builds yours. "
            f"The demo's is at {demo_path.resolve()}: `make dashboard-demo` (tunelake dashboard --demo) opens it."
        )
    return (
        f"No warehouse at {path.resolve()} (tunelake.duckdb_path): `tunelake run` builds yours, "
        "or `make demo` then `make dashboard-demo` shows the demo."
    )


# The raw tables of plays and the column saying when each ended.
_PLAY_TABLES = {"plays": "played_at", "history_streams": "ended_at", "history_account_plays": "ended_at"}


def _raw_zone_contents(folder: Path) -> str:
    """What a local raw zone holds, for the confirmation: files, size, and the days its plays span."""
    import duckdb

    from ingestion.pipeline import DATASET

    files = [path for path in folder.rglob("*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    days = []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for table, column in _PLAY_TABLES.items():
            # JSON lines as loaded, parquet as compacted (`tunelake compact`).
            readers = {
                "*.jsonl*": f"read_json(?, format = 'newline_delimited', columns = {{'{column}': 'varchar'}})",
                "*.parquet": "read_parquet(?)",
            }
            for pattern, read in readers.items():
                found = sorted(str(path) for path in folder.glob(f"{DATASET}/{table}/load_date=*/{pattern}"))
                if found:
                    row = con.execute(
                        f"select cast(min(cast({column} as timestamptz)) as date), "  # noqa: S608 (our own names)
                        f"cast(max(cast({column} as timestamptz)) as date) from {read}",
                        [found],
                    ).fetchone()
                    days += [day for day in row or () if day is not None]
    plays = f"plays from {min(days)} to {max(days)}" if days else "no plays"
    return f"{len(files):,} files, {size / 1e6:,.1f} MB; {plays}"


@main.command("clean-raw-zone")
@click.option("--yes", is_flag=True, help="Delete without asking (scripts; there is no undo).")
def clean_raw_zone(yes: bool) -> None:
    """Delete the configured raw zone (a local folder), after saying what is lost and asking.

    The raw zone is the only copy of plays older than Spotify's last 50 and of every daily
    snapshot; the warehouse is rebuilt from it. Without a terminal, only --yes deletes it.
    """
    import shutil

    settings = project_settings()
    if "://" in settings.raw_zone_url:
        click.echo(
            f"The raw zone is {settings.raw_zone_url}: tunelake deletes local raw zones only. It is the only copy "
            "of plays older than Spotify's last 50; delete its objects with your storage's own tools if you mean it.",
            err=True,
        )
        sys.exit(EXIT_CONFIGURATION)
    folder = Path(settings.raw_zone_url).resolve()
    if not folder.exists():
        click.echo(f"No raw zone at {folder} (tunelake.raw_zone_url): nothing to delete.")
        return
    click.echo(f"Raw zone {folder} (tunelake.raw_zone_url): {_raw_zone_contents(folder)}.")
    click.echo(
        "It is the only copy of every play older than Spotify's last 50 recently played (unless you keep "
        "the privacy export) and of every daily snapshot (popularity, playlists, searches): Spotify cannot "
        "give them back, and the warehouse can no longer be rebuilt from it."
    )
    if not yes:
        if not sys.stdin.isatty():
            click.echo("Not deleted: confirm in a terminal, or pass --yes.", err=True)
            sys.exit(EXIT_CONFIGURATION)
        if not click.confirm(f"Delete {folder} and everything in it?", default=False):
            click.echo("Nothing deleted.")
            return
    shutil.rmtree(folder)
    click.echo(f"Deleted {folder}.")


@main.command()
@click.argument("warehouse", type=click.Choice(["snowflake", "athena", "trino"]))
def smoke(warehouse: str) -> None:
    """Ingest and `dbt build` on a real Snowflake, Athena or Trino warehouse, after checking every setting.

    Refuses (exit 3), naming what is missing, before any request is sent.
    """
    from ingestion.project import enter_project
    from ingestion.smoke import missing, refusal

    enter_project()
    absent = missing(warehouse)
    if absent:
        click.echo(refusal(warehouse, absent), err=True)
        sys.exit(EXIT_CONFIGURATION)
    os.environ["TUNELAKE__WAREHOUSE"] = warehouse
    click.get_current_context().invoke(run, playlists=(), artists=(), albums=(), queries=(), target=warehouse)


DEFAULT_SECRETS_FILE = Path(".dlt/secrets.toml")


@main.command()
@click.option(
    "--port", default=8888, show_default=True, help="Port of the redirect URI http://127.0.0.1:PORT/callback."
)
@click.option("--pkce", is_flag=True, help="Use PKCE instead of the client secret (for apps that cannot keep one).")
@click.option("--no-browser", is_flag=True, help="Print the consent URL instead of opening a browser.")
@click.option(
    "--secrets-file",
    default=str(DEFAULT_SECRETS_FILE),
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
    from ingestion.project import enter_project
    from ingestion.spotify import settings as source_settings

    secrets_file = secrets_file.resolve() if secrets_file != DEFAULT_SECRETS_FILE else secrets_file
    enter_project()
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

    from ingestion.history.importer import import_history

    # The paths are the user's, from where they typed them; the project may be a folder above.
    paths = tuple(path.resolve() for path in paths)
    try:
        settings = project_settings()
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
@click.option("--dry-run", is_flag=True, help="List the closed days that would be compacted; change nothing.")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Compact the days before this UTC date (YYYY-MM-DD) instead of before today.",
)
def compact(dry_run: bool, before: datetime | None) -> None:
    """Compact the raw zone: each closed UTC day's loads into one parquet file per table.

    Keeps the latest load's row of each key, as the warehouse load does: a warehouse rebuilt
    from the compacted raw zone has the same rows. Today's loads are left alone (with --before
    a later date, a load that still comes on a compacted day is folded in by the next
    compaction). Safe to stop at any point and to run again; it waits for no run: one in
    progress makes it exit 6.
    """
    from tqdm import tqdm

    from ingestion.compaction import compact as compact_raw_zone

    settings = project_settings()
    # A line per day on a terminal; nothing in logs or pipes.
    with tqdm(desc="Days compacted", unit="day", disable=None, leave=False) as bar:

        def progress(day: DayResult) -> None:
            bar.set_postfix_str(f"{day.day}: {day.loads} loads, {day.files_before} -> {day.files_after} files")
            bar.update()

        summary = compact_raw_zone(
            settings.raw_zone_url, today=before.date() if before else None, dry_run=dry_run, on_day=progress
        )
    click.echo(summary.format())


@main.command()
@click.argument("sql")
def query(sql: str) -> None:
    """Run SQL against the DuckDB warehouse and print the result (at most 50 rows)."""
    import duckdb

    from ingestion.preflight import duckdb_unavailable

    settings = project_settings()
    if settings.warehouse != "duckdb":
        raise ConfigurationError(
            f"tunelake.warehouse is {settings.warehouse}: `tunelake query` reads the DuckDB warehouse only; "
            "query the marts in your warehouse's own console or BI tool"
        )
    if not sql.strip():
        raise click.UsageError('SQL is empty: give a query, e.g. tunelake query "select * from marts.dim_tracks"')
    path = Path(settings.duckdb_path)
    if not path.is_file():
        raise ConfigurationError(f"tunelake.duckdb_path: no warehouse at {path.resolve()}: run `tunelake run` first")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.sql(sql).show(max_rows=50)
    except duckdb.IOException as error:
        raise ConfigurationError(f"tunelake.duckdb_path: {duckdb_unavailable(str(path), error)}") from None
    except duckdb.Error as error:
        click.echo(f"Query failed: {str(error).strip()}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
