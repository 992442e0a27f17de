"""One request budget per host, shared by every probe of a run.

Why a shared object instead of each probe backing off on its own: an
inventory lists many targets per host, and a rate limit is the *host's*
(usually per client address), not the target's.  If every target throttles
itself, fifty targets on one rate-limited API each burn the quota, each get
429s, and the checks end in errors.  With one :class:`HostBudget` per run:

* **A request rate per host** (``rate`` requests/second, a token bucket
  holding one second's worth): the targets of one host together stay under
  it, while other hosts are not slowed at all.
* **The host's own word.**  A ``429`` (or a ``503`` carrying
  ``Retry-After``) pauses that host for every target until the time it
  names (``Retry-After``, RFC 9110 §10.2.3; else an exponential back-off);
  a response announcing an exhausted quota (``RateLimit: remaining=0,
  reset=N``, ``RateLimit-Remaining``/``-Reset`` of the IETF httpapi draft,
  or the common ``X-RateLimit-*``) pauses it until the quota is back, so
  the next request does not draw a 429 in the first place.
* **Waiting is not working.**  Time a check spends waiting for its host's
  budget is counted on a :class:`WaitMeter`, so the engine can leave it
  out of the check's timeout (a slow scan is not a hung check).

The budget is installed per worker thread with :func:`use_budget` (a
context variable); :class:`rest.http.probes.Prober` consults
:func:`current_budget` and, outside a run, keeps a private budget that only
honours pauses, so the library behaves as a single polite client.
"""

from __future__ import annotations

import contextvars
import email.utils
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

_PROBE_POLL = 0.05  # seconds between looks while one request learns a host's quota
_EPOCH = 1_000_000_000  # an X-RateLimit-Reset above this is a Unix time, not seconds


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an
    HTTP-date, RFC 9110 §10.2.3); ``None`` when absent or unparsable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_delay(retry_after: str, retries: int, max_wait: float) -> float:
    """How long to wait before asking again after the ``retries``-th 429: what
    ``Retry-After`` says, else exponential back-off from 0.5 s, capped at
    ``max_wait`` either way.  The one back-off rule of every REST probe."""
    said = parse_retry_after(retry_after)
    return min(max_wait, said if said is not None else 0.5 * 2**retries)


def slow_down(status: int, headers: Mapping[str, str]) -> bool:
    """An answer that means "slow down", not a verdict: 429 always, 503 when
    it says when to come back (``Retry-After``)."""
    return status == 429 or (status == 503 and bool((headers.get("Retry-After") or "").strip()))


def host_key(url: str) -> str:
    """``host:port`` of a URL (default port by scheme): what one budget covers."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def _first_int(value: str) -> int | None:
    m = re.match(r"\s*(\d+)", value or "")
    return int(m.group(1)) if m else None


def quota_remaining(headers: Mapping[str, str]) -> int | None:
    """Requests left in the current window, as the response advertises it:
    the IETF draft's ``RateLimit`` field (``remaining=N`` or ``r=N``), else
    ``RateLimit-Remaining`` / ``X-RateLimit-Remaining`` / ``X-Rate-Limit-Remaining``."""
    structured = headers.get("RateLimit") or ""
    m = re.search(r"\b(?:remaining|r)\s*=\s*(\d+)", structured)
    if m:
        return int(m.group(1))
    for name in ("RateLimit-Remaining", "X-RateLimit-Remaining", "X-Rate-Limit-Remaining"):
        n = _first_int(headers.get(name) or "")
        if n is not None:
            return n
    return None


def quota_reset(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds until the quota is back: ``RateLimit`` ``reset=N``/``t=N``,
    else ``RateLimit-Reset`` / ``X-RateLimit-Reset`` (delta seconds, or a
    Unix time as some APIs send)."""
    structured = headers.get("RateLimit") or ""
    m = re.search(r"\b(?:reset|t)\s*=\s*(\d+)", structured)
    if m:
        return float(m.group(1))
    for name in ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset"):
        n = _first_int(headers.get(name) or "")
        if n is not None:
            if n > _EPOCH:
                return max(0.0, n - (time.time() if now is None else now))
            return float(n)
    return None


