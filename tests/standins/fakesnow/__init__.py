"""The Snowflake stand-in: a fakesnow server process, and dbt project copies that run against it.

fakesnow lives in its own environment (`.venv-fakesnow`, from this folder's pyproject.toml and
uv.lock: it needs duckdb 2.0, the project 1.5), so it runs as a server process (serve.py) and
clients talk to it over HTTP through the ordinary Snowflake connector.

A statement fakesnow cannot run comes back as HTTP 500, which the Snowflake connector retries for
many minutes; dbt-snowflake's profile has no setting to shorten that. Run dbt against the server
in a subprocess with a timeout, and read the server's log (`log=`) to see what it failed on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.transform import DBT_PROJECT_DIR

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PYTHON = REPO_ROOT / ".venv-fakesnow" / "bin" / "python"
SERVE = HERE / "serve.py"
COMPAT_MACROS = HERE / "macros" / "fakesnow_compat.sql"
DATABASE = "TUNELAKE"
# The session time zone of a Snowflake account, user and session that set no TIMEZONE.
ACCOUNT_DEFAULT_TIME_ZONE = "America/Los_Angeles"

PROFILE = """\
# Written by tests/standins/fakesnow: the snowflake target is a fakesnow server on 127.0.0.1.
tunelake:
  target: snowflake
  outputs:
    snowflake:
      type: snowflake
      account: fakesnow
      user: tunelake
      password: stand-in
      host: {host}
      port: {port}
      protocol: http
      database: {database}
      schema: analytics
      threads: {threads}
      connect_timeout: 10
      connect_retries: 0
"""


@dataclass(frozen=True)
class FakesnowServer:
    """A running fakesnow server: where it listens, and a way to connect to it."""

    host: str
    port: int

    def connect(self, database: str | None = DATABASE, schema: str | None = None, **options: Any) -> Any:
        """A Snowflake connector connection, with timeouts (see the module's docstring)."""
        import snowflake.connector

        return snowflake.connector.connect(
            account="fakesnow",
            user="tunelake",
            password="stand-in",
            host=self.host,
            port=self.port,
            protocol="http",
            database=database,
            schema=schema,
            login_timeout=10,
            network_timeout=30,
            **options,
        )


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextmanager
def fakesnow_server(
    host: str = "127.0.0.1", startup_seconds: float = 60, log: Path | None = None, time_zone: str = "UTC"
) -> Iterator[FakesnowServer]:
    """Start a fakesnow server on a free port, wait until it takes a connection, stop it after.

    Its databases live in memory: each server starts empty. `log` receives the server's output
    (one line per statement it rejects, a traceback per HTTP 500); by default it is discarded.
    `time_zone` is the zone its sessions run in (ACCOUNT_DEFAULT_TIME_ZONE: as an account that
    sets none; see serve.py).
    """
    if not PYTHON.exists():
        raise FileNotFoundError(f"{PYTHON} is missing: run `uv sync --locked` in {HERE}")
    port = _free_port(host)
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(PYTHON), str(SERVE), host, str(port), time_zone], stdout=output, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"fakesnow exited with {process.returncode} before it listened")
            with socket.socket() as probe:
                if probe.connect_ex((host, port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"fakesnow did not listen on {host}:{port} within {startup_seconds} s")
            time.sleep(0.2)
        server = FakesnowServer(host, port)
        server.connect(database=None).close()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if log:
            output.close()


def prepare_dbt_project(
    destination: Path,
    server: FakesnowServer,
    database: str = DATABASE,
    threads: int = 4,
    source: Path = DBT_PROJECT_DIR,
) -> Path:
    """Copy the dbt project to `destination`, set up for its `snowflake` target on `server`.

    The copy gets the compatibility macros (macros/fakesnow_compat.sql: each one changes what it
    emits only when `target.account == 'fakesnow'`) and a profiles.yml, so `--project-dir` and
    `--profiles-dir` are both `destination`. The dbt sources are read from `database` too (schema
    `spotify`, or TUNELAKE_RAW_SCHEMA). The project itself is not touched.
    """
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("target", "logs", "profiles.yml"))
    shutil.copyfile(COMPAT_MACROS, destination / "macros" / COMPAT_MACROS.name)
    profile = PROFILE.format(host=server.host, port=server.port, database=database, threads=threads)
    (destination / "profiles.yml").write_text(profile)
    return destination
