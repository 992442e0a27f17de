"""Work done once per endpoint per run: N REST targets on one HTTPS sample server.

    nice -n 19 python bench/bench_scale.py [--targets 20]

Every target is the legacy sample service (no rate limiter, so no 429
back-off blurs the numbers) with the same OpenAPI file, token and TLS
endpoint, as real inventories list many APIs per host.  "before" replays the
old behaviour in the same process: no TLS-scan sharing (every job's
``shared`` key dropped) and no OpenAPI cache (every load parses and
validates again).  Printed: wall time, per-target time, TLS scans and
OpenAPI loads, and the ratio.  Wall-clock numbers on a shared machine are
noisy: compare the ratio, and run it alone for stable absolutes.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from typing import Any


def run(n: int, *, before: bool) -> tuple[float, int, int, int]:
    import compare.engine as engine
    import rest.openapi.loader as loader
    import rest.tls
    from apisec_samples.rest_service import OPENAPI, serve
    from compare.config import Profile, RestTarget, SecretRef, Settings, Targets

    counts = {"tls": 0, "openapi": 0}
    real_scan, real_load, real_plan, real_key = (
        rest.tls.check,
        loader._load_spec,
        engine.plan,
        loader._cache_key,
    )

    def scan(*a: Any, **k: Any) -> Any:
        counts["tls"] += 1
        return real_scan(*a, **k)

    def load(*a: Any, **k: Any) -> Any:
        counts["openapi"] += 1
        return real_load(*a, **k)

    def plan(targets: Any) -> Any:
        jobs, skipped = real_plan(targets)
        return ([replace(j, shared=None) for j in jobs] if before else jobs), skipped

    svc = serve("legacy")
    try:
        os.environ["BENCH_TOKEN"] = svc.role_env()["ALICE_TOKEN"]
        profile = Profile(name="bench", rate_limit_probe=0)
        targets = Targets(
            rest=tuple(
                RestTarget(
                    f"api-{i}",
                    base_url=f"{svc.url}/api/orders",
                    openapi=str(OPENAPI),
                    token=SecretRef("env:BENCH_TOKEN"),
                    ca_file=svc.ca_file,
                    profile=profile,
                )  # fmt: skip
                for i in range(n)
            ),
            settings=Settings(concurrency=4, timeout=300),
        )
        rest.tls.check, loader._load_spec, engine.plan = scan, load, plan  # bench-only instrumentation
        loader._CACHE.clear()
        if before:
            loader._cache_key = lambda _path: None  # no cache: every load parses and validates
        t0 = time.perf_counter()
        a = engine.assess(targets, progress=False)
        wall = time.perf_counter() - t0
    finally:
        rest.tls.check, loader._load_spec, engine.plan = real_scan, real_load, real_plan
        loader._cache_key = real_key
        svc.stop()
    errors = sum(1 for f in a.findings if f.status.value == "error")
    return wall, counts["tls"], counts["openapi"], errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for label, before in (("before", True), ("after", False)):
        wall, tls, spec, errors = run(args.targets, before=before)
        results[label] = wall
        print(f"{label:6} {args.targets} targets: {wall:6.1f} s  {wall / args.targets:5.2f} s/target  "
              f"TLS scans {tls:3d}  OpenAPI loads {spec:3d}  error findings {errors}")  # fmt: skip
    print(f"after/before wall time: {results['after'] / results['before']:.2f}")


if __name__ == "__main__":
    main()
