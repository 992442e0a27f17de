"""The engine and the per-host budget: a paused host does not hold the
pool, waiting for a host is not charged to a check's timeout, and targets
on rate-limited copies of the secure sample end with no error finding."""

from __future__ import annotations

import threading

import pytest

from apisec_samples.rest_service import SECURE, serve
from compare.config import Profile, RestTarget, Settings, Targets
from compare.engine import Job, assess, run_jobs
from compare.findings import Dimension, Side, Status, finding
from rest.http.budget import HostBudget, current_budget

ORDER: list[str] = []
_lock = threading.Lock()


def visit(url: str, pause_first: float = 0.0) -> list:
    """A stand-in check that 'sends' one request through the run's budget
    (the engine's input, not under test); ``pause_first``: the host first
    answers 429 with that Retry-After, so the check must wait it out."""
    budget = current_budget()
    assert budget is not None, "the engine makes the run's budget current in every job"
    if pause_first:
        budget.acquire(url)
        budget.observe(url, 429, {"Retry-After": str(pause_first)})
    budget.acquire(url)
    budget.observe(url, 200, {})
    with _lock:
        ORDER.append(url)
    return [finding("http.cors", Status.PASS, url, "visited")]


def _job(target: str, host: str, pause_first: float = 0.0) -> Job:
    url = f"https://{host}/"
    return Job(
        "rest.http", target, Side.REST, Dimension.ACCESS_CONTROL, f"{__name__}:visit",
        lambda fn: fn(url, pause_first), url, host=f"{host}:443",
    )  # fmt: skip


def test_a_paused_host_waits_while_other_hosts_go_on() -> None:
    """One worker: the job on a paused host does not take the only slot;
    the other host's jobs run first and the paused one after its pause."""
    ORDER.clear()
    budget = HostBudget()
    budget.observe("https://slow.example/", 429, {"Retry-After": "2"})
    jobs = [_job("a", "slow.example"), _job("b", "fast.example"), _job("c", "fast.example")]
    out = run_jobs(jobs, concurrency=1, budget=budget)
    assert all(run.outcome == "ok" for _, run in out)
    assert ORDER == ["https://fast.example/", "https://fast.example/", "https://slow.example/"]


def test_waiting_for_a_host_is_not_charged_to_the_timeout_nor_holds_a_slot() -> None:
    """A check that waits 2 s for its host (Retry-After) under a 1 s timeout
    is not a timeout, and while it waits the single slot serves another host."""
    ORDER.clear()
    budget = HostBudget()
    jobs = [_job("a", "slow.example", pause_first=2), _job("b", "fast.example")]
    out = run_jobs(jobs, concurrency=1, timeout=1, budget=budget)
    assert [run.outcome for _, run in out] == ["ok", "ok"]
    assert out[0][1].seconds >= 2  # it did wait
    assert ORDER == ["https://fast.example/", "https://slow.example/"]


def test_work_past_the_timeout_is_still_a_timeout() -> None:
    """The clock stops only while waiting for the budget: a check that works
    (here: sleeps outside the budget) past the timeout is abandoned."""
    jobs = [Job("rest.http", "a", Side.REST, Dimension.ACCESS_CONTROL, "time:sleep",
                lambda fn: fn(3), "https://a.example/", host="a.example:443")]  # fmt: skip
    out = run_jobs(jobs, concurrency=1, timeout=1, budget=HostBudget())
    assert out[0][1].outcome == "timeout"


@pytest.fixture(scope="module")
def tight_service():
    """The secure sample with a tight limit: 4 requests per second per client."""
    handle = serve(SECURE.but(name="tight", rate_limit=4, rate_window=1.0))
    yield handle
    handle.stop()


def test_targets_sharing_a_rate_limited_host_end_without_error_findings(tight_service) -> None:
    """8 targets on one rate-limited server, 8 checks at once (before the
    shared budget: several checks in error, 'still answered 429 after 3
    back-offs'): every check gets a verdict, and the rate-limit burst, the
    one probe meant to hit the limit, still sees it."""
    profile = Profile(name="polite", rate_limit_probe=10)
    targets = Targets(
        rest=tuple(
            RestTarget(f"api-{i}", base_url=f"{tight_service.url}/api/orders", ca_file=tight_service.ca_file,
                       profile=profile)
            for i in range(8)
        ),
        settings=Settings(concurrency=8, timeout=120),
    )  # fmt: skip
    a = assess(targets, progress=False)
    errors = [f"{f.check_id}: {f.evidence}" for f in a.findings if f.status is Status.ERROR]
    assert errors == []
    bursts = [f for f in a.findings if f.check_id == "http.rate-limit"]
    assert len(bursts) == 8 and all(f.status is Status.PASS for f in bursts)


def test_per_host_rate_setting_is_read_and_checked(tmp_path, apisec) -> None:
    from compare.config import ConfigError, load_targets

    p = tmp_path / "apisec.toml"
    rest = '\n\n[[rest]]\nname = "a"\nbase_url = "https://a.example"\n'
    p.write_text("[settings]\nper_host_rate = 2.5" + rest)
    assert load_targets(p).settings.per_host_rate == 2.5
    for bad in ("-1", "nan", "true", '"fast"'):
        p.write_text(f"[settings]\nper_host_rate = {bad}" + rest)
        with pytest.raises(ConfigError, match="per_host_rate"):
            load_targets(p)
    # the flag: a bad value is one usage line, exit 2
    for bad in ("-1", "nan"):
        r = apisec("compare", "run", "--rest", "https://a.example", "--per-host-rate", bad)
        assert r.exit_code == 2 and "Traceback" not in r.stderr and "per-host-rate" in r.stderr, r.stderr
