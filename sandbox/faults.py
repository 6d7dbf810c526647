"""Faults on demand, as Spotify answers them.

Latency, 429s (short, or hours-long quota), 5xx, connection resets, truncated bodies and a
rolling 30-second rate limit.

Random faults come from a seeded generator, so a test that fails 20% of requests fails the
same ones every time. Quota exhaustion lasts in simulated time: once a 429 with
`Retry-After: 7200` has been served, every API request is refused until the sandbox's clock
has moved two hours on.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sandbox.errors import ApiError

FAULT_KINDS = ("429", "500", "502", "503", "reset", "truncate")
WINDOW_S = 30.0
_STATUS_MESSAGES = {500: "Server error", 502: "Bad gateway", 503: "Service unavailable"}


@dataclass
class FaultPlan:
    """What to inject; every field can be set from the CLI and changed by `POST /_sandbox/faults`.

    Args:
        latency_ms: Added to every API response.
        fail_rate: Share of API requests (0 to 1) that fail with one of `fail_kinds`.
        fail_kinds: Which failures the random ones are drawn from (`FAULT_KINDS`).
        retry_after: `Retry-After` seconds of the random 429s.
        rate_limit: Most API requests answered per rolling 30 seconds; none when 0.
        seed: Seed of the random faults.
    """

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: int = 1
    rate_limit: int = 0
    seed: int = 0

    def validate(self) -> None:
        unknown = set(self.fail_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"fail_kinds: unknown {sorted(unknown)}, expected some of {FAULT_KINDS}")
        if not 0 <= self.fail_rate <= 1:
            raise ValueError(f"fail_rate must be between 0 and 1, got {self.fail_rate}")


@dataclass(frozen=True)
class Fault:
    """One injected failure: an error answer, or `transport` ("reset", "truncate") for the server."""

    error: ApiError | None = None
    transport: str | None = None


@dataclass
class Faults:
    """Decides, request by request, whether the answer is a fault."""

    plan: FaultPlan = field(default_factory=FaultPlan)
    _scripted: deque[dict[str, Any]] = field(default_factory=deque)
    _quota_until: datetime | None = None
    _window: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.plan.validate()
        self._random = random.Random(self.plan.seed)  # noqa: S311 (reproducible faults, not crypto)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply an admin request: plan fields, `"script": [faults]`, `"clear": true`.

        A scripted fault answers the next API request, or the one after `"after": N` more.
        """
        with self._lock:
            if changes.pop("clear", False):
                self.plan, self._quota_until = FaultPlan(), None
                self._scripted.clear()
                self._window.clear()
            for fault in changes.pop("script", []):
                if str(fault.get("kind")) not in FAULT_KINDS:
                    raise ValueError(f"script: unknown fault kind {fault.get('kind')!r}")
                self._scripted.append(fault)
            names = {f.name for f in fields(FaultPlan)}
            unknown = set(changes) - names
            if unknown:
                raise ValueError(f"unknown fault settings {sorted(unknown)}, expected {sorted(names)}")
            if "fail_kinds" in changes:
                changes["fail_kinds"] = tuple(changes["fail_kinds"])
            plan = FaultPlan(**{**self.plan.__dict__, **changes})
            plan.validate()
            if plan.seed != self.plan.seed:
                self._random = random.Random(plan.seed)  # noqa: S311
            self.plan = plan
            return self.describe()

    def describe(self) -> dict[str, Any]:
        return {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in self.plan.__dict__.items()},
            "scripted": list(self._scripted),
            "quota_exceeded_until": self._quota_until.isoformat() if self._quota_until else None,
        }

    def delay(self) -> None:
        if self.plan.latency_ms:
            time.sleep(self.plan.latency_ms / 1000)

    def decide(self, now: datetime) -> Fault | None:
        """The fault for one API request arriving at simulated time `now`, if any."""
        with self._lock:
            if self._quota_until and now < self._quota_until:
                wait = math.ceil((self._quota_until - now).total_seconds())
                return Fault(_too_many(wait, "QUOTA_EXCEEDED"))
            if self._scripted:
                upcoming = self._scripted[0]
                if upcoming.get("after", 0) > 0:
                    upcoming["after"] -= 1
                else:
                    return self._make(self._scripted.popleft(), now)
            if self.plan.rate_limit:
                limited = self._rate_limited()
                if limited:
                    return limited
            if self.plan.fail_rate and self._random.random() < self.plan.fail_rate:
                kind = self._random.choice(self.plan.fail_kinds)
                return self._make({"kind": kind, "retry_after": self.plan.retry_after}, now)
        return None

    def _rate_limited(self) -> Fault | None:
        moment = time.monotonic()
        while self._window and self._window[0] <= moment - WINDOW_S:
            self._window.popleft()
        if len(self._window) >= self.plan.rate_limit:
            wait = max(1, math.ceil(self._window[0] + WINDOW_S - moment))
            return Fault(_too_many(wait, None))
        self._window.append(moment)
        return None

    def _make(self, spec: dict[str, Any], now: datetime) -> Fault:
        kind = str(spec["kind"])
        if kind in ("reset", "truncate"):
            return Fault(transport=kind)
        if kind == "429":
            retry_after = int(spec.get("retry_after", self.plan.retry_after))
            reason = spec.get("reason")
            if reason == "QUOTA_EXCEEDED":
                self._quota_until = now + timedelta(seconds=retry_after)
            return Fault(_too_many(retry_after, reason))
        status = int(kind)
        return Fault(ApiError(status, _STATUS_MESSAGES[status]))


def _too_many(retry_after: int, reason: str | None) -> ApiError:
    message = "Too many requests" if reason else "API rate limit exceeded"
    return ApiError(429, message, reason=reason, headers={"Retry-After": str(retry_after)})
