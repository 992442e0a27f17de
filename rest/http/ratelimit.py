"""``http.rate-limit``: a bounded burst to exactly the checked URL.

Runs last (a throttled client would spoil every probe after it), sends at
most ``burst`` requests with the given credentials, stops at the first 429,
and never backs off: here 429 *is* the verdict.  A limiter that advertises
itself (RateLimit / X-RateLimit headers with a falling remaining count) but
is not exhausted by the burst passes: the service limits, only above the
burst size.
"""

from __future__ import annotations

import time

from compare.findings import Finding, Status, finding
from rest.http import registry as ids
from rest.http.budget import quota_remaining
from rest.http.checks import Context
from rest.http.probes import Exchange

MAX_BURST = 1000
RATELIMIT_HEADERS = (
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
)


def _remaining(ex: Exchange) -> int | None:
    """The remaining quota a response advertises (the budget's one reading of it)."""
    return quota_remaining(ex.headers)


def _advertised(ex: Exchange) -> list[str]:
    return [f"{h}: {ex.header(h)}" for h in RATELIMIT_HEADERS if ex.header(h)]


def check_rate_limit(ctx: Context, burst: int) -> list[Finding]:
    """Send up to ``burst`` requests; pass on 429 with Retry-After/RateLimit headers."""
    if burst <= 0:
        return [finding(ids.RATE_LIMIT, Status.SKIP, ctx.url, "rate-limit probe disabled")]
    burst = min(burst, MAX_BURST)
    prober = ctx.prober
    record, prober.record = prober.record, False  # keep only the telling exchanges
    statuses: dict[int, int] = {}
    first: Exchange | None = None
    last: Exchange | None = None
    throttled: Exchange | None = None
    start = time.perf_counter()
    sent = 0
    try:
        for i in range(burst):
            ex = prober.send(ctx.baseline.method, ctx.url, backoff=False, note=f"burst {i + 1}/{burst}")
            sent += 1
            statuses[ex.status] = statuses.get(ex.status, 0) + 1
            first = first or ex
            last = ex
            if ex.status == 429:
                throttled = ex
                break
    finally:
        prober.record = record
        if record:
            prober.log.extend(e for e in (first, throttled or last) if e is not None)
    elapsed = time.perf_counter() - start
    took = f"{elapsed:.1f}s" if elapsed >= 0.1 else f"{elapsed * 1000:.0f} ms"  # never "in 0.0s"
    counts = ", ".join(f"{n}×{code}" for code, n in sorted(statuses.items()))
    if throttled is not None:
        retry_after = throttled.header("Retry-After")
        advertised = _advertised(throttled)
        detail = f"429 after {sent} requests in {took}"
        if retry_after or advertised:
            hints = ([f"Retry-After: {retry_after}"] if retry_after else []) + advertised
            return [finding(ids.RATE_LIMIT, Status.PASS, ctx.url, f"{detail}; " + "; ".join(hints))]
        return [
            finding(
                ids.RATE_LIMIT,
                Status.WARN,
                ctx.url,
                f"{detail}, but without Retry-After or RateLimit headers: clients cannot back off correctly",
            )
        ]
    if first is not None and last is not None:
        r0, r1 = _remaining(first), _remaining(last)
        if r0 is not None and r1 is not None and r1 < r0:
            return [
                finding(
                    ids.RATE_LIMIT,
                    Status.PASS,
                    ctx.url,
                    f"no 429 in {sent} requests, but a limiter is counting (remaining {r0} → {r1}; "
                    + "; ".join(_advertised(last))
                    + ")",
                )
            ]
    return [
        finding(
            ids.RATE_LIMIT,
            Status.FAIL,
            ctx.url,
            f"{sent} requests in {took} ({counts}) and never a 429",
        )
    ]
