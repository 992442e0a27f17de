"""Check functions with known failure modes, for the engine's error handling
(the engine's input, not a replacement of anything under test)."""

from __future__ import annotations

import threading
import time

HOLD = threading.Event()
ACTIVE = {"now": 0, "max": 0}
_lock = threading.Lock()


def boom(*_a, **_k):
    raise RuntimeError("connection refused by 127.0.0.1:9\nsecond line")


def hang(*_a, **_k):
    HOLD.wait(30)
    return []


def not_findings(*_a, **_k):
    return ["a string"]


def count_overlap(*_a, **_k):
    with _lock:
        ACTIVE["now"] += 1
        ACTIVE["max"] = max(ACTIVE["max"], ACTIVE["now"])
    time.sleep(0.15)
    with _lock:
        ACTIVE["now"] -= 1
    return []


ORDER: list[str] = []


def record_light(*_a, **_k):
    time.sleep(0.2)
    ORDER.append("light")
    return []


def record_burst(*_a, **_k):
    ORDER.append("burst")
    return []


def record_other(*_a, **_k):
    ORDER.append("other")
    return []


def echo_secret(secret: str):
    """A check that (wrongly) puts the credential it was given into its evidence."""
    import rest.http.registry  # noqa: F401  (registers http.cors)
    from compare.findings import finding

    return [finding("http.cors", "fail", "https://127.0.0.1:1/", f"sent X-Api-Key {secret} and got 200",
                    raw=[{"request": f"GET / HTTP/1.1\r\nX-Api-Key: {secret}"}])]  # fmt: skip


def raise_secret(secret: str):
    raise ValueError(f"server rejected key {secret}")
