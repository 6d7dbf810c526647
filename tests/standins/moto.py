"""moto_server on 127.0.0.1: the stand-in for S3, Glue, STS and Secrets Manager.

moto accepts any key and stores what S3, Glue and Secrets Manager are given. It would accept
Athena queries too, but executes none: tests that run Athena point boto3 at the Athena-API
front over Trino instead (tests/standins/athena.py).
"""

from __future__ import annotations

import json
import os
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
def moto_server(free_actions: int | None = None) -> Iterator[str]:
    """Start moto_server on a free port; yields its endpoint URL and stops it afterwards.

    With `free_actions`, moto checks credentials (and signatures) after that many requests, as
    S3 does: see `signing_moto_server`.
    """
    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    checks = {} if free_actions is None else {"INITIAL_NO_AUTH_ACTION_COUNT": str(free_actions)}
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | checks,
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


@contextmanager
def signing_moto_server(bucket: str) -> Iterator[tuple[str, str, str]]:
    """moto_server that refuses unknown keys and wrong secrets, with one IAM user allowed S3 and `bucket`.

    Yields the endpoint, the user's access key id and its secret. Plain moto accepts any key, so
    a wrong secret could not be told from a right one.
    """
    # The readiness probe may count as one of the free requests.
    with moto_server(free_actions=4) as endpoint:
        iam = client("iam", endpoint)
        iam.create_user(UserName="tunelake")
        allow_s3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="tunelake", PolicyName="s3", PolicyDocument=json.dumps(allow_s3))
        key = iam.create_access_key(UserName="tunelake")["AccessKey"]
        key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
        boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION
        ).create_bucket(Bucket=bucket)
        yield endpoint, key_id, secret


def aws_environment(endpoint: str, key_id: str = KEY, secret: str = KEY) -> dict[str, str]:
    """Environment pointing boto3, dbt-athena and every dlt AWS section at `endpoint`."""
    environment = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    for section in DLT_AWS_SECTIONS:
        environment[f"{section}__AWS_ACCESS_KEY_ID"] = key_id
        environment[f"{section}__AWS_SECRET_ACCESS_KEY"] = secret
        environment[f"{section}__ENDPOINT_URL"] = endpoint
        environment[f"{section}__REGION_NAME"] = REGION
    return environment


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=KEY, region_name=REGION
    )
