"""Helpers shared by the loader's tests: configured crawlers, sandbox counters, mart snapshots."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import requests

from ingestion.config import Settings
from ingestion.pipeline import ingest
from ingestion.project import PROJECT_VARIABLE
from ingestion.spotify import SpotifySource, Tracked, parse_tracked, spotify, tables
from ingestion.transform import MARTS, run_dbt
from sandbox import Catalog, SandboxApi, SandboxServer
from sandbox import export as exports
from sandbox.demo import download_export
from tests.conftest import LOOPBACK_REDIRECT, authorization_code

DAY = date(2026, 11, 1)
# `dbt compile` with no warehouse: no relation cache, and incremental models render their full
# refresh (is_incremental() would ask the warehouse).
OFFLINE_COMPILE = ["compile", "--quiet", "--no-populate-cache", "--vars", "{offline_compile: true}"]
# What the athena target needs to render offline; nothing here reaches AWS.
ATHENA_OFFLINE_ENVIRONMENT = {
    "ATHENA_S3_STAGING_DIR": "s3://example-bucket/athena/",
    "ATHENA_S3_DATA_DIR": "s3://example-bucket/tables/",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "example",
    "AWS_SECRET_ACCESS_KEY": "example",
}
ARTISTS, ALBUMS, QUERIES = (0, 3), (20, 21), ("midnight", "golden river")


def tracked_for(catalog: Catalog) -> Tracked:
    return parse_tracked(
        [catalog.encode_id("playlist", p) for p in range(catalog.playlist_count)],
        [catalog.encode_id("artist", a) for a in ARTISTS],
        [catalog.encode_id("album", a) for a in ALBUMS],
        list(QUERIES),
    )


def refresh_token(server: SandboxServer) -> str:
    answer = requests.post(
        server.token_url,
        data={
            "grant_type": "authorization_code",
            "code": authorization_code(server),
            "redirect_uri": LOOPBACK_REDIRECT,
        },
        auth=("test-client", "test-secret"),
        timeout=5,
    )
    return answer.json()["refresh_token"]


# A market, as a real configuration has: tracks unavailable there come relinked or unplayable.
MARKET = "DE"


def source_for(server: SandboxServer, user: bool = False, tier: str = "auto", **options) -> SpotifySource:
    """The spotify source against `server`, tracking `tracked_for` its catalog, in the market `MARKET`."""
    tracked = tracked_for(server.api.catalog)
    return spotify(
        playlists=list(tracked.playlists),
        artists=list(tracked.artists),
        albums=list(tracked.albums),
        queries=list(tracked.queries),
        client_id="test-client",
        client_secret="test-secret",
        refresh_token=refresh_token(server) if user else None,
        api_url=server.api_url,
        token_url=server.token_url,
        market=MARKET,
        tier=tier,
        requests_per_second=2_000,
        retry_base=0.05,
        **options,
    )


def streams_every(first: datetime, step: timedelta, count: int) -> list[dict]:
    """`count` generated export streams (`sandbox.export.extended`), the n-th ending at `first` + n x `step`."""
    return [
        stream | {"ts": f"{first + n * step:%Y-%m-%dT%H:%M:%SZ}"} for n, stream in enumerate(exports.extended(count))
    ]


def stats(server: SandboxServer) -> dict[tuple[str, int], int]:
    rows = requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()["requests"]
    return {(row["endpoint"], row["status"]): row["count"] for row in rows}


def reset_stats(server: SandboxServer) -> None:
    requests.post(f"{server.url}/_sandbox/stats/reset", timeout=5)


def table_counts(settings_: Settings) -> dict[str, int]:
    with duckdb.connect(settings_.duckdb_path) as con:
        present = {
            row[0]
            for row in con.sql(
                "select table_name from information_schema.tables where table_schema = 'spotify'"
            ).fetchall()
        }
        return {
            t: con.sql(f"select count(*) from spotify.{t}").fetchone()[0] if t in present else 0 for t in tables.TABLES
        }


def mart_rows(settings_: Settings) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted (after a dbt build)."""
    run_dbt(["build", "--quiet"], duckdb_path=settings_.duckdb_path)
    with duckdb.connect(settings_.duckdb_path) as con:
        return {mart: sorted(con.sql(f"select * from marts.{mart}").fetchall(), key=repr) for mart in MARTS}


