"""Scan time of one TLS endpoint: apisec against ``python -m sslyze``.

    python bench/bench_tls.py [--runs 3] [--json]

Starts the test suite's "good" and "legacy" ``openssl s_server`` endpoints on
127.0.0.1 and, for each, times (wall clock, median of ``--runs``):

* ``apisec rest tls HOST:PORT`` — the CLI, as users run it: the scan with the
  15 sslyze commands the checks need, then the judging under
  mozilla-intermediate;
* ``python -m sslyze HOST:PORT`` — sslyze's own CLI with its defaults (every
  scan command), the issue's yardstick;
* ``python -m sslyze --mozilla_config=intermediate HOST:PORT`` — sslyze's
  CLI doing the same job apisec does (scan + Mozilla verdict);
* in-process: ``rest.tls.check_many`` against ``sslyze.Scanner`` with all
  commands, which leaves out interpreter start-up and imports;
* start-up alone: ``apisec --version`` (which mounts no command group)
  against ``python -c "import sslyze.__main__"``, to tell scan time from
  import time in the CLI ratios.

The ratio printed is apisec / sslyze (< 1: apisec faster).  The issue's
target: one endpoint's scan is no slower than ``python -m sslyze`` on it.
s_server answers one connection at a time, so both tools are throttled the
same way; absolute times against a real multi-threaded server are lower.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apisec_samples.pki import make_pki  # noqa: E402
from tests.rest.tls_servers import tls_servers  # noqa: E402


def _time_cmd(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, timeout=300)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _time_call(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args()

    from sslyze import Scanner, ServerNetworkLocation, ServerScanRequest

    from rest import tls

    apisec_exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    startup = {
        "apisec_version_s": _time_cmd([apisec_exe, "--version"], args.runs),
        "python_import_sslyze_s": _time_cmd([sys.executable, "-c", "import sslyze.__main__"], args.runs),
    }
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp) / "pki")
        with tls_servers(pki, Path(tmp) / "servers") as servers:
            for name in ("good", "legacy"):
                target = servers[name].target
                port = servers[name].port
                row = {"server": name, "target": target}
                row["apisec_cli_s"] = _time_cmd(
                    [apisec_exe, "rest", "tls", target, "--ca-file", str(pki.ca.cert_path)], args.runs
                )
                row["sslyze_cli_s"] = _time_cmd([sys.executable, "-m", "sslyze", target], args.runs)
                row["sslyze_cli_mozilla_s"] = _time_cmd(
                    [sys.executable, "-m", "sslyze", "--mozilla_config=intermediate", target], args.runs
                )

                def apisec_lib(port: int = port) -> None:
                    tls.check_many(
                        [tls.Endpoint(tls.ScanTarget("127.0.0.1", port))], ca_file=pki.ca.cert_path
                    )

                def sslyze_lib(port: int = port) -> None:
                    scanner = Scanner()
                    scanner.queue_scans(
                        [ServerScanRequest(server_location=ServerNetworkLocation("127.0.0.1", port))]
                    )
                    for _ in scanner.get_results():
                        pass

                row["apisec_lib_s"] = _time_call(apisec_lib, args.runs)
                row["sslyze_lib_s"] = _time_call(sslyze_lib, args.runs)
                row["ratio_cli"] = row["apisec_cli_s"] / row["sslyze_cli_s"]
                row["ratio_cli_mozilla"] = row["apisec_cli_s"] / row["sslyze_cli_mozilla_s"]
                row["ratio_lib"] = row["apisec_lib_s"] / row["sslyze_lib_s"]
                results.append(row)

    if args.json:
        print(json.dumps({"startup": startup, "scans": results}, indent=2))
        return
    print(f"TLS scan of one endpoint, median of {args.runs} runs (ratio = apisec / sslyze, < 1 is faster)")
    print(
        f"start-up alone: apisec --version {startup['apisec_version_s']:.2f} s, "
        f"python -c 'import sslyze.__main__' {startup['python_import_sslyze_s']:.2f} s"
    )
    for r in results:
        print(f"\n{r['server']} ({r['target']})")
        print(f"  apisec rest tls                      {r['apisec_cli_s']:6.2f} s")
        print(
            f"  python -m sslyze                     {r['sslyze_cli_s']:6.2f} s   ratio {r['ratio_cli']:.2f}"
        )
        print(
            f"  python -m sslyze --mozilla_config    {r['sslyze_cli_mozilla_s']:6.2f} s   "
            f"ratio {r['ratio_cli_mozilla']:.2f}"
        )
        print(
            f"  in-process check_many vs Scanner     {r['apisec_lib_s']:6.2f} s vs {r['sslyze_lib_s']:.2f} s"
            f"   ratio {r['ratio_lib']:.2f}"
        )


if __name__ == "__main__":
    main()
