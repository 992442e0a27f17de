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
