"""wssec.wsgi.SecurityMiddleware behind gunicorn (2 workers x 4 threads) with
concurrent clients: distinct signed (every 10th also encrypted) requests,
replayed copies mixed in.  Bounded here (about 2,000 requests);
``bench/bench_middleware.py`` runs the 20,000-request version with timings."""

from __future__ import annotations

import pytest

from tests.reliability.loadgen import gunicorn, run_load, signed_requests

pytestmark = pytest.mark.slow


def _env(pki, redis_url: str | None) -> dict[str, str]:
    env = {"APISEC_LOAD_CA": str(pki.ca.cert_path), "APISEC_LOAD_KEY": str(pki.service.key_path)}
    if redis_url:
        env["APISEC_LOAD_REDIS"] = redis_url
    return env


def test_two_workers_with_the_redis_store_refuse_every_replay(pki, redis_url) -> None:
    messages = signed_requests(pki, 1850, encrypt_every=10, tag="redis")
    with gunicorn(_env(pki, redis_url), workers=2, threads=4) as url:
        out = run_load(url, messages, replay_ratio=0.12, clients=8)
    assert out.errors == []
    assert out.requests >= 2000
    assert out.fresh_accepted == len(messages) and out.fresh_refused == 0
    assert out.replays_accepted == 0
    assert out.replays_refused > 150
    # replays answered by the worker that never saw the original: the store is shared
    assert out.replays_on_other_worker > 0


def test_two_workers_with_per_process_memory_stores_let_cross_worker_replays_in(pki) -> None:
    """Why the shared store exists: the same setup with the default in-memory
    cache refuses a replay only in the worker that saw the original."""
    messages = signed_requests(pki, 400, tag="mem")
    with gunicorn(_env(pki, None), workers=2, threads=4) as url:
        out = run_load(url, messages, replay_ratio=0.25, clients=8)
    assert out.errors == []
    assert out.fresh_accepted == len(messages)
    assert out.replays_on_other_worker > 0
    assert out.replays_accepted > 0
