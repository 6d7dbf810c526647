"""AWS Lambda entry point: a thin adapter over the ingestion package.

`lambda` is a Python keyword, so this folder is never imported as a package: Lambda loads
`handler.py` directly (handler setting `handler.handler`). Configuration comes from the
environment exactly as for `tunelake ingest` (`TUNELAKE__RAW_ZONE_URL=s3://...`,
`SOURCES__SPOTIFY__PLAYLISTS`, ...). Secrets Manager, the run budget, the SAM template and
packaging come with the scheduled-ingestion work (issue #7).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

# tunelake talks to Spotify and its destinations only.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from ingestion.pipeline import CoolingDownError, Settings, crawler_from_config, ingest

logger = logging.getLogger("tunelake.lambda")
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one ingestion and return its summary (also logged as one JSON line).

    `status` is `ok`, `rate_limited` (stopped early; what was collected is loaded and the next
    invocation resumes) or `cooling_down` (an earlier stop's cooldown has not passed; nothing
    was fetched).
    """
    del event, context
    try:
        summary = ingest(Settings.from_config(), crawler_from_config())
    except CoolingDownError as error:
        result = {"status": "cooling_down", "until": error.until.isoformat()}
        logger.info(json.dumps({"event": "ingestion_skipped", **result}))
        return result
    result = {
        "status": "rate_limited" if summary.stopped else "ok",
        "requests": sum(summary.requests.values()),
        "rate_limited": summary.statuses.get(429, 0),
        "rows": summary.warehouse_rows,
        "skipped": [{"kind": s.kind, "id": s.entity_id, "reason": s.reason} for s in summary.skipped],
        "seconds": round(summary.seconds, 1),
    }
    logger.info(json.dumps({"event": "ingestion_finished", **result}))
    return result
