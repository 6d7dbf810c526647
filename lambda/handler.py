"""AWS Lambda entry point: the scheduled ingestion, a thin adapter over the ingestion package.

`lambda` is a Python keyword, so this folder is never imported as a package: Lambda loads
`handler.py` from the artifact's root (handler setting `handler.handler`).

Configuration is the environment, as for `tunelake ingest` (`TUNELAKE__RAW_ZONE_URL=s3://...`,
`TUNELAKE__WAREHOUSE`, `SOURCES__SPOTIFY__PLAYLISTS`, ...), plus:

- `TUNELAKE_SPOTIFY_SECRET`: a Secrets Manager secret (name or ARN), or
  `TUNELAKE_SPOTIFY_PARAMETER`: an SSM SecureString, holding the JSON of `sources.spotify`
  (`{"client_id": ..., "client_secret": ..., "refresh_token": ...}`, what `tunelake auth` saves).
- `TUNELAKE_WAREHOUSE_SECRET`: optional Secrets Manager secret, a JSON object of further
  environment variables (the Snowflake connection, `DESTINATION__SNOWFLAKE__CREDENTIALS`,
  `SNOWFLAKE_ACCOUNT`, ...). A `SNOWFLAKE_PRIVATE_KEY` (PEM) in it is written to a file readable
  by this process only, and `SNOWFLAKE_PRIVATE_KEY_PATH` points dbt at it.
- `TUNELAKE_FINISH_SECONDS` (default 120): time kept at the end of an invocation for loading
  what was collected and saving state; requests stop when only this much is left.
- `TUNELAKE_RUN_DBT` (`true`/`false`, default false): `dbt build` on the warehouse afterwards,
  given `TUNELAKE_DBT_SECONDS` (default 300) left; otherwise the next invocation builds. This
  needs dbt in the package, which only the container image has (`lambda/Dockerfile`).

`transform_handler` is the other entry point of that image: `dbt build` alone, for a second,
daily function (`lambda/template.yaml`, `RunDbt=true`).

An event `{"action": "compact"}` (the template's daily schedule) compacts the raw zone's closed
days instead of ingesting (`ingestion.compaction`): no Spotify request, no secret needed.

Pipeline state lives in the raw-zone bucket, so an invocation with an empty /tmp resumes, and one
stopped by its time budget leaves the rest to the next.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

# tunelake talks to Spotify and its destinations only.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from ingestion.config import Settings
from ingestion.errors import RunInProgressError
from ingestion.pipeline import CoolingDownError, RunSummary, ingest
from ingestion.spotify import spotify_from_config

logger = logging.getLogger("tunelake.lambda")
FINISH_SECONDS = 120.0
DBT_SECONDS = 300.0
# Lambda's code folder is read-only: dbt runs from a copy with its target/ and logs/ beside it.
DBT_WORK_DIR = Path(os.environ.get("TUNELAKE_DBT_WORK_DIR", "/tmp/dbt_project"))  # noqa: S108 (Lambda's only writable folder)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    _standard = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._standard})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _setup_logging() -> None:
    # With the function's LogFormat set to JSON, Lambda's runtime formats records itself
    # (`extra` fields included); elsewhere (tests, a plain runtime) this formatter does.
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("spotipy").setLevel(logging.CRITICAL)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler_ in root.handlers:
        handler_.setFormatter(JsonFormatter())


def _secret_json(source: str, name: str) -> dict[str, Any]:
    """The JSON object held by a Secrets Manager secret or an SSM SecureString."""
    import boto3

    if source == "secretsmanager":
        text = boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    else:
        text = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        # Never echo the value: it is a secret.
        raise ValueError(f"{source} {name}: expected a JSON object") from None
    return value


def load_secrets() -> None:
    """Put the configured secrets where dlt and dbt read configuration: the environment."""
    spotify_secret = os.environ.get("TUNELAKE_SPOTIFY_SECRET")
    spotify_parameter = os.environ.get("TUNELAKE_SPOTIFY_PARAMETER")
    if spotify_secret or spotify_parameter:
        source, name = ("secretsmanager", spotify_secret) if spotify_secret else ("ssm", spotify_parameter)
        for key, value in _secret_json(source, str(name)).items():
            if value not in (None, ""):
                os.environ[f"SOURCES__SPOTIFY__{key.upper()}"] = str(value)
    if warehouse_secret := os.environ.get("TUNELAKE_WAREHOUSE_SECRET"):
        for key, value in _secret_json("secretsmanager", warehouse_secret).items():
            if key == "SNOWFLAKE_PRIVATE_KEY":
                # dbt-snowflake reads its key from a file: write it where only this process reads.
                key_file = Path(os.environ.get("TUNELAKE_KEY_DIR", "/tmp")) / "snowflake_key.p8"  # noqa: S108
                key_file.touch(mode=0o600, exist_ok=True)
                key_file.write_text(str(value))
                os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"] = str(key_file)
            else:
                os.environ[key] = str(value)


def remaining_seconds(context: Any) -> float | None:
    """Seconds until Lambda stops this invocation, or None when not run by Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if remaining else None


