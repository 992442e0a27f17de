"""Per-client rate limiting for :class:`rest.guard.GuardMiddleware` (GCRA).

The generic cell rate algorithm keeps one number per client (the
"theoretical arrival time"), so memory is O(clients) with no per-request
history, and it answers exactly what the headers need: how many requests
remain now, when the quota is whole again, and when the next one is allowed
(``Retry-After``).  The table is bounded (``max_clients``, least recently
seen evicted) so a flood of distinct client keys cannot grow it without
limit; an evicted client simply starts with a full quota.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rest.errors import BadInput


@dataclass(frozen=True)
class RateLimit:
    """``limit`` requests per ``window`` seconds per client."""

    limit: int
    """Requests allowed in one window (also the burst size)."""
    window: float = 60.0
    """Window length in seconds."""
    max_clients: int = 100_000
    """Clients remembered at once (least recently seen forgotten first)."""

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0 or self.max_clients < 1:
            raise BadInput("rate limit: limit >= 1, window > 0 and max_clients >= 1 are required")


class Quota(NamedTuple):
    """The verdict for one request and the numbers its headers carry
    (a NamedTuple: one is made per request, and it must stay cheap)."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until the quota is whole again."""
    retry_after: int
    """Seconds until the next request is allowed (0 when allowed)."""
    window: float

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """:meth:`headers` as ASGI wants them (lower-case names, bytes); built
        directly, as this runs on every request."""
        out = [
            (b"ratelimit-policy", b"%d;w=%d" % (self.limit, max(1, math.ceil(self.window)))),
            (b"ratelimit", b"limit=%d, remaining=%d, reset=%d" % (self.limit, self.remaining, self.reset)),
        ]
        if not self.allowed:
            out.append((b"retry-after", b"%d" % max(1, self.retry_after)))
        return out

    def headers(self) -> list[tuple[str, str]]:
        """IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers) and,
        when refused, ``Retry-After`` (RFC 9110 §10.2.3)."""
        out = [
            ("RateLimit-Policy", f"{self.limit};w={max(1, math.ceil(self.window))}"),
            ("RateLimit", f"limit={self.limit}, remaining={self.remaining}, reset={self.reset}"),
        ]
        if not self.allowed:
            out.append(("Retry-After", str(max(1, self.retry_after))))
        return out


class RateLimiter:
    """Thread-safe GCRA limiter over client keys."""

    def __init__(self, config: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._interval = config.window / config.limit
        self._tolerance = config.window - self._interval
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock

    def _quota(self, allowed: bool, tat: float, now: float) -> Quota:
        debt = max(tat - now, 0.0)
        remaining = (
            max(math.floor((self._tolerance - debt) / self._interval + 1e-9) + 1, 0)
            if debt
            else self.config.limit
        )
        if not allowed:
            remaining = 0
        retry = 0 if allowed else math.ceil(debt - self._tolerance)
        return Quota(
            allowed,
            self.config.limit,
            min(remaining, self.config.limit),
            math.ceil(debt),
            retry,
            self.config.window,
        )

    def hit(self, key: str) -> Quota:
        """Charge one request to ``key``."""
        now = self._clock()
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            if tat - now > self._tolerance + 1e-9:
                self._tat.move_to_end(key)
                return self._quota(False, tat, now)
            tat += self._interval
            self._tat[key] = tat
            self._tat.move_to_end(key)
            while len(self._tat) > self.config.max_clients:
                self._tat.popitem(last=False)
            return self._quota(True, tat, now)

    def exhausted(self, key: str) -> Quota | None:
        """The refusal ``key`` would get now, without charging it (lets the
        guard refuse a flooding client before spending a signature check)."""
        if key not in self._tat:  # fast path, no lock: a client never refused before
            return None
        now = self._clock()
        with self._lock:
            tat = self._tat.get(key)
            if tat is None or tat - now <= self._tolerance + 1e-9:
                return None
            return self._quota(False, tat, now)
