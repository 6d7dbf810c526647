"""moto_server on 127.0.0.1: the stand-in for S3, Glue, STS and Secrets Manager.

moto accepts any key and stores what S3, Glue and Secrets Manager are given. It would accept
Athena queries too, but executes none: tests that run Athena point boto3 at the Athena-API
front over Trino instead (tests/standins/athena.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import requests

REGION = "us-east-1"
KEY = "testing"
# dlt reads the credentials of each S3 user from its own config section.
DLT_AWS_SECTIONS = (
    "DESTINATION__FILESYSTEM__CREDENTIALS",
    "SOURCES__FILESYSTEM__CREDENTIALS",
    "DESTINATION__ATHENA__CREDENTIALS",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto_server on a free port; yields its endpoint URL and stops it afterwards."""
    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(endpoint, timeout=1)
                break
            # A busy machine: the port is open before moto answers within the second.
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def aws_environment(endpoint: str) -> dict[str, str]:
    """Environment pointing boto3, dbt-athena and every dlt AWS section at `endpoint`."""
    environment = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    for section in DLT_AWS_SECTIONS:
        environment[f"{section}__AWS_ACCESS_KEY_ID"] = KEY
        environment[f"{section}__AWS_SECRET_ACCESS_KEY"] = KEY
        environment[f"{section}__ENDPOINT_URL"] = endpoint
        environment[f"{section}__REGION_NAME"] = REGION
    return environment


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=KEY, region_name=REGION
    )
