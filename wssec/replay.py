"""Replay caches: remember signatures and UsernameToken nonces for as long as
the message they came in could still be accepted.

A :class:`ReplayCache` is anything with ``check_and_store(key, expires) ->
bool``: True when ``key`` is new (and now remembered until ``expires``),
False when it was seen before and has not expired.  The in-memory
:class:`MemoryReplayCache` is the default: one per process, so workers
behind one load balancer (gunicorn ``-w 4``, several hosts) each accept a
message once — a replay sent to another worker gets in.  There, use
:class:`RedisReplayCache`: one shared store, one atomic ``SET NX PX`` per
key, so a replay is refused whichever worker it reaches.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from wssec.errors import ReplayDetected


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


class RedisReplayCache:
    """A replay store shared by every process that talks to one Redis.

    Each key is one ``SET key 1 NX PX ttl``: atomic on the server, so two
    workers racing with the same message cannot both win, and Redis expires
    the entry when the message could no longer be accepted anyway (memory
    is bounded by the messages accepted per validity window; set a
    ``maxmemory`` policy of ``volatile-ttl`` on a dedicated instance).

    Fail closed: when Redis cannot be reached the message is refused with
    :class:`ReplayStoreUnavailable` (a :class:`~wssec.errors.ReplayDetected`,
    because a replay can then not be ruled out), never accepted unchecked.

    client: a ``redis.Redis`` (its timeouts apply); or url: ``redis://host:6379/0``,
        ``unix:///run/redis.sock`` (needs ``pip install 'apisec[redis]'``).
    prefix: namespace for the keys, so services can share one Redis.
    """

    def __init__(self, client: Any = None, *, url: str | None = None, prefix: str = "apisec:replay:") -> None:
        if (client is None) == (url is None):
            raise ValueError("give exactly one of client= or url=")
        if client is None:
            try:
                import redis
            except ImportError:  # pragma: no cover - the extra is installed in tests
                raise ImportError(
                    "RedisReplayCache needs the redis client: pip install 'apisec[redis]'"
                ) from None
            client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._redis = client
        self.prefix = prefix

    def check_and_store(self, key: str, expires: dt.datetime, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        ttl_ms = max(1, int((expires - now).total_seconds() * 1000))
        try:
            return bool(self._redis.set(self.prefix + key, b"1", nx=True, px=ttl_ms))
        except Exception as exc:  # noqa: BLE001 - redis.RedisError and socket errors alike
            raise ReplayStoreUnavailable(
                f"replay store unavailable ({type(exc).__name__}): message refused"
            ) from None


class ReplayStoreUnavailable(ReplayDetected):
    """The shared replay store could not be asked: the message is refused
    (a replay cannot be ruled out)."""


__all__ = ["MemoryReplayCache", "RedisReplayCache", "ReplayCache", "ReplayStoreUnavailable"]
