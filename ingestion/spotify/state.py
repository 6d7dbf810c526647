"""What a crawl remembers between runs, kept in the dlt source state (which lives with the raw zone).

When each entity was last fetched is not here: it grew with the catalog (`freshness.py`).

Days are UTC day numbers by Spotify's clock (the `Date` of its answers), so a run is dated the
same wherever it runs. The keys of `daily` name a unit of once-a-day work
(`playlist:<id>`, `discography:<id>`, `search:<query>`, `user:top`, ...).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

import dlt

EPOCH = date(1970, 1, 1)
ENTITY_KINDS = ("album", "track", "artist")


def day_number(moment: datetime) -> int:
    return (moment.date() - EPOCH).days


class CrawlState:
    """Typed access to the crawler's part of the pipeline state, safe across worker threads.

    Args:
        data: The state dict itself (dlt's source state, or a copy for a dry run); changed in place.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._lock = threading.RLock()

    @classmethod
    def of_pipeline(cls, pipeline: dlt.Pipeline, source: str = "spotify") -> CrawlState:
        """The crawler's state as a pipeline last committed it (after `sync_destination`), read only."""
        return cls(pipeline.state.get("sources", {}).get(source, {}).get("crawler", {}))

    # once a day ------------------------------------------------------------------------------

    def done_on(self, key: str, day: int) -> bool:
        return self.data.get("daily", {}).get(key) == day

    def mark_done(self, key: str, day: int) -> None:
        with self._lock:
            self.data.setdefault("daily", {})[key] = day

    def refusal(self, key: str, day: int) -> str | None:
        """Why Spotify refused this once-a-day unit today, if it did (reported, not asked again)."""
        refused = self.data.get("refused", {}).get(key)
        return refused["reason"] if refused and refused.get("day") == day else None

    def refuse(self, key: str, day: int, reason: str) -> None:
        with self._lock:
            refused = self.data.setdefault("refused", {})
            # Only today's refusals are worth keeping: tomorrow the unit is asked again.
            for stale in [k for k, v in refused.items() if v.get("day") != day]:
                del refused[stale]
            refused[key] = {"day": day, "reason": reason}
            self.data.setdefault("daily", {})[key] = day

    # listing sizes, for a dry run's price -----------------------------------------------------

    def size(self, key: str) -> int | None:
        return self.data.get("sizes", {}).get(key)

    def remember_size(self, key: str, size: int) -> None:
        with self._lock:
            self.data.setdefault("sizes", {})[key] = size

    # entity freshness ------------------------------------------------------------------------

    def take_legacy_fetched(self) -> dict[str, Any]:
        """Per kind, id -> day, as states written before the freshness index kept them; removed from the state.

        One entry per entity grew the state with the catalog: `ingestion.spotify.freshness` keeps them now.
        """
        with self._lock:
            legacy = self.data.pop("fetched", None)
        return legacy if isinstance(legacy, dict) else {}

    # a stopped run's leftovers ---------------------------------------------------------------

    def take_backlog(self) -> dict[str, Any]:
        """What a stopped run left to fetch: per kind, each id with what the answers said of it."""
        with self._lock:
            return self.data.pop("backlog", {})

    def put_backlog(self, backlog: dict[str, Any]) -> None:
        if any(backlog.values()):
            with self._lock:
                self.data["backlog"] = backlog

    def backlog(self) -> dict[str, Any]:
        return self.data.get("backlog", {})

    # recently played's cursor, rate-limit cooldown, tier --------------------------------------

    @property
    def plays_after_ms(self) -> int | None:
        return self.data.get("plays_after_ms")

    @plays_after_ms.setter
    def plays_after_ms(self, value: int | None) -> None:
        self.data["plays_after_ms"] = value

    @property
    def cooldown_until(self) -> datetime | None:
        text = self.data.get("cooldown_until")
        return datetime.fromisoformat(text) if text else None

    @cooldown_until.setter
    def cooldown_until(self, value: datetime | None) -> None:
        if value is None:
            self.data.pop("cooldown_until", None)
        else:
            self.data["cooldown_until"] = value.isoformat()

    @property
    def tier(self) -> str | None:
        """The tier the endpoints last showed."""
        return self.data.get("tier")

    def tier_decided_on(self, day: int) -> bool:
        return self.data.get("tier_day") == day

    def decide_tier(self, tier: str, day: int) -> None:
        self.data["tier"] = tier
        self.data["tier_day"] = day
