"""What rest.guard.GuardMiddleware costs per request.

    nice -n 19 python bench/bench_guard.py [--seconds 3] [--quick]

* **Under uvicorn**: requests/s of a tiny Starlette app, bare and behind the
  guard (RS256 bearer token, roles policy, rate limit high enough not to
  trigger, security headers, audit to a no-op sink), over keep-alive HTTP on
  127.0.0.1 from client threads.  TLS is left out on purpose: it costs the
  same on both sides and would hide the guard.
* **In process**: the same two apps called directly through ASGI (no socket),
  so the difference per request is the guard alone; it is compared with one
  full ``Validator.validate`` of the same token (signature checked).  The goal
  is overhead within 1.5x of one verification: keys are prepared once, the
  JWKS cached, and a verified signature remembered per key (the validator's
  default ``cache_size``), so a token's second request costs the header and
  claim checks plus bookkeeping.  The overhead with every request verified
  (``cache_size=0``: each request a new token) is printed too.

In-process numbers are CPU time (``time.process_time``), medians over
interleaved rounds: other processes on a shared machine do not inflate them.
The uvicorn numbers are wall time (run it niced and alone).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from rest.guard import AccessPolicy, GuardConfig, GuardMiddleware, RateLimit
from rest.jwt import Validator

ISSUER = "https://issuer.bench.test"
AUDIENCE = "bench-api"

ROLES = {
    "roles": {"alice": {"token": "x"}, "admin": {"token": "x"}},
    "requests": [
        {"path": "/items/1", "operation": "/items/{item_id}", "check": "bola", "allow": ["alice"], "deny": ["anonymous"]},
        {"path": "/admin", "check": "bfla", "allow": ["admin"], "deny": ["alice"]},
    ],
}  # fmt: skip


def mint(key: Any, sub: str) -> str:
    import jwt

    now = int(time.time())
    claims = {
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "scope": "orders:read",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def owns(principal: Any, method: str, params: Any) -> bool:
    return principal.subject == "alice"


class _Free:
    """A validator that costs nothing: what the guard's bookkeeping alone costs."""

    jwks_client = None

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def validate(self, token: str) -> dict[str, Any]:
        return self.claims


def bare_app() -> Starlette:
    async def me(request: Any) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/me", me)])


def guarded(validator: Validator) -> GuardMiddleware:
    cfg = GuardConfig(
        validator=validator,
        policy=AccessPolicy.from_roles_file(ROLES, owner_check=owns),
        rate_limit=RateLimit(10**9, 1.0),
        allow_http=True,
        audit=lambda record: None,
    )
    return GuardMiddleware(bare_app(), cfg)


def load(url: str, token: str, seconds: float, threads: int) -> float:
    host, port = url.split("//")[1].split(":")
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {"Authorization": f"Bearer {token}"}
        while time.perf_counter() < stop:
            conn.request("GET", "/me", headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"unexpected HTTP {r.status}")
            counts[i] += 1
        conn.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def asgi_per_request(app: Any, token: str, n: int) -> float:
    """CPU seconds per request through ``app`` (ASGI, no socket)."""
    scope = {
        "type": "http", "method": "GET", "path": "/me", "root_path": "", "scheme": "http",
        "query_string": b"", "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "http_version": "1.1",
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run() -> float:
        for _ in range(50):  # warm up
            await app(dict(scope), receive, send)
        t0 = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.process_time() - t0) / n

    per = asyncio.run(run())
    assert set(statuses) == {200}, statuses[-3:]
    return per


def cpu_per_call(fn: Any, n: int) -> float:
    """CPU seconds per call (GC on, as in the ASGI runs)."""
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    n = 300 if args.quick else 1000
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = mint(key, "alice")
    # the guard's validator remembers a verified signature per key (the default);
    # "one verify" is a full verification every time (cache_size=0)
    validator = Validator(keys=key.public_key(), audience=AUDIENCE, issuer=ISSUER)
    uncached = Validator(keys=key.public_key(), audience=AUDIENCE, issuer=ISSUER, cache_size=0)

    # interleaved rounds, medians of CPU time (process_time: other processes on
    # a shared machine do not count, the cache and branch-predictor effects of
    # running amid other code do); a shared machine's load drifts between blocks
    free = _Free(validator.validate(token))
    runs: dict[str, list[float]] = {k: [] for k in ("verify", "memo", "bare", "guard", "guard0", "book")}
    for _ in range(args.rounds if not args.quick else 3):
        runs["verify"].append(cpu_per_call(lambda: uncached.validate(token), n))
        runs["memo"].append(cpu_per_call(lambda: validator.validate(token), n))
        runs["bare"].append(asgi_per_request(bare_app(), token, n))
        runs["guard"].append(asgi_per_request(guarded(validator), token, n))
        runs["guard0"].append(asgi_per_request(guarded(uncached), token, n))
        runs["book"].append(asgi_per_request(guarded(free), token, n))  # type: ignore[arg-type]
    m = {k: statistics.median(v) for k, v in runs.items()}
    verify, bare_in = m["verify"], m["bare"]

    def line(label: str, seconds_: float) -> str:
        return f"{label:<44}{seconds_ * 1e6:8.1f} µs = {seconds_ / verify:.2f}x one verify"

    print(f"{'one Validator.validate, full RS256 check:':<44}{verify * 1e6:8.1f} µs (CPU)")
    print(line("one Validator.validate, signature remembered:", m["memo"]))
    print(f"{'ASGI in process, bare app:':<44}{bare_in * 1e6:8.1f} µs/request")
    print(line("guard overhead per request (default):", m["guard"] - bare_in) + " (goal <= 1.5x)")
    print(line("guard overhead, every request verified:", m["guard0"] - bare_in))
    print(line("  of which bookkeeping (no token check):", m["book"] - bare_in))

    with (
        serve_asgi(bare_app(), name="bench-bare") as bare,
        serve_asgi(guarded(validator), name="bench-guard") as g,
    ):
        load(bare.url, token, 0.3, 1)  # warm up
        load(g.url, token, 0.3, 1)
        rounds = [(load(bare.url, token, seconds, args.threads), load(g.url, token, seconds, args.threads))
                  for _ in range(3)]  # fmt: skip
        rps_bare = statistics.median(r[0] for r in rounds)
        rps_guard = statistics.median(r[1] for r in rounds)
    print(f"uvicorn, bare app:                {rps_bare:8.0f} requests/s")
    print(f"uvicorn, behind the guard:        {rps_guard:8.0f} requests/s")
    print(f"guard/bare throughput ratio:      {rps_guard / rps_bare:8.2f}")
    per_req = 1 / rps_guard - 1 / rps_bare
    print(f"added wall time per request:      {per_req * 1e6:8.1f} µs = {per_req / verify:.2f}x one verify")


if __name__ == "__main__":
    main()
