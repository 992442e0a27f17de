"""Shared arithmetic of the human reports (summary counts, ordering, grouping)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from compare.findings import Dimension, Finding, Severity, Side, Status, exceeds_threshold

if TYPE_CHECKING:
    from compare.engine import Assessment, Result

SEVERITIES = tuple(Severity)  # critical … info
STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.SKIP: 4}


def sort_key(r: Result) -> tuple[int, int, str]:
    f = r.finding
    return (STATUS_ORDER[f.status], -f.severity.rank, f.check_id)


def status_counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for f in findings:
        out[f.status.value] += 1
    return out


def problems_by_dimension(findings: Iterable[Finding]) -> dict[str, dict[str, dict[str, int]]]:
    """dimension → side → severity → number of fail/warn findings (plus ``pass``)."""
    out: dict[str, dict[str, dict[str, int]]] = {
        d.value: {s.value: {**{sev.value: 0 for sev in SEVERITIES}, "pass": 0} for s in Side}
        for d in Dimension
    }
    for f in findings:
        bucket = out[f.dimension.value][f.side.value]
        if f.status in (Status.FAIL, Status.WARN):
            bucket[f.severity.value] += 1
        elif f.status is Status.PASS:
            bucket["pass"] += 1
    return out


def by_target(assessment: Assessment) -> list[tuple[Any, list[Result]]]:
    """(TargetInfo-or-name, results sorted worst first) in target order."""
    groups: dict[str, list[Result]] = {}
    for r in assessment.results:
        groups.setdefault(r.target, []).append(r)
    out = []
    for t in assessment.targets:
        if t.name in groups:
            out.append((t, sorted(groups.pop(t.name), key=sort_key)))
    for name, rs in groups.items():
        out.append((name, sorted(rs, key=sort_key)))
    return out


def below_min_score(assessment: Assessment) -> list[str]:
    """``["SOAP in legacy: 18 < 70", …]`` for every side under ``min_score``."""
    if assessment.min_score is None:
        return []
    out = []
    for g in assessment.matrix()["groups"]:
        for side, info in g["sides"].items():
            if info["score"] is not None and info["score"] < assessment.min_score:
                out.append(f"{side.upper()} in {g['group']}: {info['score']} < {assessment.min_score}")
    return out


def gate(assessment: Assessment, fail_on: str | None = None) -> bool:
    """True when the CI gate trips: a ``fail`` at or above the threshold
    (only *new* problems count when a baseline was applied), or a side's
    overall score below ``min_score``."""
    threshold = fail_on or assessment.fail_on
    results = assessment.results
    if assessment.baseline is not None:
        results = [r for r in results if r.baseline == "new"]
    return exceeds_threshold([r.finding for r in results], threshold) or bool(below_min_score(assessment))


def gate_sentence(assessment: Assessment, fail_on: str | None = None) -> str:
    """``gate --fail-on high --min-score 70: FAILED (REST in legacy: 59 < 70)``."""
    threshold = fail_on or assessment.fail_on
    text = f"gate --fail-on {threshold}"
    if assessment.min_score is not None:
        text += f" --min-score {assessment.min_score}"
    text += ": " + ("FAILED" if gate(assessment, threshold) else "passed")
    low = below_min_score(assessment)
    return text + (f" ({'; '.join(low)})" if low else "")


def summary_sentence(assessment: Assessment) -> str:
    c = status_counts(assessment.findings)
    parts = [f"{c[s.value]} {s.value}" for s in Status if c[s.value]]
    return (
        f"{len(assessment.targets)} target(s), {len(assessment.results)} finding(s): "
        + (", ".join(parts) if parts else "none")
        + f" — {assessment.duration_s:.1f}s"
    )


def _times(entry: dict[str, Any]) -> str:
    """`` ×2`` when a matrix line stands for a check failing on several endpoints."""
    n = int(entry.get("count", 1))
    return f" ×{n}" if n > 1 else ""
