"""`tunelake demo`: the whole product offline, against the built-in sandbox API.

Starts the sandbox, ingests several simulated days into the demo's own raw zone and DuckDB,
downloads the sandbox user's privacy export and imports it (years of listening the API cannot
reach), builds the dbt project and its docs, and ends with a summary of what is where.

The demo lives apart, under `data/demo/`: its raw zone, warehouse, dlt working folder, dbt
profile, artifacts and logs. It reads no real configuration (`.dlt/*.toml`, `TUNELAKE__*` and
dlt's other environment variables, `dbt_project/profiles.yml`, `DBT_*`) and writes none, so a
configured Snowflake never receives fake plays and a real raw zone never mixes with the
sandbox's. `tunelake dashboard --demo` and `tunelake dbt --demo` read the same places.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
import duckdb
import requests
from dlt.common.configuration.container import Container
from dlt.common.configuration.providers import DictionaryProvider
from dlt.common.configuration.specs.config_providers_context import ConfigProvidersContainer
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from tqdm import tqdm

from ingestion.config import Settings
from ingestion.history.importer import import_history
from ingestion.pipeline import RunSummary, ingest
from ingestion.spotify import Tracked, parse_tracked, spotify
from ingestion.spotify import settings as source_settings
from ingestion.transform import MARTS, PROFILES_TEMPLATE, RunResults, node_line, run_dbt
from sandbox import Catalog, SandboxApi, SandboxServer
from sandbox.user_export import FILENAME as EXPORT_FILENAME

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.events.base_types import EventMsg

DEMO_CLIENT_ID = "tunelake-demo"
DEMO_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 (the sandbox accepts any pair)
DEMO_ARTISTS = 20
DEMO_ALBUMS = (101, 202)
DEMO_QUERIES = ("midnight", "golden hour")
# A market, as a real configuration has: tracks not available there come relinked or unplayable.
DEMO_MARKET = "DE"
# Everything the demo writes, relative to the working folder as the real defaults are (data/raw).
DEMO_DIR = Path("data") / "demo"
# Inside the folder of the demo's warehouse: dbt's artifacts and docs, its logs.
DBT_TARGET = "dbt-target"
DBT_LOGS = "dbt-logs"
# Environment variables a real configuration sets, which the demo's dbt and dlt must not see:
# tunelake's (`TUNELAKE__*` settings, `TUNELAKE_TARGET` and the sources' `TUNELAKE_RAW_SCHEMA`) and
# dbt's flags (`DBT_TARGET`, `DBT_PROFILES_DIR`, `DBT_TARGET_PATH`, ...).
REAL_ENVIRONMENT = ("TUNELAKE_", "DBT_")


def demo_settings(root: Path = Path()) -> Settings:
    """The demo's settings, fixed whatever is configured: everything under `data/demo/` of `root`."""
    folder = root / DEMO_DIR
    return Settings(
        raw_zone_url=str(folder / "raw"),
        warehouse="duckdb",
        duckdb_path=str(folder / "tunelake.duckdb"),
        pipelines_dir=str(folder / "pipelines"),
    )


def dbt_target_path(settings: Settings) -> Path:
    """Where the demo's dbt writes its artifacts and docs: beside its warehouse, never `dbt_project/target`."""
    return Path(settings.duckdb_path).parent / DBT_TARGET


class _OwnConfig(DictionaryProvider):
    """An empty dlt configuration held in memory, writable as `config.toml` is (`dlt.config.values`)."""

    def __init__(self, secrets: bool) -> None:
        super().__init__()
        self._secrets = secrets

    @property
    def name(self) -> str:
        return "tunelake demo secrets" if self._secrets else "tunelake demo config"

    @property
    def supports_secrets(self) -> bool:
        return self._secrets

    @property
    def is_writable(self) -> bool:
        return True


@contextmanager
def apart() -> Iterator[None]:
    """The demo's configuration for the time of the block: what it passes, nothing configured.

    dlt would read `.dlt/config.toml` and `secrets.toml` (here and in ~/.dlt) and every
    `SECTION__KEY` environment variable into the sources and destinations the demo builds (a
    configured `sources.spotify.tier`, `destination.*`); dbt reads `DBT_*` flags and the
    profile's variables. For the block, dlt's providers are an empty one of the demo's own, and
    those environment variables are set aside; both come back afterwards.
    """
    context = Container()[PluggableRunContext]
    providers = context.providers
    hidden = {name: value for name, value in os.environ.items() if name.startswith(REAL_ENVIRONMENT)}
    for name in hidden:
        del os.environ[name]
    config = _OwnConfig(secrets=False)
    # dlt's usage statistics stay off here too, should its runtime settings be read again.
    config.set_value("dlthub_telemetry", False, None, "runtime")
    context.providers = ConfigProvidersContainer([_OwnConfig(secrets=True), config])
    try:
        yield
    finally:
        context.providers = providers
        os.environ.update(hidden)


