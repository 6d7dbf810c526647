"""One run at a time per raw zone: the lock `ingest` and `import-history` hold while they write.

Two runs on the same raw zone would both spend their Spotify requests, then collide in dlt's
normalize and load steps (the same pipeline state, the same package folders). So a run takes the
raw zone's lock, `<raw zone>/_run.lock`, before its first request, and a second run stops at
once with `RunInProgressError`, naming who holds it.

- A local raw zone: the file is locked with `flock`, which the kernel releases when the process
  ends however it ends (even `kill -9`), so a lock left by a killed run is simply free again:
  no expiry and no pid guessing. The file says who holds it (JSON: host, pid, command, since).
- On S3: the object is created with a conditional write (`If-None-Match: *`), which only one
  writer can win. It says until when it holds (`expires_at`, `LIFETIME` ahead) and is renewed
  every fifth of that while the run lasts, so a run of any length keeps it, and a killed run's
  (a Lambda stopped at its timeout) expires within `LIFETIME`, before the next hourly run. An
  expired lock is taken over by overwriting it only if it is still the object read
  (`If-Match: <its ETag>`): of two runs finding the same expired lock, one wins. Release and
  renewal are conditional on this run's ETag too, so a run never removes a lock another took.

The S3 client is configured as dlt's filesystem destination that writes the raw zone
(`destination.filesystem.credentials`, else the AWS default chain). Other protocols (gs://,
az://) are not locked: the run goes on, with a warning.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.configuration.specs import AwsCredentials, known_sections
from dlt.common.storages.configuration import FilesystemConfiguration

from ingestion import preflight
from ingestion.errors import ConfigurationError, RunInProgressError

logger = logging.getLogger(__name__)

LOCK_NAME = "_run.lock"
# Longer than any pause between two renewals, shorter than the Lambda's hourly schedule minus its
# 15-minute limit: a killed Lambda's lock is gone before the next invocation.
LIFETIME = timedelta(minutes=10)
# Renewed every LIFETIME / RENEWALS: a few failed renewals in a row still leave it held.
RENEWALS = 5
# Conditional-write answers meaning "another writer came first" (409: a concurrent conditional
# write on the same key; 404: the object went away between our read and our write).
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409", "404"}
# Rounds of create / read / take over before giving up to a run that keeps winning.
_ATTEMPTS = 5
# The raw zones this thread holds: `hold` is re-entrant per thread, never across threads.
_held_here = threading.local()


@dataclass(frozen=True)
class Holder:
    """Who holds a raw zone's lock, as the lock file or object says."""

    host: str
    pid: int
    command: str
    started_at: str
    # None for a local lock: the kernel releases it when the process ends.
    expires_at: str | None = None

    @classmethod
    def me(cls, command: str, lifetime: timedelta | None) -> Holder:
        now = datetime.now(UTC)
        expires = (now + lifetime).isoformat(timespec="seconds") if lifetime else None
        return cls(socket.gethostname(), os.getpid(), command, now.isoformat(timespec="seconds"), expires)

    @classmethod
    def parse(cls, text: bytes | str) -> Holder | None:
        """The holder a lock's body names; None for a body that is empty or not ours."""
        try:
            fields = json.loads(text)
            holder = cls(
                str(fields["host"]),
                int(fields["pid"]),
                str(fields.get("command", "ingest")),
                str(fields["started_at"]),
                str(fields["expires_at"]) if fields.get("expires_at") else None,
            )
            if holder.expires_at is not None:
                datetime.fromisoformat(holder.expires_at)
        except (ValueError, KeyError, TypeError):
            return None
        return holder

    def body(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    def renewed(self, lifetime: timedelta) -> Holder:
        return replace(self, expires_at=(datetime.now(UTC) + lifetime).isoformat(timespec="seconds"))

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now

    def describe(self) -> str:
        until = f", its lock expires at {self.expires_at} unless renewed" if self.expires_at else ""
        return f"`tunelake {self.command}` on host {self.host}, pid {self.pid}, since {self.started_at}{until}"


class _Lock(Protocol):
    url: str

    def acquire(self, me: Holder) -> None: ...

    def release(self) -> None: ...


def _refusal(lock: _Lock, raw_zone_url: str, holder: Holder | None) -> RunInProgressError:
    who = holder.describe() if holder else "a run that has not written its details yet"
    if holder is None or holder.expires_at is None:
        advice = "Wait for it to finish and run again; the lock is released when that process ends."
    else:
        advice = (
            "Wait for it to finish and run again. If that run was killed, its lock expires by itself "
            f"(at {holder.expires_at}) and the next run takes it over."
        )
    return RunInProgressError(
        f"Another run is writing the raw zone {raw_zone_url} (lock {lock.url}): {who}. "
        f"This run stopped before doing anything. {advice}",
        holder=asdict(holder) if holder else None,
    )


class LocalLock:
    """`<folder>/_run.lock`, held with `flock` for as long as the run lasts."""

    def __init__(self, raw_zone_url: str, folder: Path) -> None:
        self.raw_zone_url = raw_zone_url
        self.path = folder / LOCK_NAME
        self.url = str(self.path)
        self._fd: int | None = None

    def acquire(self, me: Holder) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(
                f"tunelake.raw_zone_url: cannot create the raw zone {self.path.parent} ({error.strerror})"
            ) from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise ConfigurationError(
                    f"tunelake.raw_zone_url: cannot write in the raw zone {self.path.parent} ({error.strerror})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = Holder.parse(os.pread(fd, 4096, 0))
                os.close(fd)
                raise _refusal(self, self.raw_zone_url, holder) from None
            # The run before released (and removed the file) between our open and our flock: the
            # lock we got is on a file no one else sees. Try again on the current one.
            if not self._is_current(fd):
                os.close(fd)
                continue
            previous = Holder.parse(os.pread(fd, 4096, 0))
            if previous is not None:
                logger.warning("took over the raw zone's lock a stopped run left: %s", previous.describe())
            os.ftruncate(fd, 0)
            os.pwrite(fd, me.body(), 0)
            self._fd = fd
            return

    def _is_current(self, fd: int) -> bool:
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        if self._fd is None:
            return
        # Removed while still locked: a run that opened it meanwhile sees it is gone and retries.
        with suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def _s3_client(raw_zone_url: str) -> Any:
    """A botocore S3 client with the credentials and endpoint dlt writes the raw zone with."""
    import botocore.session
    from botocore.config import Config

    try:
        config = resolve_configuration(
            FilesystemConfiguration(bucket_url=raw_zone_url), sections=(known_sections.DESTINATION, "filesystem")
        )
    except ConfigFieldMissingException:
        raise preflight.cannot_write(raw_zone_url, preflight.NO_CREDENTIALS) from None
    credentials = config.credentials
    if not isinstance(credentials, AwsCredentials):
        raise preflight.cannot_write(raw_zone_url, preflight.NO_CREDENTIALS)
    keys: dict[str, Any] = {}
    if not credentials.has_default_credentials():
        session_keys = credentials.to_session_credentials()
        keys = {name: session_keys[name] for name in ("aws_access_key_id", "aws_secret_access_key")}
        keys["aws_session_token"] = session_keys.get("aws_session_token")
    session = botocore.session.get_session()
    if credentials.profile_name:
        session.set_config_variable("profile", credentials.profile_name)
    return session.create_client(
        "s3",
        region_name=credentials.region_name,
        endpoint_url=credentials.endpoint_url,
        # As dlt's own S3 client: S3-compatible endpoints reject the newer default checksums.
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"),
        **keys,
    )


class S3Lock:
    """`s3://bucket/prefix/_run.lock`, created and renewed with conditional writes."""

    def __init__(self, raw_zone_url: str, lifetime: timedelta = LIFETIME) -> None:
        bucket, _, prefix = raw_zone_url.split("://", 1)[1].partition("/")
        self.raw_zone_url = raw_zone_url
        self.bucket = bucket
        self.key = f"{prefix.strip('/')}/{LOCK_NAME}".lstrip("/")
        self.url = f"s3://{bucket}/{self.key}"
        self.lifetime = lifetime
        self._client: Any = None
        self._holder: Holder | None = None
        self._etag: str | None = None
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, me: Holder) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._client = _s3_client(self.raw_zone_url)
        holder: Holder | None = None
        try:
            for _ in range(_ATTEMPTS):
                try:
                    self._etag = self._put(me, IfNoneMatch="*")
                    break
                except ClientError as error:
                    if _code(error) not in _LOST_RACE:
                        raise
                found = self._read()
                if found is None:
                    continue
                holder, etag = found
                if not holder.expired(datetime.now(UTC)):
                    raise _refusal(self, self.raw_zone_url, holder)
                try:
                    self._etag = self._put(me, IfMatch=etag)
                except ClientError as error:
                    if _code(error) not in _LOST_RACE:
                        raise
                    continue
                logger.warning("took over the raw zone's expired lock: %s", holder.describe())
                break
            else:
                raise _refusal(self, self.raw_zone_url, holder)
        except (ClientError, BotoCoreError) as error:
            raise preflight.cannot_write(self.raw_zone_url, error) from None
        self._holder = me
        self._renewer = threading.Thread(target=self._renew, name="tunelake-run-lock", daemon=True)
        self._renewer.start()

    def _put(self, holder: Holder, **condition: str) -> str:
        answer = self._client.put_object(
            Bucket=self.bucket, Key=self.key, Body=holder.body(), ContentType="application/json", **condition
        )
        return str(answer["ETag"])

    def _read(self) -> tuple[Holder, str] | None:
        """The lock's holder and ETag; None when it is gone. An unreadable body expires with its age."""
        from botocore.exceptions import ClientError

        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404"}:
                return None
            raise
        holder = Holder.parse(answer["Body"].read())
        if holder is None or holder.expires_at is None:
            # Not written by this module (or by hand): it expires a lifetime after it was written.
            written: datetime = answer["LastModified"]
            expires = (written + self.lifetime).isoformat(timespec="seconds")
            holder = (
                replace(holder, expires_at=expires)
                if holder
                else Holder("unknown", 0, "ingest", written.isoformat(timespec="seconds"), expires)
            )
        return holder, str(answer["ETag"])

    def _renew(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        while not self._stop.wait(self.lifetime.total_seconds() / RENEWALS):
            with self._guard:
                if self._holder is None or self._etag is None:
                    return
                renewed = self._holder.renewed(self.lifetime)
                try:
                    self._etag = self._put(renewed, IfMatch=self._etag)
                    self._holder = renewed
                except ClientError as error:
                    if _code(error) in _LOST_RACE:
                        logger.error("the raw zone's lock %s was taken over by another run", self.url)
                        self._etag = None
                        return
                    logger.warning("could not renew the raw zone's lock %s: %s", self.url, _code(error))
                except BotoCoreError as error:
                    logger.warning("could not renew the raw zone's lock %s: %s", self.url, type(error).__name__)

    def release(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with self._guard:
            if self._etag is None:
                return
            try:
                self._client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=self._etag)
            except ClientError as error:
                # Taken over (412) or unreachable: never fail the run for it; the lock expires.
                logger.warning("could not release the raw zone's lock %s: %s", self.url, _code(error))
            except BotoCoreError as error:
                logger.warning("could not release the raw zone's lock %s: %s", self.url, type(error).__name__)
            self._etag = None


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code") or error.response["ResponseMetadata"]["HTTPStatusCode"])


def lock_for(raw_zone_url: str) -> LocalLock | S3Lock | None:
    """The lock of the raw zone at `raw_zone_url`; None for a protocol without one."""
    protocol = FilesystemConfiguration.parse_protocol(raw_zone_url)
    if protocol == "file":
        local = (
            FilesystemConfiguration.make_local_path(raw_zone_url) if raw_zone_url.startswith("file:") else raw_zone_url
        )
        return LocalLock(raw_zone_url, Path(local))
    if protocol in {"s3", "s3a"}:
        return S3Lock(raw_zone_url)
    return None


@contextmanager
def hold(raw_zone_url: str, command: str) -> Iterator[None]:
    """Hold the raw zone's lock for the block; released on any end (error and Ctrl-C included).

    Raises:
        RunInProgressError: another run holds it (nothing else was done).
        ConfigurationError: the raw zone cannot hold a lock (not writable, no credentials).
    """
    held = _held_here.__dict__.setdefault("urls", set())
    if raw_zone_url in held:
        # Taken already by this thread (the CLI takes it before its heavy imports, then the run
        # itself asks again): a second flock on a new descriptor would refuse its own holder.
        yield
        return
    lock = lock_for(raw_zone_url)
    if lock is None:
        logger.warning("runs on %s are not locked: two at once would collide", raw_zone_url)
        yield
        return
    lock.acquire(Holder.me(command, lock.lifetime if isinstance(lock, S3Lock) else None))
    held.add(raw_zone_url)
    try:
        yield
    finally:
        held.discard(raw_zone_url)
        lock.release()
