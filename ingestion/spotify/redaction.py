"""Keeping credentials out of logs.

At DEBUG level spotipy logs request headers (`Authorization: Bearer ...`, `Basic ...`) and
token request bodies (`refresh_token`, `client_secret`). A filter on its loggers rewrites
those records before any handler sees them, whoever configured logging.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"""(['"]?(?:access_token|refresh_token|client_secret|code_verifier|code)['"]?\s*[:=]\s*['"]?)[^'",&\s}]+"""
    ),
)
SPOTIPY_LOGGERS = ("spotipy", "spotipy.client", "spotipy.oauth2", "spotipy.cache_handler")


def redact(text: str) -> str:
    """`text` with bearer and basic credentials and token fields replaced by `***`."""
    text = _PATTERNS[0].sub(r"\1 ***", text)
    return _PATTERNS[1].sub(r"\1***", text)


class RedactCredentials(logging.Filter):
    """Rewrites a record's message with `redact` (filters never drop a record here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    """Put the filter on spotipy's loggers (idempotent)."""
    for name in SPOTIPY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
