"""Trino on 127.0.0.1: the stand-in for Athena, over a Glue catalog and S3 served by moto_server.

Athena engine v3 is a fork of Trino, and Athena's Iceberg tables are Trino's Iceberg connector on
a Glue catalog. This starts the real Trino server (476, the newest tarball on Maven Central,
downloaded by `make install-dev` into TUNELAKE_TRINO_CACHE) on Temurin 25, with one catalog named
`awsdatacatalog` as on Athena: Iceberg tables whose entries live in moto's Glue and whose files
live in a bucket on the same moto. Trino's own tests run the Iceberg connector against moto the
same way.

What it proves: SQL executed by the engine Athena is built on, Iceberg CTAS, MERGE, `day()`
partitions, and the Glue entries and S3 files those statements leave behind.

What it cannot prove: Athena's own differences from Trino (missing functions, the 100-partition
limit per write, Lake Formation, IAM, workgroups, query results in S3, the Athena API itself),
and Glue fields Athena writes that Trino does not (see the README). moto is not safe for
concurrent writers: run one writer at a time against it (dbt `threads: 1`).

A server takes 10 s to 25 s to start on 2 cores and holds about 0.5 GB; start one per test
session where possible (the `trino_standin` fixture in tests/conftest.py), and give each test a
schema of its own.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.standins import moto

VERSION = "476"
# The same default as the Makefile's TUNELAKE_TRINO_CACHE.
CACHE = Path(
    os.environ.get("TUNELAKE_TRINO_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tunelake" / "trino"
)
SERVER_HOME = CACHE / f"trino-server-{VERSION}"
# Trino 476 needs Java 24 or newer; the machine's default Java is 17.
JAVA_HOME = Path(os.environ.get("TUNELAKE_TRINO_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"))
CATALOG = "awsdatacatalog"
BUCKET = "tunelake-lake"
# The folder of the bucket where tables created without a location go (Trino adds `<schema>.db/`).
WAREHOUSE_FOLDER = "warehouse"
USER = "tunelake"

# TieredStopAtLevel=1 (no C2 compiler): ready in 15 s instead of 24 s on 2 cores, and the small
# statements of tests run no slower.
JVM_CONFIG = """\
-server
-Xmx{heap}
-XX:TieredStopAtLevel=1
-XX:+UseG1GC
-XX:+ExitOnOutOfMemoryError
-XX:-OmitStackTraceInFastThrow
-Djdk.attach.allowAttachSelf=true
-XX:+EnableDynamicAgentLoading
-Dfile.encoding=UTF-8
"""
# node.bind-ip is what keeps the HTTP server on loopback (http-server.http.host does not exist).
NODE_PROPERTIES = """\
node.environment=tunelake_standin
node.id=standin
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
"""
CONFIG_PROPERTIES = """\
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port={port}
discovery.uri=http://127.0.0.1:{port}
plugin.dir={plugins}
query.max-memory={query_memory}
query.max-memory-per-node={query_memory}
"""
LOG_PROPERTIES = "io.trino=INFO\n"
CATALOG_PROPERTIES = """\
connector.name=iceberg
iceberg.catalog.type=glue
hive.metastore.glue.region={region}
hive.metastore.glue.endpoint-url={moto}
hive.metastore.glue.aws-access-key={key}
hive.metastore.glue.aws-secret-key={key}
hive.metastore.glue.default-warehouse-dir={warehouse}
fs.native-s3.enabled=true
s3.endpoint={moto}
s3.region={region}
s3.path-style-access=true
s3.aws-access-key={key}
s3.aws-secret-key={key}
"""
# A table in Glue that is not Iceberg (an external table over parquet, as Athena and dlt's athena
# destination make for staged files) is read through the `hive` catalog on the same Glue and S3.
ICEBERG_REDIRECTION = "iceberg.hive-catalog-name={hive}\n"
HIVE_CATALOG = "hive"
HIVE_CATALOG_PROPERTIES = """\
connector.name=hive
hive.metastore=glue
hive.iceberg-catalog-name={catalog}
hive.timestamp-precision=MICROSECONDS
hive.metastore.glue.region={region}
hive.metastore.glue.endpoint-url={moto}
hive.metastore.glue.aws-access-key={key}
hive.metastore.glue.aws-secret-key={key}
hive.metastore.glue.default-warehouse-dir={warehouse}
fs.native-s3.enabled=true
s3.endpoint={moto}
s3.region={region}
s3.path-style-access=true
s3.aws-access-key={key}
s3.aws-secret-key={key}
"""


@dataclass(frozen=True)
class TrinoServer:
    """A running Trino stand-in: where it listens, the moto behind it, and a way to run SQL."""

    host: str
    port: int
    moto_endpoint: str
    bucket: str
    log: Path
    pid: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def warehouse(self) -> str:
        """Where tables created without a location put their files (the catalog's default)."""
        return f"s3://{self.bucket}/{WAREHOUSE_FOLDER}"

    def environment(self) -> dict[str, str]:
        """What the `trino` engine and dbt target need to work on this server, as a user sets it.

        The AWS settings of every dlt section (moto's), pyiceberg's catalog `default` as the Glue
        catalog and S3 Trino reads, and the `TRINO_*` variables of profiles.example.yml.
        """
        catalog = {
            "TYPE": "glue",
            "GLUE__ENDPOINT": self.moto_endpoint,
            "GLUE__REGION": moto.REGION,
            "GLUE__ACCESS_KEY_ID": moto.KEY,
            "GLUE__SECRET_ACCESS_KEY": moto.KEY,
            "S3__ENDPOINT": self.moto_endpoint,
            "S3__REGION": moto.REGION,
            "S3__ACCESS_KEY_ID": moto.KEY,
            "S3__SECRET_ACCESS_KEY": moto.KEY,
        }
        return {
            **moto.aws_environment(self.moto_endpoint),
            **{f"PYICEBERG_CATALOG__DEFAULT__{name}": value for name, value in catalog.items()},
            "TRINO_HOST": self.host,
            "TRINO_PORT": str(self.port),
            "TRINO_USER": USER,
            "TRINO_CATALOG": CATALOG,
        }

    def connect(self, schema: str | None = None, **options: Any) -> Any:
        """A DB-API connection (the `trino` client) to the `awsdatacatalog` catalog."""
        import trino.dbapi

        options = {"request_timeout": 120, **options}
        return trino.dbapi.connect(host=self.host, port=self.port, user=USER, catalog=CATALOG, schema=schema, **options)

    def sql(self, statement: str, schema: str | None = None) -> list[list[Any]]:
        """Run one statement to its end and return its rows (DDL and DML answer with a row count)."""
        connection = self.connect(schema)
        try:
            cursor = connection.cursor()
            cursor.execute(statement)
            return cursor.fetchall()
        finally:
            connection.close()


def _server_log_tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no server log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _plugin_folder(workdir: Path) -> Path:
    """The server's plugins, the Hive connector among them, without downloading it.

    The Iceberg plugin ships the Hive connector's classes and every jar they need (it builds on
    them), but registers only itself. The `hive` plugin here is those same jars, linked, plus one
    service file naming `io.trino.plugin.hive.HivePlugin`: Trino 476's own Hive connector, not
    a 258 MB second download of it.
    """
    plugins = workdir / "plugin"
    iceberg = SERVER_HOME / "plugin" / "iceberg"
    (plugins / "hive").mkdir(parents=True)
    (plugins / "iceberg").symlink_to(iceberg, target_is_directory=True)
    for jar in iceberg.glob("*.jar"):
        if not jar.name.endswith("-services.jar"):
            (plugins / "hive" / jar.name).symlink_to(jar)
    with zipfile.ZipFile(plugins / "hive" / f"trino-hive-{VERSION}-services.jar", "w") as services:
        services.writestr("META-INF/services/io.trino.spi.Plugin", "io.trino.plugin.hive.HivePlugin\n")
    return plugins


def _write_config(workdir: Path, port: int, moto_endpoint: str, bucket: str, heap: str, query_memory: str) -> None:
    etc = workdir / "etc"
    (etc / "catalog").mkdir(parents=True)
    (etc / "jvm.config").write_text(JVM_CONFIG.format(heap=heap))
    (etc / "node.properties").write_text(NODE_PROPERTIES)
    (etc / "config.properties").write_text(
        CONFIG_PROPERTIES.format(port=port, query_memory=query_memory, plugins=_plugin_folder(workdir))
    )
    (etc / "log.properties").write_text(LOG_PROPERTIES)
    aws = {
        "region": moto.REGION,
        "moto": moto_endpoint,
        "key": moto.KEY,
        "warehouse": f"s3://{bucket}/{WAREHOUSE_FOLDER}",
    }
    (etc / "catalog" / f"{CATALOG}.properties").write_text(
        CATALOG_PROPERTIES.format(**aws) + ICEBERG_REDIRECTION.format(hive=HIVE_CATALOG)
    )
    (etc / "catalog" / f"{HIVE_CATALOG}.properties").write_text(HIVE_CATALOG_PROPERTIES.format(catalog=CATALOG, **aws))


def _answers_a_query(url: str) -> bool:
    """Whether a statement runs: `"starting": false` comes before the node has announced itself
    as a worker, and a query sent in between fails with "nodes is empty"."""
    import trino.dbapi
    import trino.exceptions

    host, port = url.removeprefix("http://").split(":")
    try:
        with trino.dbapi.connect(host=host, port=int(port), user="tunelake", request_timeout=10) as connection:
            return connection.cursor().execute("select 1").fetchall() == [[1]]
    except (trino.exceptions.TrinoQueryError, trino.exceptions.TrinoConnectionError, requests.RequestException):
        return False


def _wait_until_ready(process: subprocess.Popen, url: str, log: Path, startup_seconds: float) -> None:
    """Poll /v1/info until Trino says it is no longer starting and a query runs; fail with its log otherwise."""
    deadline = time.monotonic() + startup_seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"Trino exited with {process.returncode} while starting; its log ends:\n{_server_log_tail(log)}"
            )
        try:
            started = requests.get(f"{url}/v1/info", timeout=2).json().get("starting") is False
            if started and _answers_a_query(url):
                return
        except (requests.ConnectionError, requests.Timeout, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Trino was not ready at {url} within {startup_seconds} s; its log ends:\n{_server_log_tail(log)}"
            )
        time.sleep(0.5)