def _dbt_build(settings: Settings) -> dict[str, Any]:
    """`dbt build` on the warehouse, from a writable copy of the project; its outcome in brief."""
    from ingestion.transform import DBT_PROJECT_DIR, DbtError, run_dbt

    shutil.copytree(DBT_PROJECT_DIR, DBT_WORK_DIR, dirs_exist_ok=True)
    started = time.monotonic()
    try:
        result = run_dbt(["build"], settings, project_dir=DBT_WORK_DIR)
    except DbtError as error:
        return {"status": "failed", "error": str(error)[:2000]}
    statuses: dict[str, int] = {}
    for node in result.result.results:
        statuses[str(node.status)] = statuses.get(str(node.status), 0) + 1
    return {"status": "ok", "nodes": statuses, "seconds": round(time.monotonic() - started, 1)}


def _result(summary: RunSummary) -> dict[str, Any]:
    return {
        "status": summary.stop_reason or "ok",
        "stopped": summary.stopped,
        "tier": summary.tier,
        "requests": sum(summary.requests.values()),
        "rate_limited": summary.statuses.get(429, 0),
        "raw_rows": summary.raw_rows,
        "rows": summary.warehouse_rows,
        "warehouse": summary.warehouse,
        "skipped": [{"kind": s.kind, "id": s.entity_id, "reason": s.reason} for s in summary.skipped],
        "seconds": round(summary.seconds, 1),
    }


COMPACT_ACTION = "compact"


def _compact(settings: Settings, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Compact the raw zone's closed days; its summary, or `skipped` while another run holds the raw zone.

    `event["until"]` (an ISO date, optional): compact the days before it instead of before today
    (UTC). No day is started in the last `TUNELAKE_FINISH_SECONDS`: a backlog (the first
    compaction of a year of loads) is finished by the next days' invocations.
    """
    from ingestion.compaction import compact

    until = date.fromisoformat(str(event["until"])) if event.get("until") else None
    remaining = remaining_seconds(context)
    reserve = float(os.environ.get("TUNELAKE_FINISH_SECONDS", FINISH_SECONDS))
    deadline = time.monotonic() + remaining - reserve if remaining is not None else None
    try:
        summary = compact(settings.raw_zone_url, today=until, deadline=deadline)
    except RunInProgressError as error:
        result: dict[str, Any] = {"status": "skipped", "reason": "run_in_progress", "lock": error.holder}
        logger.warning("compaction skipped: %s", error, extra={"summary": result})
        return result
    result = {"status": "ok", "action": COMPACT_ACTION, **summary.as_dict()}
    logger.info("compaction finished", extra={"summary": result})
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one ingestion (and `dbt build` if asked) and return its summary, also logged.

    With the event `{"action": "compact"}`, compact the raw zone's closed days instead (a
    skipped compaction is retried by the next day's: it takes every closed day not compacted).

    `status` is `ok`; `out_of_time` (the invocation's budget ran out: what was collected is
    loaded and the next invocation goes on), `rate_limited` (Spotify asked for a long wait:
    likewise), `cooling_down` (that wait has not passed; nothing was fetched), or `skipped`
    (another run holds the raw zone's lock: nothing was fetched, and no error, so Lambda does not
    retry; the next scheduled run goes on).
    """
    _setup_logging()
    if (event or {}).get("action") == COMPACT_ACTION:
        return _compact(Settings.from_config(), event, context)
    started = time.monotonic()
    remaining = remaining_seconds(context)
    load_secrets()
    settings = Settings.from_config()
    run_dbt = os.environ.get("TUNELAKE_RUN_DBT", "false").lower() == "true" and settings.warehouse != "duckdb"
    deadline = None
    if remaining is not None:
        reserve = float(os.environ.get("TUNELAKE_FINISH_SECONDS", FINISH_SECONDS))
        reserve += float(os.environ.get("TUNELAKE_DBT_SECONDS", DBT_SECONDS)) if run_dbt else 0.0
        deadline = started + remaining - reserve
        logger.info("run budget", extra={"budget_seconds": round(remaining - reserve, 1)})
    try:
        summary = ingest(settings, spotify_from_config(deadline=deadline))
    except CoolingDownError as error:
        result: dict[str, Any] = {"status": "cooling_down", "until": error.until.isoformat()}
        logger.info("ingestion skipped", extra={"summary": result})
        return result
    except RunInProgressError as error:
        result = {"status": "skipped", "reason": "run_in_progress", "lock": error.holder}
        logger.warning("ingestion skipped: %s", error, extra={"summary": result})
        return result
    result = _result(summary)
    if run_dbt:
        left = remaining_seconds(context)
        needed = float(os.environ.get("TUNELAKE_DBT_SECONDS", DBT_SECONDS))
        if left is None or left >= needed:
            result["dbt"] = _dbt_build(settings)
        else:
            result["dbt"] = {"status": "skipped", "reason": f"{left:.0f} s left, {needed:.0f} s needed"}
    logger.info("ingestion finished", extra={"summary": result})
    return result


def transform_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """`dbt build` on the configured warehouse (the daily transform function); its summary.

    `status` is `ok` or `failed`; a failed build raises after logging, so Lambda counts an
    error (the alarm) and sends the event to the failure destination.
    """
    del event, context
    _setup_logging()
    load_secrets()
    settings = Settings.from_config()
    if settings.warehouse == "duckdb":
        raise ValueError("tunelake.warehouse: the transform function builds on snowflake or athena, not duckdb")
    result = _dbt_build(settings)
    logger.info("dbt build finished", extra={"summary": result})
    if result["status"] != "ok":
        raise RuntimeError(f"dbt build failed on {settings.warehouse}: {result['error'][:500]}")
    return result
