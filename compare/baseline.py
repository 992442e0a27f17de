"""Baselines: what changed since the last assessment (new / fixed / unchanged).

A CI pipeline that adopts apisec on a service with known problems needs to
fail on what got *worse*, not on what it already knows.  Findings are
matched across runs by a fingerprint built from what stays stable: the check
id, the side, the configured target name and the finding's target with
loopback ports masked (sample services and test servers bind ephemeral
ports), plus an occurrence number for repeated ids on one target.  The same
fingerprint is SARIF's ``partialFingerprints`` so GitHub code scanning
tracks alerts the same way.

States, about the *problem* a finding reports (``fail`` or ``warn``):

* ``new`` — a problem now that was not one in the baseline (absent or passing);
* ``unchanged`` — a problem then and now, or fine then and now;
* ``fixed`` — a problem in the baseline that now passes; problems of the
  baseline that no longer appear at all are listed in the summary's ``gone``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.findings import Status

if TYPE_CHECKING:
    from compare.model import Assessment, Result

_LOOPBACK_PORT = re.compile(r"(?i)\b(127\.0\.0\.1|localhost|\[::1\]|::1)(:\d+)")
_TMP_PATH = re.compile(r"/tmp/[^/\s]*/")


def locus(target: str) -> str:
    """A finding's target with the parts that change between runs masked."""
    return _TMP_PATH.sub("/tmp/*/", _LOOPBACK_PORT.sub(r"\1:*", target))


def _base_key(check_id: str, side: str, target_name: str, target: str) -> str:
    return "\x1f".join((check_id, side, target_name, locus(target)))


def fingerprint(result: Result, occurrence: int = 0) -> str:
    """Stable id of a finding across runs (hex, 32 chars)."""
    f = result.finding
    key = _base_key(f.check_id, f.side.value, result.target, f.target) + f"\x1f{occurrence}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def fingerprints(results: Iterable[Result]) -> list[str]:
    """Fingerprints of a run in order, numbering repeated ids on one target."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for r in results:
        f = r.finding
        base = _base_key(f.check_id, f.side.value, r.target, f.target)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(fingerprint(r, n))
    return out


def _problem(status: Status | str) -> bool:
    return Status(status) in (Status.FAIL, Status.WARN)


def load_assessment(path: str | Path, *, what: str = "assessment", invalid: str | None = None) -> Assessment:
    """Read a saved ``assessment.json`` (report, merge, baseline): one loader,
    so every caller refuses the same malformed documents the same way.

    A file that cannot be read or is not an apisec assessment (not JSON, not
    an object, wrong shape) is an :class:`InputError` (exit 2) starting with
    ``invalid`` (default: "PATH is not an apisec assessment"), never a crash."""
    from compare.errors import InputError
    from compare.fileio import read_input
    from compare.model import Assessment

    data = read_input(path, what=what)
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("the document is not a JSON object")
        return Assessment.from_dict(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{invalid or f'{path} is not an apisec assessment'}: {exc}") from None


def load_baseline(path: str | Path) -> Assessment:
    """Read a previous JSON report; a bad file is an input error (exit 2)."""
    return load_assessment(path, what="baseline", invalid=f"baseline {path} is not an apisec JSON report")


def apply_baseline(current: Assessment, previous: Assessment) -> Assessment:
    """Mark every current result new/fixed/unchanged against ``previous``.

    Returns a new Assessment whose ``baseline`` summary counts the states and
    lists the baseline problems that disappeared.
    """
    before: dict[str, Result] = dict(zip(fingerprints(previous.results), previous.results, strict=True))
    now_fps = fingerprints(current.results)
    marked: list[Result] = []
    counts = {"new": 0, "fixed": 0, "unchanged": 0}
    for fp, r in zip(now_fps, current.results, strict=True):
        old = before.get(fp)
        is_problem = _problem(r.finding.status)
        if old is None:
            state = "new"
        elif _problem(old.finding.status) and not is_problem:
            state = "fixed"
        elif is_problem and not _problem(old.finding.status):
            state = "new"
        else:
            state = "unchanged"
        counts[state] += 1
        marked.append(replace(r, baseline=state))
    now_set = set(now_fps)
    gone = [
        {
            "check_id": r.finding.check_id,
            "target_name": r.target,
            "target": r.finding.target,
            "status": r.finding.status.value,
            "severity": r.finding.severity.value,
            "fingerprint": fp,
        }
        for fp, r in before.items()
        if fp not in now_set and _problem(r.finding.status)
    ]
    summary: dict[str, Any] = {
        "previous_started": previous.started,
        "counts": counts,
        "new_problems": sum(1 for r in marked if r.baseline == "new" and _problem(r.finding.status)),
        "gone": gone,
    }
    return replace(current, results=marked, baseline=summary)


def baseline_counts(summary: Mapping[str, Any] | None) -> str:
    """One line for terminals: ``baseline: 2 new problems, 3 fixed, 1 gone``."""
    if not summary:
        return ""
    c = summary.get("counts", {})
    return (
        f"baseline: {summary.get('new_problems', 0)} new problem(s), {c.get('fixed', 0)} fixed, "
        f"{len(summary.get('gone', []))} gone, {c.get('unchanged', 0)} unchanged"
    )


__all__ = ["apply_baseline", "baseline_counts", "fingerprint", "fingerprints", "load_baseline", "locus"]
