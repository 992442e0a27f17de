"""The WSGI app the load tests and ``bench/bench_middleware.py`` serve with
gunicorn: :class:`wssec.wsgi.SecurityMiddleware` in front of a tiny SOAP
echo, configured from the environment (gunicorn imports it by name):

APISEC_LOAD_CA      trust anchor (PEM path) of the verifier
APISEC_LOAD_KEY     the service's private key (PEM path): decrypt too
APISEC_LOAD_REDIS   a Redis URL: the shared replay store (else in-memory)
APISEC_LOAD_BARE    "1": no middleware (the baseline of the bench)
APISEC_LOAD_MAX_AGE seconds a request's Timestamp may be old (default 300;
                    the bench signs 20,000 requests before sending them)

Every response carries ``X-Worker: <pid>`` so a test can tell which worker
answered (a replay refused by a worker that never saw the original proves
the store is shared).
"""

from __future__ import annotations

import os
from typing import Any

OK = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ok/></s:Body></s:Envelope>'


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(OK)))])
    return [OK]


def _tag_worker(inner: Any) -> Any:
    pid = str(os.getpid())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Worker", pid)], exc_info)

        return inner(environ, sr)

    return app


def build() -> Any:
    if os.environ.get("APISEC_LOAD_BARE") == "1":
        return _tag_worker(echo)
    from wssec import Verifier
    from wssec.replay import MemoryReplayCache, RedisReplayCache
    from wssec.wsgi import SecurityMiddleware

    redis_url = os.environ.get("APISEC_LOAD_REDIS")
    store = RedisReplayCache(url=redis_url) if redis_url else MemoryReplayCache()
    verifier = Verifier(
        trust=[os.environ["APISEC_LOAD_CA"]],
        decrypt_key=os.environ.get("APISEC_LOAD_KEY"),
        replay_cache=store,
        max_age=float(os.environ.get("APISEC_LOAD_MAX_AGE", "300")),
    )
    return _tag_worker(SecurityMiddleware(echo, verifier=verifier))


def __getattr__(name: str) -> Any:
    """``app`` is built on first access (gunicorn's import), so importing
    this module for :func:`echo` needs no environment."""
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)
