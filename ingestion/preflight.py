"""What a run checks before its first Spotify request, so a request is never spent on a run that cannot land.

The raw zone must take a write (its folder's permissions, or S3's credentials and bucket) and a
DuckDB warehouse must not be held by another process. Each failure is a `ConfigurationError`
naming the setting and what to fix; nothing has been requested yet.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.engines.base import is_s3
from ingestion.errors import ConfigurationError

if TYPE_CHECKING:
    import dlt

    from ingestion.config import Settings

# S3's answers that mean the credentials, not the bucket, are wrong.
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AccessDenied"}
_CREDENTIALS_HELP = (
    "check destination.filesystem.credentials (aws_access_key_id, aws_secret_access_key) in .dlt/secrets.toml, "
    "or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
)

NO_CREDENTIALS = f"no AWS credentials found; {_CREDENTIALS_HELP}"


def check_raw_zone(raw: dlt.Pipeline, raw_zone_url: str) -> None:
    """Write and delete a small object in the raw zone, through the client the run itself uses.

    Raises:
        ConfigurationError: naming `tunelake.raw_zone_url` and why it cannot be written.
    """
    probe = f".tunelake-write-check-{uuid.uuid4().hex}"
    try:
        with raw.destination_client() as client:
            # The raw zone's own folder: dlt creates the dataset's folder itself, and refuses one that exists.
            fs, folder = client.fs_client, client.bucket_path  # type: ignore[attr-defined]
            if client.config.is_local_filesystem:  # type: ignore[attr-defined]
                fs.makedirs(folder, exist_ok=True)  # on S3 this would create a missing bucket
            path = f"{folder.rstrip('/')}/{probe}"
            fs.pipe_file(path, b"")
            fs.rm_file(path)
    except ConfigurationError:
        raise
    except Exception as error:  # every failure here is the person's to fix, named below
        raise cannot_write(raw_zone_url, error) from None


def cannot_write(raw_zone_url: str, error: BaseException | str) -> ConfigurationError:
    """The error of a raw zone that refused a write (here, or the run lock's), with the reason in a line."""
    why = error if isinstance(error, str) else _why(error, raw_zone_url)
    return ConfigurationError(f"tunelake.raw_zone_url: cannot write to {raw_zone_url}: {why}")


def _why(error: BaseException, raw_zone_url: str) -> str:
    """A short reason for a failed write, without the traceback's 7,000 characters."""
    code = _s3_code(error)
    if code in _CREDENTIAL_CODES:
        return f"S3 refused the credentials ({code}); {_CREDENTIALS_HELP}"
    if code == "NoSuchBucket":
        return "the bucket does not exist (NoSuchBucket)"
    name = type(error).__name__
    if name == "NoCredentialsError" or ("credentials" in str(error).lower() and is_s3(raw_zone_url)):
        return NO_CREDENTIALS
    if isinstance(error, PermissionError):
        return "permission denied" + ("" if is_s3(raw_zone_url) else " (choose a folder you can write to)")
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else name
    return first_line[:300]


def _s3_code(error: BaseException) -> str | None:
    """The S3 error code of a botocore error, also when s3fs wrapped it in an OSError."""
    seen: BaseException | None = error
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
        seen = seen.__cause__ or seen.__context__
    return None


def check_warehouse(settings: Settings) -> None:
    """A DuckDB warehouse held by another process (a writer, or the dashboard) would fail the load at the end.

    Raises:
        ConfigurationError: naming `tunelake.duckdb_path` and the process holding it.
    """
    if settings.warehouse != "duckdb" or settings.destination is not None or not Path(settings.duckdb_path).exists():
        return
    import duckdb

    try:
        duckdb.connect(settings.duckdb_path).close()
    except duckdb.IOException as error:
        # Only the conflict is checked here; any other fault of the file shows in the load itself.
        if _held(error):
            raise ConfigurationError(
                f"tunelake.duckdb_path: {duckdb_unavailable(settings.duckdb_path, error)}"
            ) from None


def duckdb_unavailable(path: str, error: Exception) -> str:
    """Why a DuckDB file could not be opened, in a line: most often another process writes it."""
    text = str(error)
    if _held(error):
        holder = re.search(r"\(PID (\d+)\)", text)
        by = f" by process {holder.group(1)}" if holder else ""
        return f"{path} is held{by} (a run, `tunelake query`, dbt or the dashboard); try again when it ends"
    return f"cannot open {path}: {text.splitlines()[0] if text else type(error).__name__}"


def _held(error: Exception) -> bool:
    """DuckDB's "Could not set lock on file ...: Conflicting lock is held in <process> (PID n)"."""
    return "Conflicting lock" in str(error) or "Could not set lock" in str(error)


def check(raw: dlt.Pipeline, settings: Settings) -> None:
    """Every precondition of a run, before its first request."""
    check_raw_zone(raw, settings.raw_zone_url)
    check_warehouse(settings)
