"""Inventories at scale (issue 18).

    nice -n 19 python bench/bench_scale.py [--targets 20]
    nice -n 19 python bench/bench_scale.py --done-when all [--targets 1000] [--servers 20] [--soap-targets 200]

Without ``--done-when`` (work done once per endpoint per run, N REST targets
on one HTTPS sample server):
Every target is the legacy sample service (no rate limiter, so no 429
back-off blurs the numbers) with the same OpenAPI file, token and TLS
endpoint, as real inventories list many APIs per host.  "before" replays the
old behaviour in the same process: no TLS-scan sharing (every job's
``shared`` key dropped) and no OpenAPI cache (every load parses and
validates again).  Printed: wall time, per-target time, TLS scans and
OpenAPI loads, and the ratio.  Wall-clock numbers on a shared machine are
noisy: compare the ratio, and run it alone for stable absolutes.

With ``--done-when`` (the issue's "done when" list, through the real
``apisec compare run`` console script, as users run it): a *fleet* process
serves M sample services on 127.0.0.1 .. 127.0.0.M (distinct hosts, so
shards and per-host budgets see M hosts; one certificate names them all)
and counts the answers it gives; the inventory is a CSV list read through
``[[inventory]]`` (profile ``bench``: ``rate_limit_probe = 0`` unless
``--rate-limit-probe N``, the deliberate flood is not part of the scan
being timed).  Printed per scenario: wall time, per-target time, peak RSS
of the apisec process (``wait4``), error findings.

* ``rest``: N REST targets over M legacy HTTPS sample servers.
* ``ratelimited``: the same over M *secure* sample servers (30 requests /
  5 s per client): error findings, 429 answers, and the floor the limits
  impose: max over servers of (answers admitted - 30) / 6 per second.
* ``shards``: the ``rest`` inventory as 4 shards in 4 parallel processes,
  joined by ``apisec compare merge``; the merged findings are compared with
  the single run's (target, job, check, status, fingerprint).
* ``soap``: S SOAP targets (signed sample request) over M secure sample
  SOAP services.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path
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


# ---------------------------------------------------------------- --done-when


def _fleet(kind: str, config: str, servers: int, folder: str) -> None:
    """Serve ``servers`` sample services on 127.0.0.1..127.0.0.M until stdin
    closes; write fleet.json at start and counts.json (answers per server)
    at the end.  Runs in its own process so the services do not share the
    measured process's interpreter."""
    import collections
    import datetime as dt
    import ipaddress
    import json
    import sys
    from dataclasses import replace as dc_replace
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from apisec_samples.pki import Identity, make_pki

    out = Path(folder)
    pki = make_pki(out / "pki")
    hosts = [f"127.0.0.{k + 1}" for k in range(servers)]
    # one service certificate naming every fleet address (the sample one names 127.0.0.1 only)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "fleet")]))
        .issuer_name(pki.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(h)) for h in hosts]),
            critical=False,
        )
        .sign(pki.ca.key, hashes.SHA256())
    )
    key_path, cert_path = out / "pki" / "fleet.key", out / "pki" / "fleet.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + pki.ca.cert_path.read_bytes())
    fleet_pki = dc_replace(
        pki, service=Identity("fleet", key, cert, key_path, cert_path, pki.service.p12_path)
    )
    counts: list[collections.Counter[str]] = [collections.Counter() for _ in hosts]
    tokens: dict[int, bytes] = {}
    handles: list[Any] = []
    entries: list[dict[str, Any]] = []
    (out / "tokens").mkdir()
    (out / "wsdl").mkdir()
    try:
        for k, host in enumerate(hosts):
            if kind == "rest":
                from apisec_samples.rest_service import build_app, serve
                from apisec_samples.rest_service.config import get_config

                def app(verifier: Any, k: int = k) -> Any:
                    inner = build_app(get_config(config), verifier)

                    async def counting(scope: Any, receive: Any, send: Any) -> None:
                        # which of the guard's budgets an answer was charged to: the token's
                        # subject ("sub"), the client address ("ip"), or none (public paths)
                        authz = dict(scope.get("headers") or ()).get(b"authorization", b"")

                        async def send_counted(message: Any) -> None:
                            if message.get("type") == "http.response.start":
                                charged = any(
                                    n.lower() == b"ratelimit" for n, _ in message.get("headers") or ()
                                )
                                budget = "free" if not charged else "sub" if authz == tokens.get(k) else "ip"
                                counts[k][f"{message['status']}|{budget}"] += 1
                            await send(message)

                        await inner(scope, receive, send_counted)

                    return counting

                h = serve(config, host=host, tls=True, pki=fleet_pki, app=app)
                token = out / "tokens" / f"s{k}"
                token.write_text(h.mint("alice"))
                tokens[k] = b"Bearer " + token.read_bytes()
                token.chmod(0o600)
                entries.append({"url": h.url, "token": str(token)})
            else:
                from apisec_samples import soap_service

                h = soap_service.serve(config, host=host, pki=fleet_pki)
                wsdl = out / "wsdl" / f"s{k}.wsdl"
                wsdl.write_bytes(soap_service.render_wsdl(config, h.url, fleet_pki.service.cert))
                entries.append({"url": h.url, "wsdl": str(wsdl)})
            handles.append(h)
        (out / "fleet.json").write_text(
            json.dumps(
                {
                    "servers": entries,
                    "ca": str(pki.ca.cert_path),
                    "client_key": str(pki.client.key_path),
                    "client_cert": str(pki.client.cert_path),
                }
            )  # fmt: skip
        )
        sys.stdin.read()  # until the bench closes our stdin
    finally:
        (out / "counts.json").write_text(json.dumps([dict(c) for c in counts]))
        for h in handles:
            h.stop()