def demo_dbt(
    args: Sequence[str],
    settings: Settings,
    on_event: Callable[[EventMsg], None] | None = None,
    manifest: Manifest | None = None,
) -> dbtRunnerResult:
    """Run dbt on the demo's warehouse, with the profile template and the demo's own artifacts and logs.

    The project's `profiles.yml` may have been edited for real use; the demo writes the template
    beside its warehouse and reads that. `manifest`, from an earlier `parse`, saves parsing the
    project again (`run_dbt`). Raises `DbtError` when the command fails.
    """
    folder = Path(settings.duckdb_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILES_TEMPLATE, folder / "profiles.yml")
    return run_dbt(
        args,
        settings,
        target="duckdb",
        target_path=dbt_target_path(settings),
        log_path=folder / DBT_LOGS,
        profiles_dir=folder,
        on_event=on_event,
        manifest=manifest,
    )


@dataclass(frozen=True)
class DemoResult:
    days: list[date]
    mart_rows: dict[str, int]
    distinct_dates: int
    raw_files: int
    # fct_listens: the first and last day a play ended, over every source.
    listened_from: date | None
    listened_to: date | None


def demo_days(count: int, last: date) -> list[date]:
    return [last - timedelta(days=offset) for offset in reversed(range(count))]


def tracked_for(catalog: Catalog) -> Tracked:
    """What the demo follows.

    Every playlist of the sandbox, so the demo shows which ones a development app may not
    read, a spread of artists whose discographies to follow, two albums and two searches.
    """
    playlists = [catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)]
    step = max(1, catalog.artist_count // DEMO_ARTISTS)
    artists = [catalog.encode_id("artist", a) for a in range(0, catalog.artist_count, step)][:DEMO_ARTISTS]
    albums = [catalog.encode_id("album", a % catalog.album_count) for a in DEMO_ALBUMS]
    return parse_tracked(playlists, artists, albums, list(DEMO_QUERIES))


def ingest_sandbox_days(
    settings: Settings, days: list[date], tier: str = "development", seed: int = 42, export_to: Path | None = None
) -> RunSummary:
    """The demo's ingestion: a sandbox whose user has authorized the demo, ingested day after day.

    With `export_to`, the user's privacy export of the last day is then downloaded there, as the
    user would download it from Spotify (`GET /_sandbox/export`), before the sandbox stops.
    Returns the last day's run summary.
    """
    catalog = Catalog(seed=seed)
    api = SandboxApi(catalog, tier=tier, today=days[0])
    tracked = tracked_for(catalog)
    with SandboxServer(api) as server:
        click.echo(f"Sandbox Spotify API ({tier} tier, seed {seed}) on {server.url}")
        refresh_token = server.user_refresh_token(
            DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, " ".join(source_settings.USER_SCOPES)
        )
        click.echo("The sandbox user has authorized the demo (as `tunelake auth` does): their listening is loaded too.")
        for number, day in enumerate(days, start=1):
            api.clock.set_date(day)
            # The sandbox has no rate limit unless asked for one; Spotify's default stays in settings.
            source = spotify(
                playlists=list(tracked.playlists),
                artists=list(tracked.artists),
                albums=list(tracked.albums),
                queries=list(tracked.queries),
                client_id=DEMO_CLIENT_ID,
                client_secret=DEMO_CLIENT_SECRET,
                refresh_token=refresh_token,
                api_url=server.api_url,
                token_url=server.token_url,
                market=DEMO_MARKET,
                requests_per_second=2_000,
            )
            summary = ingest(settings, source)
            click.echo(
                f"[day {number}/{len(days)}] {day}: {sum(summary.requests.values())} requests, "
                f"{sum(summary.warehouse_rows.values())} rows into the warehouse in {summary.seconds:.1f} s, "
                f"{len(summary.skipped)} ids skipped"
            )
        if export_to is not None:
            download_export(server.url, export_to)
            click.echo(
                f"Downloaded the sandbox user's privacy export ({export_to.stat().st_size:,} bytes) to {export_to}"
            )
    return summary


def download_export(sandbox_url: str, path: Path) -> None:
    """Download the sandbox user's export over HTTP, as the user downloads theirs from Spotify's link."""
    answer = requests.get(f"{sandbox_url}/_sandbox/export", timeout=120)
    answer.raise_for_status()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(answer.content)


def run_demo(settings: Settings, days: list[date], tier: str = "development", seed: int = 42) -> DemoResult:
    export = Path(settings.duckdb_path).parent / EXPORT_FILENAME
    summary = ingest_sandbox_days(settings, days, tier, seed, export_to=export)
    for skipped in summary.skipped:
        click.echo(f"  skipped {skipped.kind} {skipped.entity_id}: {skipped.reason}")
    click.echo("Sandbox stopped. Importing the privacy export (as `tunelake import-history` does)...")
    with tqdm(desc="Streams", unit="rows", disable=None, leave=False) as bar:
        imported = import_history(settings, [export], on_row=bar.update)
    click.echo(
        f"Imported {imported.kept:,} rows (streams and account-data plays) from {len(imported.files)} files "
        f"in {imported.seconds:.1f} s"
        + ("" if imported.complete else " (some rows were rejected: run `tunelake import-history` on it to see)")
    )
    build_dbt(settings)
    # Not read-only: dbt, run in this process, may still hold the file with default settings.
    with duckdb.connect(settings.duckdb_path) as con:
        mart_rows = {m: con.sql(f"select count(*) from marts.{m}").fetchone()[0] for m in MARTS}  # noqa: S608
        distinct_dates = con.sql(
            "select count(distinct observed_date) from marts.fct_track_popularity_daily"
        ).fetchone()[0]
        listened_from, listened_to = con.sql(
            "select min(ended_date), max(ended_date) from marts.fct_listens"
        ).fetchone()
    raw_files = (
        sum(1 for _ in Path(settings.raw_zone_url).rglob("*.jsonl.gz")) if "://" not in settings.raw_zone_url else 0
    )
    return DemoResult(days, mart_rows, distinct_dates, raw_files, listened_from, listened_to)


def build_dbt(settings: Settings) -> None:
    """`dbt build` with a line per model and per test that did not pass, then one line of results; the docs.

    Both run in this process on one parse of the project (dbt's `dbtRunner` with its manifest).

    Raises:
        DbtError: when the build fails (after its lines and results are printed).
    """
    click.echo("Building the dbt project (dbt build: a line per model, and per test that does not pass)...")
    # One parse for both commands: the docs describe the project the build just ran.
    manifest = demo_dbt(["parse", "--quiet"], settings).result

    def show(event: EventMsg) -> None:
        line = node_line(event)
        if line:
            click.echo(line)

    try:
        demo_dbt(["build", "--quiet"], settings, on_event=show, manifest=manifest)
    finally:
        results = RunResults.read(dbt_target_path(settings))
        if results:
            click.echo(results.line())
    click.echo("Generating the dbt docs (dbt docs generate)...")
    demo_dbt(["docs", "generate", "--quiet"], settings, manifest=manifest)


def format_result(result: DemoResult, settings: Settings) -> str:
    """The closing summary of the demo (the text mentions SQL, it runs none)."""
    marts = "\n".join(f"  marts.{name:<28} {rows:>7} rows" for name, rows in result.mart_rows.items())
    listening = "no plays"
    if result.listened_from and result.listened_to:
        years = (result.listened_to - result.listened_from).days / 365.25
        listening = (
            f"{result.mart_rows.get('fct_listens', 0):,} plays in marts.fct_listens over {years:.1f} years, "
            f"{result.listened_from} to {result.listened_to}"
        )
    return f"""
tunelake demo finished: {len(result.days)} simulated days ({result.days[0]} to {result.days[-1]}).
Listening history (the privacy export and the API's plays, each play once): {listening}.

Marts in the demo's warehouse:
{marts}
  ({result.distinct_dates} distinct dates in fct_track_popularity_daily)

Where things are (the demo's own, apart from your configuration; `make clean` removes them):
  DuckDB warehouse   {Path(settings.duckdb_path).resolve()}
  Raw zone           {Path(settings.raw_zone_url).resolve()}  ({result.raw_files} gzipped JSONL files,
                     laid out as <table>/load_date=YYYY-MM-DD/<load_id>.<file_id>.jsonl.gz)
  Privacy export     {(Path(settings.duckdb_path).parent / EXPORT_FILENAME).resolve()}
  dbt artifacts      {dbt_target_path(settings).resolve()}  (manifest, docs)

Next:
  make dashboard-demo                    open the dashboard over the demo on http://127.0.0.1:8501
  make docs-demo                         serve the demo's dbt docs on http://127.0.0.1:8080
  .venv/bin/tunelake dbt --demo show --inline "select * from marts.dim_tracks" --limit 10
  .venv/bin/tunelake dbt --demo build    dbt on the demo's warehouse (any dbt command)
Your own data goes elsewhere (tunelake.* in .dlt/config.toml; `tunelake run`), and
`make dashboard` and `make docs` read that.
"""  # noqa: S608