def other_settings(tmp_path, name: str) -> Settings:
    return Settings(
        raw_zone_url=str(tmp_path / name / "raw"),
        duckdb_path=str(tmp_path / name / "tunelake.duckdb"),
        pipelines_dir=str(tmp_path / name / "pipelines"),
    )


def cli_environment(server: SandboxServer, root, client_secret: str = "secret", **sources: object) -> dict[str, str]:
    """Environment for `tunelake` against the sandbox, writing under `root`.

    `sources` become `SOURCES__SPOTIFY__<NAME>` (lists as JSON). `root` is created: it is the
    project's folder (TUNELAKE_PROJECT_DIR).
    """
    Path(root).mkdir(parents=True, exist_ok=True)
    environment = {
        "SOURCES__SPOTIFY__CLIENT_ID": "test-client",
        "SOURCES__SPOTIFY__CLIENT_SECRET": client_secret,
        "SOURCES__SPOTIFY__API_URL": server.api_url,
        "SOURCES__SPOTIFY__TOKEN_URL": server.token_url,
        "SOURCES__SPOTIFY__REQUESTS_PER_SECOND": "2000",
        "SOURCES__SPOTIFY__RETRY_BASE": "0.05",
        "SOURCES__SPOTIFY__MARKET": MARKET,
        "TUNELAKE__RAW_ZONE_URL": str(root / "raw"),
        "TUNELAKE__DUCKDB_PATH": str(root / "tunelake.duckdb"),
        "TUNELAKE__PIPELINES_DIR": str(root / "pipelines"),
        # A project configured by the environment alone: `root` holds no `.dlt/`.
        PROJECT_VARIABLE: str(root),
    }
    for name, value in sources.items():
        environment[f"SOURCES__SPOTIFY__{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return environment


def comparable(value: object) -> object:
    """One value as every engine returns it: instants in UTC, decimals as rounded floats.

    Snowflake's connector and DuckDB differ in Python types only (Decimal or float, aware
    datetimes in the session's zone); the values themselves must match.
    """
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, Decimal | float):
        return round(float(value), 9)
    return value


def comparable_rows(rows: Iterable[Sequence[object]]) -> list[tuple]:
    """Rows with `comparable` values, sorted, so two engines' answers compare with ==."""
    return sorted((tuple(comparable(v) for v in row) for row in rows), key=repr)


def ingest_days(
    settings_: Settings, days: Sequence[date], seed: int = 7, tracks: int = 2_000, export_to: Path | None = None
) -> None:
    """One run a day over `days` from a new development-tier sandbox, with the user's listening.

    With `export_to`, the user's privacy export of the last day is downloaded there, as the demo does.
    """
    server = SandboxServer(SandboxApi(Catalog(seed=seed, tracks=tracks), today=days[0])).start()
    try:
        for day in days:
            server.api.clock.set_date(day)
            ingest(settings_, source_for(server, user=True))
        if export_to is not None:
            download_export(server.url, export_to)
    finally:
        server.stop()


@contextmanager
def held_by_another_run(raw_zone_url: str) -> Iterator[None]:
    """The raw zone's lock held by another thread for the block, as another run in this process would.

    Not this thread: `run_lock.hold` is re-entrant within one thread (the CLI holds it, then the run).
    """
    from ingestion import run_lock

    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with run_lock.hold(raw_zone_url, "ingest"):
            held.set()
            done.wait(timeout=600)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(timeout=60), "the lock was not taken"
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=60)


def file_text(path: Path) -> str:
    """A raw-zone file's content as text, to search for what must not be there.

    Gzipped JSON lines decompressed, parquet files (compaction, the fetch-date index) as their
    rows in JSON, anything else decoded as it is.
    """
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data).decode()
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return json.dumps(pq.read_table(path).to_pylist(), default=str)
    return data.decode(errors="replace")
