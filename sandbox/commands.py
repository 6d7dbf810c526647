"""The development commands of `tunelake`: `sandbox` (serve the stand-in API) and `demo` (everything offline).

`ingestion.cli` loads this module only when one of them is asked for.
"""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime

import click

from ingestion.errors import ConfigurationError
from sandbox.faults import FAULT_KINDS

_tier_option = click.option(
    "--tier",
    type=click.Choice(["development", "extended"]),
    default="development",
    show_default=True,
    help="Quota tier the sandbox imitates: development mode (what new apps get) or extended quota.",
)
_seed_option = click.option("--seed", default=42, show_default=True, help="Seed of the synthetic catalog.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, help="Port to listen on (0 picks a free one).")
@_tier_option
@_seed_option
@click.option("--tracks", default=10_000, show_default=True, help="Approximate catalog size in tracks.")
@click.option(
    "--withheld",
    default=0.02,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Share of albums, artists and tracks that answer 404 when asked for by id.",
)
@click.option(
    "--date",
    "start_date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Simulated date to start on (default: today, UTC).",
)
@click.option("--token-lifetime", default=3600, show_default=True, help="Seconds an access token stays valid.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Latency added to every API response.")
@click.option("--fail-rate", default=0.0, show_default=True, help="Share of API requests (0-1) that fail.")
@click.option(
    "--fail-kinds",
    default=",".join(FAULT_KINDS),
    show_default=True,
    help="Failures drawn from: 429 (short Retry-After), 500, 502, 503, reset, truncate.",
)
@click.option("--retry-after", default=1, show_default=True, help="Retry-After seconds of injected 429s.")
@click.option("--rate-limit", default=0, show_default=True, help="Most API requests per rolling 30 s (0: none).")
@click.option("--fault-seed", default=0, show_default=True, help="Seed of the random faults.")
def sandbox(
    host: str,
    port: int,
    tier: str,
    seed: int,
    tracks: int,
    withheld: float,
    start_date: datetime | None,
    token_lifetime: int,
    latency_ms: float,
    fail_rate: float,
    fail_kinds: str,
    retry_after: int,
    rate_limit: int,
    fault_seed: int,
) -> None:
    """Serve the Spotify sandbox API (a local stand-in for api.spotify.com).

    Faults can also be changed while it runs: POST /_sandbox/faults.
    """
    from sandbox import Catalog, FaultPlan, SandboxApi, SandboxServer

    try:
        faults = FaultPlan(
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            fail_kinds=tuple(k.strip() for k in fail_kinds.split(",") if k.strip()),
            retry_after=retry_after,
            rate_limit=rate_limit,
            seed=fault_seed,
        )
        faults.validate()
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    api = SandboxApi(
        Catalog(seed=seed, tracks=tracks, withheld=withheld),
        tier=tier,
        today=start_date.date() if start_date else None,
        token_lifetime=token_lifetime,
        faults=faults,
    )
    try:
        server = SandboxServer(api, host=host, port=port)
    except OSError as error:
        raise ConfigurationError(
            f"--port {port}: cannot listen on {host}:{port} ({error.strerror}); "
            "another sandbox may be running there: choose another --port (0 picks a free one)"
        ) from None
    catalog = api.catalog
    click.echo(
        f"Spotify sandbox API ({tier} tier) on {server.url}: {catalog.artist_count} artists, "
        f"{catalog.album_count} albums, {catalog.track_count} tracks, simulated date {api.clock.today()}."
    )
    click.echo(f'  api_url   = "{server.api_url}"\n  token_url = "{server.token_url}"')
    click.echo(f"  authorize = {server.url}/authorize (consents at once for the sandbox user)")
    click.echo(
        f"  admin: {server.url}/_sandbox/catalog, /_sandbox/clock, /_sandbox/stats, /_sandbox/faults, "
        "/_sandbox/export (the user's privacy export, a zip)"
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Sandbox stopped.")


@click.command()
@click.option(
    "--days", default=3, show_default=True, type=click.IntRange(min=1), help="Simulated days to ingest, ending today."
)
@_tier_option
@_seed_option
def demo(days: int, tier: str, seed: int) -> None:
    """Run everything offline against the sandbox: ingest several days, dbt build, docs.

    Everything goes to data/demo/ (raw zone, DuckDB, dbt artifacts), whatever is configured:
    the demo reads and writes none of your settings or data.
    """
    from ingestion.exits import EXIT_FAILED
    from ingestion.project import enter_project
    from ingestion.transform import DbtError
    from sandbox.demo import apart, demo_days, demo_settings, format_result, run_demo

    settings = demo_settings(enter_project())
    with apart():
        try:
            result = run_demo(settings, demo_days(days, datetime.now(UTC).date()), tier=tier, seed=seed)
        except DbtError as error:
            click.echo(f"{error}. The lines above name the nodes that failed.", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(format_result(result, settings))
