"""moto's S3 server for benchmarks: its requests counted by S3 operation, its buckets filled from a folder.

The server runs in its own process (`python -m benchmarks.s3_standin PORT`): moto's WSGI app
wrapped by `Counter`, which names each request's operation from its method, path and query
(path-style addressing, as boto3 and s3fs use for a 127.0.0.1 endpoint), and sums the bytes of
each answer and the time the server spent on it. A benchmark reads and resets the counts over
HTTP (`GET /_counts`, `POST /_counts/reset`), paths moto never sees.

`POST /_seed` puts every file of a local folder into a bucket through moto's own store, in the
server's process and uncounted: over HTTP moto takes about 270 PUT requests a second, 13 minutes
for the 200,000 files of a year of hourly loads.

moto answers a listing by scanning every key of the bucket, so its time per list request grows
with the bucket where S3's does not: the server time is counted apart, for the reader to see.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import requests

ROOT = Path(__file__).resolve().parents[1]
COUNTS_PATH = "/_counts"
SEED_PATH = "/_seed"
# A key's first segments name what it is (`zone/spotify/_dlt_loads`), the rest is one file.
FOLDER_DEPTH = 3


def operation(method: str, path: str, query: str, headers: dict[str, str]) -> str:
    """The S3 API operation of a path-style request (`ListObjectsV2`, `GetObject`, ...)."""
    params = parse_qs(query, keep_blank_values=True)
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if not key:
        if method == "GET":
            if "list-type" in params:
                return "ListObjectsV2"
            for name, op in (("location", "GetBucketLocation"), ("versioning", "GetBucketVersioning")):
                if name in params:
                    return op
            return "ListObjects"
        if method == "POST" and "delete" in params:
            return "DeleteObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, f"{method} bucket")
    if method == "PUT":
        if "partNumber" in params:
            return "UploadPart"
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in params else "CompleteMultipartUpload"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, f"{method} object")


def folder(path: str, query: str) -> str:
    """What a request is about: a listing's prefix, else the first segments of the object's key."""
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    prefix = parse_qs(query).get("prefix", [None])[0]
    if prefix is not None:
        return f"{bucket}/{prefix}"
    return "/".join([bucket, *key.split("/")[:FOLDER_DEPTH]])


@dataclass
class Tally:
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0


class Counter:
    """WSGI middleware: counts the requests `app` answers by operation and by folder."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.operations: dict[str, Tally] = defaultdict(Tally)
        self.folders: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
        if path.startswith(COUNTS_PATH):
            return self._counts(method, path, start_response)
        if path == SEED_PATH and method == "POST":
            return _seed(environ, start_response)
        query = environ.get("QUERY_STRING", "")
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        name = operation(method, path, query, headers)
        where = folder(path, query)
        started = time.perf_counter()
        return self._tallied(self.app(environ, start_response), name, where, started)

    def _tallied(self, body: Iterable[bytes], name: str, where: str, started: float) -> Iterator[bytes]:
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
            with self.lock:
                tally = self.operations[name]
                tally.requests += 1
                tally.bytes += size
                tally.seconds += time.perf_counter() - started
                self.folders[name][where] += 1

    def _counts(self, method: str, path: str, start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            if method == "POST" and path.endswith("/reset"):
                self.operations.clear()
                self.folders.clear()
            body = json.dumps(
                {
                    "operations": {name: vars(tally) for name, tally in self.operations.items()},
                    "folders": {name: dict(where) for name, where in self.folders.items()},
                }
            ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _seed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Put files of `folder` (all, or the relative `paths`) into `bucket` under `prefix`, as PutObject stores them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    length = int(environ.get("CONTENT_LENGTH") or 0)
    job = json.loads(environ["wsgi.input"].read(length))
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    root = Path(job["folder"])
    paths = job.get("paths") or [f.relative_to(root).as_posix() for f in sorted(root.rglob("*")) if f.is_file()]
    for path in paths:
        key = "/".join(part for part in (job["prefix"], path) if part)
        backend.put_object(job["bucket"], key, (root / path).read_bytes(), disable_notification=True)
    body = json.dumps({"objects": len(paths)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def serve(port: int) -> None:
    """Serve moto, counted, on 127.0.0.1:`port` until killed."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = Counter(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


@dataclass
class CountingMoto:
    """A counting moto server (see `counting_moto_server`)."""

    endpoint: str

    def counts(self) -> dict[str, Any]:
        """`{"operations": {op: {requests, bytes, seconds}}, "folders": {op: {folder: requests}}}` since the reset."""
        answer = requests.get(self.endpoint + COUNTS_PATH, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        requests.post(self.endpoint + COUNTS_PATH + "/reset", timeout=30).raise_for_status()

    def seed(self, bucket: str, prefix: str, folder: Path, paths: list[str] | None = None) -> int:
        """Put the files under `folder` (every one, or `paths` relative to it) into `bucket` at `prefix/<path>`."""
        job = {"bucket": bucket, "prefix": prefix.strip("/"), "folder": str(folder), "paths": paths}
        answer = requests.post(self.endpoint + SEED_PATH, json=job, timeout=1_800)
        answer.raise_for_status()
        return int(answer.json()["objects"])


@contextmanager
def counting_moto_server() -> Iterator[CountingMoto]:
    """Start the counting moto server on a free port; stopped on exit."""
    from tests.standins.moto import free_port

    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "benchmarks.s3_standin", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        if not banner.startswith("http://"):
            raise RuntimeError(f"the counting moto server did not start: {banner!r}")
        server = CountingMoto(banner.strip())
        for _ in range(100):  # the socket listens before moto's backends are imported
            try:
                server.counts()
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
