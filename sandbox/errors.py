"""The error the sandbox answers with Spotify's error body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Answered as `{"error": {"status": ..., "message": ...[, "reason": ...]}}`."""

    def __init__(self, status: int, message: str, reason: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        return {"error": error}
