"""Load generation shared by the load tests and the middleware bench: start
gunicorn on a pre-bound 127.0.0.1 socket (port 0: no fixed port), sign
distinct requests, send them from concurrent clients with replayed copies
mixed in, and count what came back."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
REQUEST = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:q="urn:apisec:samples:quote"><soap:Header/><soap:Body>'
    "<q:GetQuote><q:Symbol>{}</q:Symbol></q:GetQuote></soap:Body></soap:Envelope>"
)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """Serve tests/reliability/load_app.py; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    cmd = [
        sys.executable, "-m", "gunicorn", "--bind", f"fd://{sock.fileno()}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--backlog", "512", "--timeout", "60", "--log-level", "warning",
        "--chdir", str(ROOT), "tests.reliability.load_app:app",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        pass_fds=(sock.fileno(),),
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sock.close()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        seen: set[str] = set()
        while len(seen) < workers:  # every worker booted (its app built)
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn workers did not start")
            try:
                seen.add(requests.get(url, timeout=30).headers.get("X-Worker", ""))
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def signed_requests(pki, n: int, *, encrypt_every: int = 0, tag: str = "") -> list[bytes]:
    """``n`` distinct signed requests (each Body differs, so each signature does);
    every ``encrypt_every``-th one is also encrypted for the service."""
    from wssec import Encryptor, Signer
    from wssec.secure import secure

    signer = Signer(pki.client.key, pki.client.cert)  # keys loaded once, not per message
    enc = Encryptor(pki.service.cert)
    out = []
    for i in range(n):
        e = enc if encrypt_every and i % encrypt_every == 0 else None
        out.append(secure(REQUEST.format(f"S{tag}{i}").encode(), signer=signer, encryptor=e))
    return out


@dataclass
class Outcome:
    fresh_accepted: int = 0
    fresh_refused: int = 0
    replays_refused: int = 0
    replays_accepted: int = 0
    replays_on_other_worker: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.fresh_accepted + self.fresh_refused + self.replays_refused + self.replays_accepted


def run_load(
    url: str, messages: list[bytes], *, replay_ratio: float = 0.1, clients: int = 8, seed: int = 1
) -> Outcome:
    """Send every message once, plus replays of already-answered ones mixed
    into the following batches; classify each answer."""
    rng = random.Random(seed)
    out = Outcome()
    worker_of: dict[int, str] = {}
    local = __import__("threading").local()

    def post(job: tuple[str, int]) -> tuple[str, int, int, str, float]:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        kind, i = job
        t0 = time.perf_counter()
        try:
            r = s.post(url, data=messages[i], headers={"Content-Type": "text/xml"}, timeout=120)
        except requests.RequestException as exc:
            return kind, i, -1, type(exc).__name__, time.perf_counter() - t0
        dt = time.perf_counter() - t0
        fault = r.status_code == 500 and b"Fault" in r.content
        if r.status_code != 200 and not fault:
            return kind, i, -2, f"HTTP {r.status_code}", dt
        return kind, i, r.status_code, r.headers.get("X-Worker", ""), dt

    batch = max(clients * 8, 64)
    started = time.perf_counter()
    answered: list[int] = []
    with ThreadPoolExecutor(clients) as pool:
        for start in range(0, len(messages), batch):
            jobs = [("fresh", i) for i in range(start, min(start + batch, len(messages)))]
            if answered:
                jobs += [("replay", rng.choice(answered)) for _ in range(int(len(jobs) * replay_ratio))]
            rng.shuffle(jobs)
            for kind, i, status, info, dt in pool.map(post, jobs):
                out.latencies.append(dt)
                if status < 0:
                    out.errors.append(f"{kind} {i}: {info}")
                elif kind == "fresh":
                    if status == 200:
                        out.fresh_accepted += 1
                        worker_of[i] = info
                        answered.append(i)
                    else:
                        out.fresh_refused += 1
                else:
                    if status == 200:
                        out.replays_accepted += 1
                    else:
                        out.replays_refused += 1
                    if info != worker_of.get(i):
                        out.replays_on_other_worker += 1
    out.seconds = time.perf_counter() - started
    return out