def _stop(process: subprocess.Popen, seconds: float = 30) -> None:
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)


@contextmanager
def trino_server(
    moto_endpoint: str | None = None,
    bucket: str = BUCKET,
    workdir: Path | None = None,
    startup_seconds: float = 180,
    heap: str = "3G",
    query_memory: str = "1GB",
) -> Iterator[TrinoServer]:
    """Start Trino on a free port of 127.0.0.1, wait until it is ready, and stop it afterwards.

    Args:
        moto_endpoint: A running moto_server to use for Glue and S3; by default one is started
            and stopped with Trino.
        bucket: The bucket of the catalog's warehouse folder; created if missing.
        workdir: Where the configuration, data folder and `server.log` go (a fresh folder per
            start); by default a temporary folder removed afterwards, which takes the log with it.
        startup_seconds: How long to wait for `/v1/info` to answer `"starting": false`.
        heap: The JVM's -Xmx.
        query_memory: Trino's memory limit per query.

    Yields:
        The running server.

    Raises:
        FileNotFoundError: Trino or Java 24+ is not installed where expected.
        RuntimeError: Trino exited while starting (the message ends with its log).
        TimeoutError: Trino was not ready in time (the message ends with its log).
    """
    launcher = SERVER_HOME / "bin" / "launcher"
    if not launcher.exists():
        raise FileNotFoundError(
            f"Trino {VERSION} is not in {SERVER_HOME}: run `make install-dev` (or `make trino-server`)"
        )
    if not (JAVA_HOME / "bin" / "java").exists():
        raise FileNotFoundError(
            f"Trino {VERSION} needs Java 24 or newer, looked in {JAVA_HOME} (TUNELAKE_TRINO_JAVA_HOME)"
        )
    with ExitStack() as stack:
        if moto_endpoint is None:
            moto_endpoint = stack.enter_context(moto.moto_server())
        s3 = moto.client("s3", moto_endpoint)
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tunelake-trino-")))
        port = moto.free_port()
        _write_config(workdir, port, moto_endpoint, bucket, heap, query_memory)
        log = workdir / "server.log"
        output = stack.enter_context(log.open("ab"))
        # `run` keeps Trino in the foreground: the launcher execs java, so this process is the JVM.
        command = [str(launcher), "run", "--jvm-dir", str(JAVA_HOME), "--etc-dir", str(workdir / "etc")]
        process = subprocess.Popen(
            [*command, "--data-dir", str(workdir / "data")], stdout=output, stderr=subprocess.STDOUT
        )
        stack.callback(_stop, process)
        server = TrinoServer("127.0.0.1", port, moto_endpoint, bucket, log, process.pid)
        _wait_until_ready(process, server.url, log, startup_seconds)
        yield server
