"""Run the atheris harnesses for N minutes each and print their figures.

    python bench/fuzz/run.py --minutes 20 all          # every target, two at a time
    python bench/fuzz/run.py --minutes 5 saml jwt      # some targets
    python bench/fuzz/run.py --list

Each target runs ``nice -n 19`` in its own process (at most ``--jobs`` at a
time: the machine is shared) with libFuzzer's ``-max_total_time``, a 60 s
per-input timeout (wall clock, generous for a loaded machine at nice 19) and a 1.5 GB RSS limit.  Work goes to ``--workdir/TARGET``
(corpus kept between runs, crashes, log, stats.json).  The table printed at
the end (executions, coverage, crashes) is what docs/reliability.md quotes.
Install the fuzzer with ``pip install -e '.[fuzz]'``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.reliability.fuzz_targets import BUILDERS  # noqa: E402


def _coverage(log: str) -> tuple[int, int]:
    """Last libFuzzer ``cov:``/``ft:`` figures in the log (edges and features reached)."""
    found = re.findall(r"cov: (\d+) ft: (\d+)", log)
    return (int(found[-1][0]), int(found[-1][1])) if found else (0, 0)


def summarize(name: str, work: Path, seconds: int | None = None, exit_code: int | None = None) -> dict:
    """The figures of one target's finished (or interrupted) run, from its workdir."""
    text = (work / "fuzz.log").read_text(errors="replace") if (work / "fuzz.log").exists() else ""
    stats = json.loads((work / "stats.json").read_text()) if (work / "stats.json").exists() else {}
    cov, ft = _coverage(text)
    units = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    rss = re.findall(r"stat::peak_rss_mb: +(\d+)", text)
    done = re.findall(r"Done (\d+) runs in (\d+) second", text)
    crash_keys = sorted(p.read_text().splitlines()[0] for p in (work / "crashes").glob("crash-*.txt"))
    return {
        "target": name,
        "seconds": seconds
        if seconds is not None
        else (int(done[-1][1]) if done else stats.get("seconds", 0)),
        "executions": int(units[-1]) if units else stats.get("executions", 0),
        "peak_rss_mb": int(rss[-1]) if rss else None,
        "coverage_edges": cov,
        "features": ft,
        "corpus": len(list((work / "corpus").iterdir())) if (work / "corpus").exists() else 0,
        "crashes": crash_keys,
        "slowest_ms": stats.get("slowest_ms"),
        "libfuzzer_exit": exit_code,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*", help="target names or 'all'")
    ap.add_argument("--minutes", type=float, default=20.0, help="fuzzing time per target")
    ap.add_argument("--jobs", type=int, default=2, help="targets fuzzed at the same time")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/apisec-fuzz"))
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--report", action="store_true", help="only summarise the runs already in --workdir")
    args = ap.parse_args()
    if args.list or not args.targets:
        print("\n".join(BUILDERS))
        return 0
    names = list(BUILDERS) if args.targets == ["all"] else args.targets
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        print(f"run.py: error: unknown target(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    seconds = max(1, int(args.minutes * 60))
    queue, running, results = list(names), {}, []
    if args.report:
        queue = []
        results = [summarize(n, args.workdir / n) for n in names if (args.workdir / n).exists()]
    while queue or running:
        while queue and len(running) < args.jobs:
            name = queue.pop(0)
            work = args.workdir / name
            work.mkdir(parents=True, exist_ok=True)
            log = (work / "fuzz.log").open("w")
            cmd = [
                "nice", "-n", "19", sys.executable, str(HERE / "harness.py"), name, str(work),
                f"-max_total_time={seconds}", "-timeout=60", "-rss_limit_mb=1536", "-max_len=65536",
                "-print_final_stats=1", f"-artifact_prefix={work}/",
            ]  # fmt: skip
            running[name] = (
                subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT),
                work,
                log,
                time.time(),
            )
            print(f"started {name} for {seconds}s", flush=True)
        time.sleep(2)
        for name, (proc, work, log, t0) in list(running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del running[name]
            row = summarize(name, work, round(time.time() - t0), proc.returncode)
            results.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(
            "\n| target | minutes | executions | exec/s | coverage (edges/features) | corpus | crashes | slowest input | peak RSS |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in results:
            rate = r["executions"] / max(r["seconds"], 1)
            print(
                f"| {r['target']} | {r['seconds'] / 60:.1f} | {r['executions']:,} | {rate:.0f} | "
                f"{r['coverage_edges']}/{r['features']} | {r['corpus']} | {len(r['crashes'])} | {r['slowest_ms']} ms | {r['peak_rss_mb']} MB |"
            )
    return 1 if any(r["crashes"] or r["libfuzzer_exit"] not in (0, None) for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
