"""Replay stores: the in-memory one and the shared Redis one keep one
contract (``check_and_store``), are atomic under threads, fail closed, and
stay within their memory bound."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import tracemalloc

import pytest

from tests.reliability.conftest import start_redis
from wssec import Verifier
from wssec.errors import ReplayDetected
from wssec.replay import MemoryReplayCache, RedisReplayCache, ReplayCache, ReplayStoreUnavailable

SOON = dt.timedelta(minutes=5)


class RacyCache:
    """check-then-store without a lock: what the concurrency test must catch."""

    def __init__(self) -> None:
        self.seen: dict[str, dt.datetime] = {}

    def check_and_store(self, key: str, expires: dt.datetime) -> bool:
        if key in self.seen:
            return False
        time.sleep(0)  # a thread switch between the check and the store
        self.seen[key] = expires
        return True


def hammer(cache: ReplayCache, *, threads: int = 16, keys: int = 200) -> dict[str, int]:
    """Every thread offers every key at once; returns how often each key was accepted."""
    wins = {f"k{i}": 0 for i in range(keys)}
    lock = threading.Lock()
    start = threading.Barrier(threads)
    expires = dt.datetime.now(dt.UTC) + SOON

    def worker() -> None:
        start.wait()
        for k in wins:
            if cache.check_and_store(k, expires):
                with lock:
                    wins[k] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return wins


def test_the_concurrency_test_catches_a_racy_cache() -> None:
    wins = hammer(RacyCache())
    assert any(n > 1 for n in wins.values()), "the hammer did not expose the race: it proves nothing"


def test_memory_cache_accepts_each_key_once_under_threads() -> None:
    wins = hammer(MemoryReplayCache())
    assert set(wins.values()) == {1}


def test_redis_cache_accepts_each_key_once_under_threads(redis_url: str) -> None:
    cache = RedisReplayCache(url=redis_url, prefix=f"t{time.time_ns()}:")
    assert isinstance(cache, ReplayCache)
    wins = hammer(cache, keys=100)
    assert set(wins.values()) == {1}


def test_redis_cache_remembers_until_expiry_and_is_shared(redis_url: str) -> None:
    prefix = f"e{time.time_ns()}:"
    a, b = RedisReplayCache(url=redis_url, prefix=prefix), RedisReplayCache(url=redis_url, prefix=prefix)
    now = dt.datetime.now(dt.UTC)
    assert a.check_and_store("sig:1", now + SOON)
    assert not b.check_and_store("sig:1", now + SOON)  # another process/worker: still a replay
    assert a.check_and_store("sig:short", now + dt.timedelta(milliseconds=200))
    assert not a.check_and_store("sig:short", now + SOON)
    time.sleep(0.5)
    assert a.check_and_store("sig:short", dt.datetime.now(dt.UTC) + SOON)  # expired: forgotten
    other = RedisReplayCache(url=redis_url, prefix=prefix + "other:")
    assert other.check_and_store("sig:1", now + SOON)  # prefixes separate services


def test_redis_store_down_refuses_the_message(pki, tmp_path) -> None:
    from tests.reliability.loadgen import signed_requests

    proc, url = start_redis(tmp_path)
    verifier = Verifier(trust=[pki.ca.cert], replay_cache=RedisReplayCache(url=url))
    first, second = signed_requests(pki, 2, tag="down")
    assert verifier.verify(first).signed_parts  # store up: accepted
    with pytest.raises(ReplayDetected):
        verifier.verify(first)  # and its replay refused
    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(ReplayStoreUnavailable):
        verifier.verify(second)  # fresh, but the store cannot vouch for it: fail closed


def test_redis_cache_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        RedisReplayCache()


ENTRY_BYTES = 600
"""Documented bound per remembered signature in MemoryReplayCache (docs/reliability.md)."""


def test_memory_cache_stays_within_its_documented_bound() -> None:
    cap = 20_000
    cache = MemoryReplayCache(max_entries=cap)
    expires = dt.datetime.now(dt.UTC) + SOON
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(3 * cap):  # a flood: three times the bound, none expired
            cache.check_and_store(f"sig:{i:064x}", expires)
            assert len(cache) <= cap
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(cache) == cap
    assert len(cache._expiry) <= 2 * cap
    assert held <= cap * ENTRY_BYTES, f"{held / cap:.0f} bytes per entry"
    # the newest keys are the ones kept: a replay of a recent message is still refused
    assert not cache.check_and_store(f"sig:{3 * cap - 1:064x}", expires)