class _Fleet:
    def __init__(self, kind: str, config: str, servers: int, folder: Path) -> None:
        import subprocess
        import sys

        self.folder = folder / f"fleet-{kind}-{config}"
        self.folder.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--fleet", kind, config, str(servers), str(self.folder)],
            stdin=subprocess.PIPE,
        )
        deadline = time.monotonic() + 300
        while not (self.folder / "fleet.json").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: the {kind} fleet did not start")
            time.sleep(0.2)
        import json

        self.info = json.loads((self.folder / "fleet.json").read_text())

    def cpu(self) -> float:
        """CPU seconds the fleet's services have used so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> list[dict[str, int]]:
        """Answers per server, keyed ``"STATUS|BUDGET"``."""
        import json

        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=120)
        return json.loads((self.folder / "counts.json").read_text())


def _inventory(
    folder: Path, fleet: _Fleet, kind: str, n: int, *, concurrency: int, rate_limit_probe: int
) -> Path:
    """A targets file whose [[inventory]] is a CSV list of ``n`` targets spread over the fleet."""
    import csv

    from apisec_samples.rest_service import OPENAPI

    servers, ca = fleet.info["servers"], fleet.info["ca"]
    rows = []
    for i in range(n):
        s = servers[i % len(servers)]
        if kind == "rest":
            rows.append({"url": s["url"] + "/api/orders", "kind": "rest", "contract": str(OPENAPI),
                         "credentials": f"file:{s['token']}", "name": f"api-{i:04d}", "ca_file": ca})  # fmt: skip
        else:
            rows.append({"url": s["url"], "kind": "soap", "contract": s["wsdl"], "credentials": "",
                         "name": f"soap-{i:04d}", "ca_file": ca})  # fmt: skip
    listing = folder / f"{kind}-{n}.csv"
    with listing.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["url", "kind", "contract", "credentials", "name", "ca_file"])
        w.writeheader()
        w.writerows(rows)
    from apisec_samples import soap_service

    request = folder / "request.xml"
    request.write_bytes(soap_service.request_xml())
    toml = folder / f"{kind}-{n}.toml"
    soap = (
        f'soap = {{ sample_request = "{request}", signing_key = "{fleet.info["client_key"]}", '
        f'signing_cert = "{fleet.info["client_cert"]}", trust = "{ca}" }}\n'
        if kind == "soap"
        else ""
    )
    toml.write_text(
        f"[settings]\nconcurrency = {concurrency}\ntimeout = 600\n\n"
        f"[profiles.bench]\nrate_limit_probe = {rate_limit_probe}\n\n"
        f'[[inventory]]\npath = "{listing}"\nprofile = "bench"\n{soap}'
    )
    return toml


def _apisec(*args: str) -> list[str]:
    import shutil
    import sys

    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    return [exe, *args]


def _run_cli(args: list[str], timeout: float) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS MB, exit code, CPU seconds) of one apisec process."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        print(f"  apisec exited {proc.returncode}: {err.strip()[-500:]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def _findings(assessment: Path) -> list[dict[str, Any]]:
    import json

    return json.loads(assessment.read_text())["findings"]


def _errors(findings: list[dict[str, Any]]) -> str:
    import collections

    errs = collections.Counter(
        f["check_id"] + "@" + f.get("job", "") for f in findings if f["status"] == "error"
    )
    total = sum(errs.values())
    return f"{total}" + (f"  ({', '.join(f'{k} x{v}' for k, v in errs.most_common(4))})" if total else "")


def _line(label: str, n: int, wall: float, rss: float, findings: list[dict[str, Any]]) -> None:
    print(f"{label:12} {n:5d} targets  wall {wall:7.1f} s  {wall / n:6.3f} s/target  peak RSS {rss:6.0f} MB  "
          f"findings {len(findings):6d}  error findings {_errors(findings)}")  # fmt: skip


def _cpu_line(apisec: float, servers: float, wall: float) -> None:
    print(f"  CPU: apisec {apisec:.1f} s, the sample servers {servers:.1f} s "
          f"(of {wall * (os.cpu_count() or 1):.0f} core-seconds in the wall time)")  # fmt: skip


def _scan(toml: Path, out: Path, *extra: str, timeout: float) -> tuple[float, float, int, float]:
    # BENCH_PYSPY=FILE: record the run with py-spy (threads included; cProfile sees only the main thread)
    spy = os.environ.get("BENCH_PYSPY")
    prefix = ["py-spy", "record", "-r", "50", "--gil", "-f", "raw", "-o", spy, "--"] if spy else []
    return _run_cli(
        prefix
        + _apisec(
            "compare",
            "run",
            "-c",
            str(toml),
            "-o",
            str(out),
            "-f",
            "json",
            "--no-progress",
            "--fail-on",
            "never",
            *extra,
        ),  # fmt: skip
        timeout,
    )


def done_when(args: argparse.Namespace) -> None:
    import subprocess
    import tempfile

    scenarios = (
        args.done_when.split(",") if args.done_when != "all" else ["rest", "ratelimited", "shards", "soap"]
    )
    print(f"bench_scale --done-when: {args.targets} REST targets over {args.servers} servers, "
          f"{args.soap_targets} SOAP targets, concurrency {args.concurrency}, "
          f"rate_limit_probe {args.rate_limit_probe}, os.cpu_count() {os.cpu_count()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="apisec-bench-scale-") as tmp:
        folder = Path(tmp)
        single: list[dict[str, Any]] | None = None
        if {"rest", "shards"} & set(scenarios):
            fleet = _Fleet("rest", "legacy", args.servers, folder)
            try:
                toml = _inventory(folder, fleet, "rest", args.targets, concurrency=args.concurrency,
                                  rate_limit_probe=args.rate_limit_probe)  # fmt: skip
                out = folder / "single"
                cpu0 = fleet.cpu()
                wall, rss, _, cpu = _scan(toml, out, timeout=args.timeout)
                single = _findings(out / "assessment.json")
                _line("rest", args.targets, wall, rss, single)
                _cpu_line(cpu, fleet.cpu() - cpu0, wall)
                if "shards" in scenarios:
                    t0 = time.perf_counter()
                    procs = []
                    for k in range(1, 5):
                        cmd = _apisec("compare", "run", "-c", str(toml), "--shard", f"{k}/4", "-o",
                                      str(folder / f"part{k}"), "-f", "json", "--no-progress", "--fail-on", "never")  # fmt: skip
                        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
                    peaks = []
                    for p in procs:
                        _, status, usage = os.wait4(p.pid, 0)
                        p.returncode = os.waitstatus_to_exitcode(status)
                        peaks.append(usage.ru_maxrss / 1024)
                        if p.returncode not in (0, 1):
                            print(
                                f"  shard exited {p.returncode}: {p.stderr.read().decode()[-300:] if p.stderr else ''}"
                            )
                    shards_wall = time.perf_counter() - t0
                    merged = folder / "merged"
                    subprocess.run(
                        _apisec(
                            "compare",
                            "merge",
                            *(str(folder / f"part{k}" / "assessment.json") for k in range(1, 5)),
                            "-o",
                            str(merged),
                            "-f",
                            "json",
                            "--fail-on",
                            "never",
                        ),  # fmt: skip
                        stdout=subprocess.DEVNULL,
                        check=False,
                    )
                    m = _findings(merged / "assessment.json")
                    _line("4 shards", args.targets, shards_wall, max(peaks), m)

                    def key(f: dict[str, Any]) -> tuple[str, ...]:
                        return (
                            f.get("target_name", ""),
                            f.get("job", ""),
                            f["check_id"],
                            f["status"],
                            f.get("fingerprint", ""),
                        )

                    a, b = sorted(map(key, single)), sorted(map(key, m))
                    only_a, only_b = set(a) - set(b), set(b) - set(a)
                    sizes = [len(_findings(folder / f"part{k}" / "assessment.json")) for k in range(1, 5)]
                    print(f"  shard sizes (findings) {sizes}; merged == single run: {a == b}"
                          + ("" if a == b else f"  (only single: {len(only_a)}, only merged: {len(only_b)}; "
                             f"e.g. {sorted(only_a)[:2]} / {sorted(only_b)[:2]})"))  # fmt: skip
            finally:
                fleet.stop()
        if "ratelimited" in scenarios:
            fleet = _Fleet("rest", "secure", args.servers, folder)
            try:
                toml = _inventory(folder, fleet, "rest", args.targets, concurrency=args.concurrency,
                                  rate_limit_probe=args.rate_limit_probe)  # fmt: skip
                out = folder / "ratelimited"
                cpu0 = fleet.cpu()
                wall, rss, _, cpu = _scan(toml, out, timeout=args.timeout)
                served = fleet.cpu() - cpu0
            finally:
                counts = fleet.stop()
            found = _findings(out / "assessment.json")
            _line("ratelimited", args.targets, wall, rss, found)
            _cpu_line(cpu, served, wall)

            # the guard keeps two budgets per server (the token's subject, the client address), each
            # 30 per 5 s with a burst of 30: n admitted answers on one budget take >= (n - 30) / 6 s
            def admitted(c: dict[str, int], budget: str) -> int:
                return sum(
                    v for key, v in c.items() if key.endswith("|" + budget) and not key.startswith("429|")
                )

            per_server = [max(admitted(c, "sub"), admitted(c, "ip")) for c in counts]
            throttled = sum(v for c in counts for key, v in c.items() if key.startswith("429|"))
            floor = max(max(0, a - 30) / 6.0 for a in per_server)
            print(f"  admitted on a server's busiest budget {min(per_server)}..{max(per_server)}, HTTP 429 answers "
                  f"{throttled}; floor set by the servers' limits (30 per 5 s per budget): {floor:.1f} s; "
                  f"wall / floor {wall / max(floor, 1e-9):.2f}")  # fmt: skip
        if "soap" in scenarios:
            fleet = _Fleet("soap", "secure", args.servers, folder)
            try:
                toml = _inventory(folder, fleet, "soap", args.soap_targets, concurrency=args.concurrency,
                                  rate_limit_probe=args.rate_limit_probe)  # fmt: skip
                out = folder / "soap"
                cpu0 = fleet.cpu()
                wall, rss, _, cpu = _scan(toml, out, timeout=args.timeout)
                served = fleet.cpu() - cpu0
            finally:
                fleet.stop()
            _line("soap", args.soap_targets, wall, rss, _findings(out / "assessment.json"))
            _cpu_line(cpu, served, wall)


def main() -> None:
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--fleet":
        _fleet(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--targets", type=int, default=None, help="REST targets (default 20, with --done-when 1000)"
    )
    parser.add_argument("--done-when", default=None, help="rest,ratelimited,shards,soap or all")
    parser.add_argument(
        "--servers", type=int, default=20, help="sample servers in a --done-when fleet (<= 250)"
    )
    parser.add_argument("--soap-targets", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate-limit-probe", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=7200, help="seconds one apisec run may take")
    args = parser.parse_args()
    if args.done_when:
        args.targets = args.targets or 1000
        done_when(args)
        return
    args.targets = args.targets or 20
    results = {}
    for label, before in (("before", True), ("after", False)):
        wall, tls, spec, errors = run(args.targets, before=before)
        results[label] = wall
        print(f"{label:6} {args.targets} targets: {wall:6.1f} s  {wall / args.targets:5.2f} s/target  "
              f"TLS scans {tls:3d}  OpenAPI loads {spec:3d}  error findings {errors}")  # fmt: skip
    print(f"after/before wall time: {results['after'] / results['before']:.2f}")


if __name__ == "__main__":
    main()
