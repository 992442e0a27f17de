"""The per-host request budget: what it reads from a host's answers, and
that a real rate-limited server sees no more than the budget allows."""

from __future__ import annotations

import threading
import time

import pytest

from apisec_samples.rest_service import SECURE, serve
from rest.http import Prober
from rest.http.budget import (
    HostBudget,
    WaitMeter,
    current_budget,
    host_key,
    quota_remaining,
    quota_reset,
    slow_down,
    use_budget,
)


class Clock:
    """A clock the test moves by hand (pauses are read, never slept)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_host_key_is_host_and_port_with_the_scheme_default() -> None:
    assert host_key("https://API.example/v1?x=1") == "api.example:443"
    assert host_key("http://api.example/v1") == "api.example:80"
    assert host_key("https://api.example:8443/") == "api.example:8443"


def test_quota_headers_of_the_ietf_draft_and_the_x_variants() -> None:
    assert quota_remaining({"RateLimit": "limit=30, remaining=0, reset=4"}) == 0
    assert quota_reset({"RateLimit": "limit=30, remaining=0, reset=4"}) == 4.0
    assert quota_remaining({"RateLimit": '"default";r=7;t=12'}) == 7
    assert quota_reset({"RateLimit": '"default";r=7;t=12'}) == 12.0
    assert quota_remaining({"RateLimit-Remaining": "3"}) == 3
    assert quota_reset({"RateLimit-Reset": "9"}) == 9.0
    assert quota_remaining({"X-RateLimit-Remaining": "0"}) == 0
    assert quota_reset({"X-RateLimit-Reset": str(2_000_000_060)}, now=2_000_000_000) == 60.0  # a Unix time
    assert quota_remaining({}) is None and quota_reset({"RateLimit": "limit=5"}) is None


def test_what_means_slow_down() -> None:
    assert slow_down(429, {})
    assert slow_down(503, {"Retry-After": "2"})
    assert not slow_down(503, {})  # a plain 503 is a server error: some checks judge it
    assert not slow_down(200, {"Retry-After": "2"})


def test_a_429_pauses_the_host_for_what_retry_after_says_and_only_that_host() -> None:
    clock = Clock()
    b = HostBudget(clock=clock)
    assert b.observe("https://a.example/x", 429, {"Retry-After": "7"}) == 7.0
    assert b.paused_for("a.example:443") == 7.0
    assert b.paused_for("b.example:443") == 0.0  # other hosts go on
    clock.now += 5
    assert b.paused_for("a.example:443") == 2.0
    # a shorter pause never shortens a longer one
    b.observe("https://a.example/y", 429, {"Retry-After": "1"})
    assert b.paused_for("a.example:443") == 2.0
    clock.now += 2
    assert b.paused_for("a.example:443") == 0.0


def test_without_retry_after_the_pause_backs_off_and_is_capped() -> None:
    clock = Clock()
    b = HostBudget(clock=clock, max_pause=5.0)
    assert b.observe("https://a.example/", 429, {}, retries=0) == 0.5
    assert b.observe("https://a.example/", 429, {}, retries=3) == 4.0
    assert b.observe("https://a.example/", 429, {"Retry-After": "3600"}) == 5.0  # capped
    assert b.observe("https://a.example/", 503, {"Retry-After": "2"}, cap=1.0) == 1.0
    assert b.observe("https://a.example/", 503, {}) == 0.0


def test_an_exhausted_quota_pauses_the_host_before_any_429() -> None:
    clock = Clock()
    b = HostBudget(clock=clock)
    assert b.observe("https://a.example/", 200, {"RateLimit": "limit=30, remaining=2, reset=4"}) == 0.0
    assert b.paused_for("a.example:443") == 0.0
    assert b.observe("https://a.example/", 200, {"RateLimit": "limit=30, remaining=0, reset=4"}) == 4.0
    assert b.paused_for("a.example:443") == 4.0


def test_allowance_counts_requests_sent_since_the_host_answered() -> None:
    """remaining=2: two more requests go at once, the third waits for the reset."""
    clock = Clock()
    b = HostBudget(clock=clock)
    b.observe("https://a.example/", 200, {"RateLimit": "limit=30, remaining=2, reset=4"})
    assert b.acquire("https://a.example/") == 0.0
    assert b.acquire("https://a.example/") == 0.0
    assert b.paused_for("a.example:443") == 4.0


def test_bad_rates_are_refused() -> None:
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            HostBudget(bad)


def test_the_budget_is_current_only_inside_use_budget_and_per_thread() -> None:
    b = HostBudget()
    seen: list[object] = []
    with use_budget(b):
        assert current_budget() is b
        assert Prober().budget is b
        t = threading.Thread(target=lambda: seen.append(current_budget()))
        t.start()
        t.join()
    assert seen == [None]  # another thread (another job) has its own
    assert current_budget() is None
    own = Prober()
    assert own.budget is not None and own.budget is not b  # outside a run: a private budget


def test_the_wait_meter_counts_a_wait_in_progress() -> None:
    clock = Clock()
    m = WaitMeter(clock)
    m.begin()
    clock.now += 3
    assert m.waiting and m.waited() == 3.0
    m.end()
    clock.now += 10
    assert not m.waiting and m.waited() == 3.0


@pytest.fixture(scope="module")
def tight_service():
    """The secure sample with a tight limit: 5 requests per 1 s per client."""
    handle = serve(SECURE.but(name="tight", rate_limit=5, rate_window=1.0))
    yield handle
    handle.stop()


def test_threads_sharing_a_budget_get_no_429_from_a_rate_limited_server(tight_service) -> None:
    """Four probers on one host, 20 requests: with the shared budget (a rate
    under the server's) the server never has to say 429."""
    url = tight_service.url + "/api/orders"
    b = HostBudget(4.0)
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with use_budget(b):
            p = Prober(verify=str(tight_service.ca_file))
            try:
                for _ in range(5):
                    ex = p.send("GET", url)
                    with lock:
                        statuses.append(ex.status)
            finally:
                p.close()

    time.sleep(1.1)  # a full quota to start from
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 20
    assert 429 not in statuses and set(statuses) == {401}  # no token: refused, never throttled
    assert b.waits > 0  # the budget, not luck, kept them apart


def test_probers_with_only_the_hosts_word_share_its_quota(tight_service) -> None:
    """No rate of our own: the RateLimit headers (remaining, reset) tell the
    shared budget when the quota is spent, counting the requests still in
    flight, so four probers together never overdraw it: every request is
    answered for real (401) on the first try, none is throttled."""
    url = tight_service.url + "/api/orders"
    b = HostBudget()
    statuses: list[int] = []
    sent: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with use_budget(b):
            p = Prober(verify=str(tight_service.ca_file))
            try:
                for _ in range(6):
                    ex = p.send("GET", url)
                    with lock:
                        statuses.append(ex.status)
            finally:
                p.close()
                with lock:
                    sent.append(p.sent)

    time.sleep(1.1)
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [401] * 24
    assert sum(sent) == 24  # no 429 had to be retried
    assert b.waits > 0
