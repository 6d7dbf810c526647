"""The error every part of tunelake raises for a setting a person has to fix."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """The configuration is invalid; raised before any request is sent. The message names the setting."""


class RunInProgressError(Exception):
    """Another run holds the raw zone's lock (`ingestion.run_lock`); raised before any request is sent.

    The message names the raw zone, the lock, who holds it and until when; `holder` has the same
    as fields (host, pid, command, started_at, expires_at) for machines (the Lambda's result).
    """

    def __init__(self, message: str, holder: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.holder = holder
