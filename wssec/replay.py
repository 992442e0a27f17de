"""Replay caches: remember signatures and UsernameToken nonces for as long as
the message they came in could still be accepted.

A :class:`ReplayCache` is anything with ``check_and_store(key, expires) ->
bool``: True when ``key`` is new (and now remembered until ``expires``),
False when it was seen before and has not expired.  The in-memory
:class:`MemoryReplayCache` is the default; a shared store (Redis, a
database) plugs in with the same one method so a cluster rejects a replay
on any node.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable


@runtime_checkable
class ReplayCache(Protocol):
    def check_and_store(self, key: str, expires: dt.datetime) -> bool:
        """Atomically: False if ``key`` is remembered and unexpired, else
        remember it until ``expires`` and return True."""
        ...


class MemoryReplayCache:
    """Thread-safe in-memory cache with per-entry expiry and a size bound.

    When full it first drops expired entries, then the oldest ones: memory
    stays bounded under a flood, at the price of forgetting the oldest
    entries (keep ``max_entries`` above the messages you accept per
    validity window).
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, dt.datetime] = OrderedDict()
        # (expires, key) min-heap: expired entries are dropped from the top in
        # O(log n) each, instead of scanning the whole cache on every insert
        self._expiry: list[tuple[dt.datetime, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def check_and_store(self, key: str, expires: dt.datetime, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        with self._lock:
            seen = self._entries.get(key)
            if seen is not None and seen > now:
                return False
            if seen is not None:
                del self._entries[key]
            if len(self._entries) >= self.max_entries:
                self._purge(now)
            self._entries[key] = expires
            heapq.heappush(self._expiry, (expires, key))
            if len(self._expiry) > 2 * self.max_entries:  # stale heap items from evictions
                self._expiry = [(exp, k) for k, exp in self._entries.items()]
                heapq.heapify(self._expiry)
            return True

    def _purge(self, now: dt.datetime) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            exp, k = heapq.heappop(self._expiry)
            if self._entries.get(k) == exp:  # not re-stored with a later expiry since
                del self._entries[k]
        while len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)


__all__ = ["MemoryReplayCache", "ReplayCache"]
