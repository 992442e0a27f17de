"""One atheris (libFuzzer) harness for every apisec parser; ``run.py`` drives it.

    python bench/fuzz/harness.py TARGET WORKDIR [libFuzzer flags...]

TARGET is a name from ``tests/reliability/fuzz_targets.py`` (the same table
the hypothesis property tests use).  WORKDIR receives ``corpus/`` (seeded
from tests/vectors and freshly signed messages), ``crashes/`` (one file per
distinct undocumented exception: its type and innermost apisec frame) and
``stats.json`` (executions, slowest input).  An undocumented exception is
recorded and fuzzing goes on, so one run reports every distinct crash rather
than stopping at the first; libFuzzer's own ``-timeout`` and
``-rss_limit_mb`` still stop it on a hang or a memory blow-up.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

from tests.reliability.fuzz_targets import BUILDERS  # noqa: E402

UNINSTRUMENTED = ["wssec.verifier"]
"""Atheris 2.3's bytecode instrumentation of this module segfaults CPython 3.11
inside ``Verifier._process_header`` (reproducible on the seed corpus, and
not without instrumentation); it runs uninstrumented, everything it calls is
instrumented."""


def main() -> None:
    name, work = sys.argv[1], Path(sys.argv[2])
    flags = sys.argv[3:]
    corpus, crashes = work / "corpus", work / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    with atheris.instrument_imports(include=["wssec", "rest", "compare"], exclude=UNINSTRUMENTED):
        target = BUILDERS[name]()
    for seed in target.seeds:
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        try:  # warm up (lazy imports, compiled schemas) outside libFuzzer's per-input timeout
            target.run(seed)
        except Exception:  # noqa: BLE001 - seeds may be hostile; the fuzz loop judges them
            pass

    stats = {"target": name, "executions": 0, "documented_errors": 0, "accepted": 0, "crashes": {}}
    slowest = [0.0, b""]
    started = time.time()
    last_dump = [started]

    def dump() -> None:
        stats["seconds"] = round(time.time() - started, 1)
        stats["slowest_ms"] = round(slowest[0] * 1000, 1)
        (work / "stats.json").write_text(json.dumps(stats, indent=1))
        (work / "slowest.bin").write_bytes(slowest[1])

    def one(data: bytes) -> None:
        stats["executions"] += 1
        t0 = time.perf_counter()
        try:
            target.run(data)
            stats["accepted"] += 1
        except target.errors:
            stats["documented_errors"] += 1
        except Exception as exc:  # noqa: BLE001 - this is what we hunt
            tb = traceback.extract_tb(exc.__traceback__)
            ours = [
                f
                for f in tb
                if "/wssec/" in f.filename or "/rest/" in f.filename or "/compare/" in f.filename
            ]
            where = ours[-1] if ours else tb[-1]
            key = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            if key not in stats["crashes"]:
                stats["crashes"][key] = {"message": str(exc)[:300], "count": 0}
                digest = hashlib.sha1(key.encode()).hexdigest()[:12]
                (crashes / f"crash-{digest}.bin").write_bytes(data)
                (crashes / f"crash-{digest}.txt").write_text(
                    key + "\n" + "".join(traceback.format_exception(exc))
                )
            stats["crashes"][key]["count"] += 1
        dt = time.perf_counter() - t0
        if dt > slowest[0]:
            slowest[0], slowest[1] = dt, data
        if time.time() - last_dump[0] > 10:
            last_dump[0] = time.time()
            dump()

    atheris.Setup([sys.argv[0], *flags, str(corpus)], one)
    import atexit

    atexit.register(dump)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
