"""Cost of the REST HTTP-level checks and of the static OpenAPI audit.

    python bench/bench_rest_check.py [--quick]

* Static audit: ``rest.openapi.audit`` on a generated contract (N paths × 4
  operations, shared ``$ref`` components) next to openapi-spec-validator's
  ``validate`` alone on the same document — the ratio is what indexing plus
  the eight rules add on top of validation (the audit always validates).
* Live check: ``rest.http.check`` against the sample service (secure and
  legacy, HTTPS on 127.0.0.1) with the contract and the roles matrix, burst
  disabled and enabled: wall time and requests put on the wire.  The secure
  run includes the back-off its own rate limiter imposes (30 per 5 s).

Numbers are wall-clock medians on this machine; run it alone for stable ones.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any


def _median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def big_spec(paths: int) -> dict[str, Any]:
    ok = {"$ref": "#/components/responses/Ok"}
    many = {"$ref": "#/components/responses/TooMany"}
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "servers": [{"url": "https://api.bench.test/v1"}],
        "security": [{"bearer": []}],
        "paths": {},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Ok": {"description": "ok"}, "TooMany": {"description": "slow down"}},
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            },
        },
    }
    for i in range(paths):
        spec["paths"][f"/r{i}/{{id}}"] = {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            **{
                m: {"operationId": f"{m}{i}", "responses": {"200": ok, "429": many}}
                for m in ("get", "put", "patch", "delete")
            },
        }
    return spec


def bench_audit(paths: int, runs: int) -> None:
    from openapi_spec_validator import validate

    from rest.openapi import audit

    spec = big_spec(paths)
    t_validate = _median(lambda: validate(spec), runs)
    t_audit = _median(lambda: audit(spec), runs)
    ops = paths * 4
    print(f"static audit, {paths} paths / {ops} operations:")
    print(f"  openapi-spec-validator validate  {t_validate * 1000:8.1f} ms")
    print(f"  apisec audit (validate+rules)    {t_audit * 1000:8.1f} ms   ratio {t_audit / t_validate:.2f}")


def bench_live(runs: int) -> None:
    from apisec_samples.rest_service import OPENAPI, ROLES, serve
    from rest.http import Prober, check

    sent: list[int] = []
    original = Prober.close

    def counting_close(self: Prober) -> None:
        sent.append(self.sent)
        original(self)

    Prober.close = counting_close  # type: ignore[method-assign]  # bench-only instrumentation
    print("live check against the sample service (HTTPS, 127.0.0.1, --openapi, --roles):")
    for config in ("legacy", "secure"):
        svc = serve(config)
        try:
            env = svc.role_env()
            for burst in (0, 50):
                sent.clear()
                run = partial(
                    check, svc.url + "/api/orders", token=env["ALICE_TOKEN"], openapi=OPENAPI, roles=ROLES,
                    ca_file=svc.ca_file, env=env, rate_limit_probe=burst,
                )  # fmt: skip
                t = _median(run, runs)
                print(f"  {config:7} burst={burst:<3} {t:6.2f} s   {sent[-1]:4d} requests")
                time.sleep(5.5 if config == "secure" else 0)  # let the limiter window pass between runs
        finally:
            svc.stop()
    Prober.close = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller spec, one run each")
    args = parser.parse_args()
    bench_audit(50 if args.quick else 250, 1 if args.quick else 3)
    bench_live(1)


if __name__ == "__main__":
    main()
