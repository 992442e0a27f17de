"""One JSON line per access decision: who, what, allowed or why not.

The line goes to the ``apisec.guard.audit`` logger at INFO (or to a callable
you give).  What it never holds: the token, the ``Authorization`` header, the
query string (tokens and keys end up there), or a request body.  ``reason``
comes from :class:`rest.errors.TokenRejected`, whose messages never echo the
token, or from the guard's own fixed wording.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

AUDIT_LOGGER = "apisec.guard.audit"
_logger = logging.getLogger(AUDIT_LOGGER)

AuditSink = Callable[[Mapping[str, Any]], None]
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str)
"""Made once (``json.dumps`` with options builds an encoder per call)."""


def log_sink(record: Mapping[str, Any]) -> None:
    """The default sink: one compact JSON object per line on the audit logger."""
    if _logger.isEnabledFor(logging.INFO):
        _logger.info(_ENCODER.encode(record))


def decision(
    *,
    allowed: bool,
    status: int,
    method: str,
    path: str,
    client: str | None,
    subject: str | None = None,
    client_id: str | None = None,
    reason: str = "",
    rule: str | None = None,
) -> dict[str, Any]:
    """The audit record of one decision (``path`` must already be query-free)."""
    out: dict[str, Any] = {
        "ts": round(time.time(), 3),
        "event": "guard.decision",
        "allowed": allowed,
        "status": status,
        "method": method,
        "path": path,
        "client": client,
        "sub": subject,
    }
    if client_id:
        out["client_id"] = client_id
    if reason:
        out["reason"] = reason[:300]  # attacker-chosen parts (a kid) stay bounded
    if rule:
        out["rule"] = rule
    return out