class WaitMeter:
    """Seconds one check spent waiting for host budgets (read by the engine
    from another thread while the check may still be waiting)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waited = 0.0
        self._since: float | None = None

    def begin(self) -> None:
        with self._lock:
            self._since = self._clock()

    def end(self) -> None:
        with self._lock:
            if self._since is not None:
                self._waited += self._clock() - self._since
                self._since = None

    def waited(self) -> float:
        """Total so far, including a wait in progress."""
        with self._lock:
            running = self._clock() - self._since if self._since is not None else 0.0
            return self._waited + running

    @property
    def waiting(self) -> bool:
        with self._lock:
            return self._since is not None


@dataclass
class _Host:
    tokens: float
    stamp: float
    paused_until: float = 0.0
    allowance: int | None = None
    """Requests the host said remain until :attr:`allowance_until` (None: unknown)."""
    allowance_until: float = 0.0
    inflight: int = 0
    metered: bool = False
    """The host has advertised its quota (RateLimit headers) at least once."""
    """Requests sent under this budget whose answer has not been observed yet."""


class HostBudget:
    """Per-host request rate and pauses for one run (thread-safe)."""

    def __init__(
        self,
        rate: float = 0.0,
        *,
        max_pause: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (0 <= rate < math.inf and 0 <= max_pause < math.inf):  # NaN fails too
            raise ValueError("rate and max_pause must be finite numbers, 0 or more")
        self.rate = rate
        """Requests per second per host (0: no rate of our own, only the host's word)."""
        self.burst = max(1.0, float(math.ceil(rate))) if rate else 0.0
        """Bucket size: one second's worth, so a fresh host is not flooded."""
        self.max_pause = max_pause
        """Cap on one pause, whatever a host asks (a check then ends throttled, as an error)."""
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._cond = threading.Condition()
        self.waits = 0
        """How many requests had to wait (for reports and benches)."""

    def _host(self, key: str, now: float) -> _Host:
        h = self._hosts.get(key)
        if h is None:
            h = self._hosts[key] = _Host(tokens=self.burst, stamp=now)
        return h

    def _delay(self, h: _Host, now: float) -> float:
        """Seconds until ``h`` may take one more request (0: now)."""
        delay = max(0.0, h.paused_until - now)
        if h.allowance is not None and now >= h.allowance_until:
            h.allowance = None  # the advertised window is over: ask again
        if h.allowance is not None and h.allowance <= 0:
            delay = max(delay, h.allowance_until - now)
        elif h.allowance is None and h.metered and h.inflight > 0:
            # a host that counts, whose current quota we do not know: one
            # request finds it out before the others follow (else a crowd of
            # waiting checks would overdraw it the moment a pause ends)
            delay = max(delay, _PROBE_POLL)
        if self.rate:
            h.tokens = min(self.burst, h.tokens + (now - h.stamp) * self.rate)
            h.stamp = now
            if h.tokens < 1.0:
                delay = max(delay, (1.0 - h.tokens) / self.rate)
        return delay

    def settle(self, url: str) -> None:
        """A request acquired for ``url`` got no answer (connection failure):
        it is no longer in flight."""
        with self._cond:
            h = self._hosts.get(host_key(url))
            if h is not None:
                h.inflight = max(0, h.inflight - 1)
                self._cond.notify_all()

    def paused_for(self, host: str) -> float:
        """Seconds ``host`` (``host:port``) asked us to stay away (after a 429
        or an exhausted quota; 0: not paused).  The request rate is not a
        pause: a check on a busy host still starts and takes its turn."""
        with self._cond:
            now = self._clock()
            h = self._hosts.get(host)
            if h is None:
                return 0.0
            wait = h.paused_until - now
            if h.allowance is not None and h.allowance <= 0 and now < h.allowance_until:
                wait = max(wait, h.allowance_until - now)
            return max(0.0, wait)

    def acquire(self, url: str) -> float:
        """Wait until the host of ``url`` may get one more request, take it,
        and return the seconds waited (also added to the current
        :class:`WaitMeter`)."""
        key = host_key(url)
        meter = _METER.get()
        waited = 0.0
        with self._cond:
            start = self._clock()
            while True:
                now = self._clock()
                h = self._host(key, now)
                delay = self._delay(h, now)
                if delay <= 0:
                    break
                if meter is not None and not meter.waiting:
                    meter.begin()
                self._cond.wait(delay)
            if self.rate:
                h.tokens -= 1.0
            if h.allowance is not None:
                h.allowance -= 1
            h.inflight += 1
            waited = self._clock() - start
            if waited > 0:
                self.waits += 1
        if meter is not None:
            meter.end()
        return waited

    def observe(
        self,
        url: str,
        status: int,
        headers: Mapping[str, str],
        *,
        retries: int = 0,
        cap: float | None = None,
        acquired: bool = True,
    ) -> float:
        """Learn from one response of the host of ``url``; returns the pause
        it imposed on the host (0: none).

        A 429, or a 503 with ``Retry-After``, pauses the host for what
        ``Retry-After`` says (else the back-off of :func:`retry_delay` for the
        ``retries``-th attempt); any response that advertises an exhausted
        quota pauses it until the advertised reset.  Pauses are capped at
        ``cap`` (default :attr:`max_pause`) and only ever extend.
        ``acquired``: the request went through :meth:`acquire` (a burst
        that measures the limit does not, and is not counted in flight).
        """
        cap = self.max_pause if cap is None else min(cap, self.max_pause)
        pause = 0.0
        if slow_down(status, headers):
            pause = retry_delay(headers.get("Retry-After") or "", retries, cap)
        remaining = quota_remaining(headers)
        reset = quota_reset(headers)
        with self._cond:
            now = self._clock()
            h = self._host(host_key(url), now)
            if acquired:
                h.inflight = max(0, h.inflight - 1)
            if remaining is not None and reset is not None:
                h.metered = True
                # the other requests still in flight were counted after this
                # answer left the host: they spend its remaining quota too
                left = remaining - h.inflight
                until = now + min(reset, cap)
                if h.allowance is None or now >= h.allowance_until:
                    h.allowance, h.allowance_until = left, until
                else:
                    h.allowance = min(h.allowance, left)
                if remaining <= 0:
                    pause = max(pause, min(reset, cap))
            if pause > 0:
                h.paused_until = max(h.paused_until, now + pause)
            self._cond.notify_all()
        return pause


_BUDGET: contextvars.ContextVar[HostBudget | None] = contextvars.ContextVar("apisec_budget", default=None)
_METER: contextvars.ContextVar[WaitMeter | None] = contextvars.ContextVar("apisec_wait_meter", default=None)


@contextmanager
def use_budget(budget: HostBudget | None, meter: WaitMeter | None = None) -> Iterator[None]:
    """Make ``budget`` (and ``meter``) current in this thread for the block:
    every :class:`~rest.http.probes.Prober` created inside obeys it."""
    b, m = _BUDGET.set(budget), _METER.set(meter)
    try:
        yield
    finally:
        _BUDGET.reset(b)
        _METER.reset(m)


def current_budget() -> HostBudget | None:
    """The run's budget installed by :func:`use_budget` (None outside a run)."""
    return _BUDGET.get()


__all__ = [
    "HostBudget",
    "WaitMeter",
    "current_budget",
    "host_key",
    "parse_retry_after",
    "retry_delay",
    "slow_down",
    "quota_remaining",
    "quota_reset",
    "use_budget",
]
