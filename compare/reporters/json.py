"""JSON report: the findings model (``tool``, ``version``, ``targets``,
``findings``) plus ``matrix``, ``assessment`` (targets, per-check timings)
and, with a baseline, ``baseline``.  ``apisec compare report`` and
``--baseline`` read this document back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from compare.findings import redact

if TYPE_CHECKING:
    from compare.engine import Assessment


def render(assessment: Assessment) -> str:
    # findings are redacted at creation; the whole document passes redact()
    # once more so nothing a check put elsewhere (raw exchanges) leaks
    text = json.dumps(assessment.to_dict(), indent=2, ensure_ascii=False)
    return redact(text) + "\n"
