"""Work done once per endpoint per run: one TLS scan per host:port:SNI shared
by every target on it, one OpenAPI load+validation per contract file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from compare.config import RestTarget, Targets
from compare.engine import CHECK_ERROR, Job, plan, run_jobs
from compare.findings import Dimension, Side, Status, finding
from rest.openapi.loader import load_spec

CALLS: list[str] = []
_lock = threading.Lock()


def count_scan(locus: str, fail_first: bool = False):
    """A stand-in scan that counts its calls (the engine's input, not under test)."""
    with _lock:
        CALLS.append(locus)
        first = len(CALLS) == 1
    if fail_first and first:
        raise ConnectionError("handshake reset")
    return [finding("tls.legacy-protocol", Status.PASS, locus, "only TLS 1.2+ offered")]


def _job(target: str, side: Side, key: str | None, fail_first: bool = False) -> Job:
    return Job(
        "rest.tls", target, side, Dimension.PROTOCOLS, f"{__name__}:count_scan",
        lambda fn: fn("h.example:443", fail_first), "h.example:443",
        exclusive="tls:h.example:443", host="h.example:443", shared=key,
    )  # fmt: skip


def test_a_shared_scan_runs_once_per_run_and_each_job_keeps_its_side() -> None:
    CALLS.clear()
    jobs = [_job("a", Side.REST, "k"), _job("b", Side.SOAP, "k"), _job("c", Side.REST, "other")]
    out = run_jobs(jobs, concurrency=3)
    assert len(CALLS) == 2  # "k" once, "other" once
    assert [f[0][0].side for f in out] == [Side.REST, Side.SOAP, Side.REST]
    assert all(run.outcome == "ok" and f[0].status is Status.PASS for f, run in out)
    CALLS.clear()
    run_jobs(jobs[:2], concurrency=2)  # a new run scans again: nothing outlives the run
    assert len(CALLS) == 1
    CALLS.clear()
    run_jobs([_job("a", Side.REST, None), _job("b", Side.REST, None)], concurrency=2)
    assert len(CALLS) == 2  # unshared jobs each run


def test_a_failed_scan_is_not_shared() -> None:
    CALLS.clear()
    out = run_jobs(
        [_job("a", Side.REST, "k", fail_first=True), _job("b", Side.REST, "k", True)], concurrency=1
    )
    assert len(CALLS) == 2  # the second target tried for itself
    assert out[0][0][0].check_id == CHECK_ERROR and out[0][1].outcome == "error"
    assert out[1][0][0].status is Status.PASS


def test_targets_on_one_endpoint_plan_one_shared_tls_key() -> None:
    def rest(name: str, url: str) -> RestTarget:
        return RestTarget(name, base_url=url)

    jobs, _ = plan(Targets(rest=(
        rest("a", "https://api.example:8443/v1"), rest("b", "https://api.example:8443/v2"),
        rest("c", "https://api.example:9443/v1"), rest("d", "https://other.example:8443/v1"),
    )))  # fmt: skip
    keys = {j.target: j.shared for j in jobs if j.func == "rest.tls:check"}
    assert keys["a"] == keys["b"] and len({keys["a"], keys["c"], keys["d"]}) == 3


SPEC = """openapi: 3.0.3
info: {title: %s, version: "1"}
paths:
  /items:
    get:
      responses:
        "200": {description: ok}
"""


def test_openapi_file_is_loaded_once_until_it_changes(tmp_path: Path) -> None:
    p = tmp_path / "api.yaml"
    p.write_text(SPEC % "first", encoding="utf-8")
    a = load_spec(p)
    again = load_spec(str(p))  # same file, same document (each caller its own copy): no second validation
    assert again == a and again is not a and again.data is not a.data
    p.write_text(SPEC % "second-title", encoding="utf-8")  # new size and mtime
    os.utime(p, ns=(a_ns := p.stat().st_mtime_ns + 10**9, a_ns))
    b = load_spec(p)
    assert b is not a and b.data["info"]["title"] == "second-title"
    p.write_text("openapi: 3.0.3\ninfo: {}\n", encoding="utf-8")  # invalid: refused every time
    import pytest

    from rest.errors import BadInput

    for _ in range(2):
        with pytest.raises(BadInput):
            load_spec(p)


def test_concurrent_loads_of_one_file_parse_it_once(tmp_path: Path, monkeypatch) -> None:
    import rest.openapi.loader as loader

    p = tmp_path / "shared.yaml"
    p.write_text(SPEC % "shared", encoding="utf-8")
    loads: list[int] = []
    real = loader._load_spec

    def counting(spec):
        loads.append(1)
        return real(spec)

    monkeypatch.setattr(loader, "_load_spec", counting)
    docs: list[object] = []
    threads = [threading.Thread(target=lambda: docs.append(load_spec(p))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(docs) == 8 and all(d == docs[0] for d in docs) and loads == [1]


BARRIER: list[threading.Barrier] = []


def meet(*_a, **_k):
    """Returns only when the barrier's other parties run at the same time."""
    BARRIER[0].wait(timeout=20)
    return []


def _on(host: str, func: str, name: str = "t") -> Job:
    return Job(
        name, "t", Side.REST, Dimension.PROTOCOLS, f"{__name__}:{func}", lambda fn: fn(), host, host=host
    )


def test_per_host_caps_jobs_on_one_host_not_on_others() -> None:
    from tests.compare import _helper_checks as helpers

    # without a cap three jobs of one host do run together (the barrier needs all three)...
    BARRIER[:] = [threading.Barrier(3)]
    out = run_jobs([_on("a:443", "meet") for _ in range(3)], concurrency=3)
    assert all(run.outcome == "ok" for _, run in out), out
    # ...with per_host=2 never more than two at once on that host
    helpers.ACTIVE.update(now=0, max=0)
    jobs = [Job("t", "t", Side.REST, Dimension.PROTOCOLS, "tests.compare._helper_checks:count_overlap",
                lambda fn: fn(), "a:443", host="a:443") for _ in range(6)]  # fmt: skip
    out = run_jobs(jobs, concurrency=4, per_host=2)
    assert all(run.outcome == "ok" for _, run in out) and helpers.ACTIVE["max"] <= 2, helpers.ACTIVE
    # per_host=1 still lets two different hosts run at the same time
    BARRIER[:] = [threading.Barrier(2)]
    out = run_jobs([_on("a:443", "meet"), _on("b:443", "meet")], concurrency=2, per_host=1)
    assert all(run.outcome == "ok" for _, run in out), out


def test_per_host_setting_is_read_and_checked(tmp_path: Path) -> None:
    import pytest

    from compare.config import ConfigError, load_targets

    p = tmp_path / "apisec.toml"
    p.write_text('[settings]\nper_host = 2\n\n[[rest]]\nname = "a"\nbase_url = "https://a.example"\n')
    assert load_targets(p).settings.per_host == 2
    p.write_text('[settings]\nper_host = -1\n\n[[rest]]\nname = "a"\nbase_url = "https://a.example"\n')
    with pytest.raises(ConfigError, match="per_host"):
        load_targets(p)
