"""Shared arithmetic of the human reports (summary counts, ordering, grouping)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from compare import gate as _gate
from compare.findings import Dimension, Finding, Severity, Side, Status

if TYPE_CHECKING:
    from compare.model import Assessment, Result

SEVERITIES = tuple(Severity)  # critical … info
STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.NA: 4, Status.SKIP: 5}


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
    return _gate.below_min_score(assessment)


def gate(assessment: Assessment, fail_on: str | None = None) -> bool:
    """True when the CI gate trips (see :mod:`compare.gate`: a ``fail`` at or
    above the threshold, a side under ``min_score``, or an incomplete run
    that ``--allow-incomplete`` did not accept)."""
    return not _gate.evaluate(assessment, fail_on).passed


def gate_sentence(assessment: Assessment, fail_on: str | None = None) -> str:
    """``gate --fail-on high: FAILED (incomplete) — incomplete: 2 check(s) could not run (…)``."""
    return _gate.evaluate(assessment, fail_on).sentence()


def group_gate_sentences(assessment: Assessment, fail_on: str | None = None) -> list[tuple[bool, str]]:
    """(passed, sentence) per target group when there is more than one group."""
    results = _gate.per_group(assessment, fail_on)
    return [(g.passed, g.sentence()) for g in results] if len(results) > 1 else []


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
