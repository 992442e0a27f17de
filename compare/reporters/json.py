"""JSON report: the findings model (``tool``, ``version``, ``targets``,
``findings``) plus ``matrix``, ``assessment`` (targets, per-check timings)
and, with a baseline, ``baseline``.  ``apisec compare report`` and
``--baseline`` read this document back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from compare.findings import redact

if TYPE_CHECKING:
    from compare.model import Assessment


def _redacted(value: Any) -> Any:
    """Redact every string *value* (never the serialised text: a pattern
    matching across JSON quotes would corrupt the document)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def render(assessment: Assessment) -> str:
    # findings are redacted at creation; every string passes redact() once
    # more so nothing a check put elsewhere (raw exchanges) leaks
    return json.dumps(_redacted(assessment.to_dict()), indent=2, ensure_ascii=False) + "\n"
