"""The side-by-side matrix: per dimension, what the SOAP and the REST service
actually do, how strong that is, and which checks fail — from measured
findings, not from the textbook.

The textbook column (:data:`MODEL`) says which mechanism each security model
*uses* for a dimension; every number, every "observed" line and every
failing check next to it comes from this assessment's findings.  Targets are
compared within their ``group`` (e.g. the demo's ``secure`` pair and its
``legacy`` pair), so a secure SOAP service is never averaged with a legacy
one.

Scoring, kept deliberately simple so a reader can redo it by hand (the rule
with a worked example is in docs/compare.md):

* evidence is a ``pass``, ``warn`` or ``fail`` finding; ``n/a`` (nothing of
  the kind to check), ``skip`` (not run) and ``error`` (could not run) are
  shown but never scored;
* every piece of evidence weighs by severity (critical 10, high 5, medium 3,
  low 1, info 0.5); a pass earns its weight, a warn half, a fail nothing;
  score = round(100 × earned / total);
* strength: *incomplete* (no score) when a check of the cell errored; *not
  assessed* without evidence; *weak* below 60 or with a critical failure
  (a failure needs no more evidence than itself); *too little evidence*
  (no score) when fewer than :data:`MIN_CHECKS` distinct checks gave
  evidence; *strong* at 85 or more with no high or critical failure;
  *moderate* otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from compare.findings import EVIDENCE, Dimension, Finding, Severity, Side, Status

if TYPE_CHECKING:
    from compare.model import Assessment

CORE_DIMENSIONS = (Dimension.ENCRYPTION, Dimension.ACCESS_CONTROL, Dimension.TOKEN_AUTH, Dimension.PROTOCOLS)
DIMENSIONS = (*CORE_DIMENSIONS, Dimension.RESILIENCE, Dimension.OBSERVABILITY)

DIMENSION_LABELS = {
    Dimension.ENCRYPTION: "Encryption",
    Dimension.ACCESS_CONTROL: "Authorization & access control",
    Dimension.TOKEN_AUTH: "Token-based authentication",
    Dimension.PROTOCOLS: "Security protocols",
    Dimension.RESILIENCE: "Resilience",
    Dimension.OBSERVABILITY: "Observability",
}

MODEL: dict[Side, dict[Dimension, str]] = {
    Side.SOAP: {
        Dimension.ENCRYPTION: (
            "XML Encryption of Body/headers (WS-Security), end to end through intermediaries; TLS underneath"
        ),
        Dimension.ACCESS_CONTROL: "Signed identity (X.509/SAML) in the message; policy per operation (WS-Policy)",
        Dimension.TOKEN_AUTH: "WS-Security tokens: UsernameToken, X.509 BinarySecurityToken, SAML assertions",
        Dimension.PROTOCOLS: "WS-Security 1.1, XML-DSig/XML-Enc, WS-Policy; optional TLS underneath",
        Dimension.RESILIENCE: "Timestamps and nonces against replay; hardened XML parsing (no DTD/entities)",
        Dimension.OBSERVABILITY: "SOAP Faults; what the WSDL and faults disclose",
    },
    Side.REST: {
        Dimension.ENCRYPTION: "TLS on the transport, hop by hop (terminated at each proxy)",
        Dimension.ACCESS_CONTROL: "OAuth 2.0 scopes/roles checked per route; object-level authorization",
        Dimension.TOKEN_AUTH: "Bearer tokens: OAuth 2.0 access tokens, JWT (JWS) validated by the API",
        Dimension.PROTOCOLS: "TLS 1.2/1.3, HTTP security headers, CORS",
        Dimension.RESILIENCE: "Rate limiting (429/Retry-After), bounded request sizes",
        Dimension.OBSERVABILITY: "Error bodies, server banners and what the API discloses",
    },
}


def in_row(f: Finding, dimension: Dimension) -> bool:
    """Does ``f`` belong in the matrix row of ``dimension``?  Each finding sits
    in exactly one row: its check's dimension, which the catalogue derives
    from the check's control (transport encryption, TLS included, is an
    *encryption* control on both sides)."""
    return f.dimension is dimension


WEIGHT = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 5.0,
    Severity.MEDIUM: 3.0,
    Severity.LOW: 1.0,
    Severity.INFO: 0.5,
}


def score(findings: Iterable[Finding]) -> int | None:
    """0–100 from pass/warn/fail findings weighted by severity; None without evidence."""
    earned = total = 0.0
    for f in findings:
        w = WEIGHT[f.severity]
        if f.status is Status.PASS:
            earned += w
            total += w
        elif f.status is Status.WARN:
            earned += w / 2
            total += w
        elif f.status is Status.FAIL:
            total += w
    if total == 0:
        return None
    return round(100 * earned / total)


MIN_CHECKS = 3
"""Distinct checks that must give evidence before a cell is called moderate or
strong: one passing check is not a verdict on a whole dimension."""

NO_VERDICT = ("incomplete", "not assessed", "too little evidence")
"""Strengths that carry no score."""


def strength(findings: list[Finding], value: int | None) -> str:
    """``strong`` / ``moderate`` / ``weak`` from the score; ``incomplete`` when a
    check of this cell could not run, ``not assessed`` without evidence,
    ``too little evidence`` below :data:`MIN_CHECKS`.  A cell with errors
    never gets a verdict (it could hide the failure that the check which did
    not run would have found)."""
    if any(f.status is Status.ERROR for f in findings):
        return "incomplete"
    if value is None:
        return "not assessed"
    fails = [f for f in findings if f.status is Status.FAIL]
    if value < 60 or any(f.severity is Severity.CRITICAL for f in fails):
        return "weak"
    if len({f.check_id for f in findings if f.status in EVIDENCE}) < MIN_CHECKS:
        return "too little evidence"
    if value >= 85 and not any(f.severity.rank >= Severity.HIGH.rank for f in fails):
        return "strong"
    return "moderate"


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for f in findings:
        out[f.status.value] += 1
    return out


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def judged(findings: list[Finding]) -> tuple[int | None, str]:
    """(score, strength) of a set of findings: no score when incomplete."""
    value = score(findings)
    verdict = strength(findings, value)
    return (None if verdict in NO_VERDICT else value), verdict


def cell(side: Side, dimension: Dimension, findings: list[Finding], targets: list[str]) -> dict[str, Any]:
    """One side's facts for one dimension."""
    value, verdict = judged(findings)
    problems = sorted(
        (f for f in findings if f.status in (Status.FAIL, Status.WARN)),
        key=lambda f: (f.status is not Status.FAIL, -f.severity.rank, f.check_id),
    )
    failing: dict[tuple[str, str], dict[str, Any]] = {}
    for f in problems:  # one line per check id, naming every target it failed on
        entry = failing.setdefault(
            (f.check_id, f.status.value),
            {"check_id": f.check_id, "title": f.title, "status": f.status.value, "severity": f.severity.value,
             "target": f.target, "count": 0, "targets": []},
        )  # fmt: skip
        entry["count"] += 1
        if f.target not in entry["targets"]:
            entry["targets"].append(f.target)
    # what the service was seen doing: a pass's evidence states the fact
    # ("algorithm suite(s): Basic256Sha256"); titles name the problem checked for
    observed = list(
        dict.fromkeys(
            _short(f.evidence) if f.evidence else f"{f.check_id}: ok"
            for f in findings
            if f.status is Status.PASS
        )  # fmt: skip
    )
    return {
        "mechanism": MODEL[side][dimension],
        "targets": targets,
        "score": value,
        "strength": verdict,
        "counts": _counts(findings),
        "observed": observed,
        "failing": list(failing.values()),
        "errors": [
            {"check_id": f.check_id, "target": f.target, "evidence": f.evidence}
            for f in findings
            if f.status is Status.ERROR
        ],
    }


def verdict(dimension: Dimension, soap: dict[str, Any], rest: dict[str, Any]) -> str:
    """A short sentence comparing the two cells."""
    s, r = soap["score"], rest["score"]
    gaps = [f"{name} {c['strength']}" for name, c in (("SOAP", soap), ("REST", rest)) if c["score"] is None]
    if s is None and r is None:
        if soap["strength"] == rest["strength"] == "not assessed":
            return "not assessed on either side"
        return "no verdict: " + ", ".join(gaps)
    if s is None or r is None:
        side, c = ("REST", rest) if s is None else ("SOAP", soap)
        return f"only {side} assessed: {c['strength']} ({c['score']}/100); " + gaps[0]

    def worst(c: dict[str, Any]) -> str:
        fails = [x for x in c["failing"] if x["status"] == "fail"] or c["failing"]
        return f"{fails[0]['check_id']} ({fails[0]['severity']})" if fails else ""

    if soap["strength"] == rest["strength"] == "weak" or (
        abs(s - r) < 10 and soap["strength"] == rest["strength"]
    ):
        tail = ""
        ws, wr = worst(soap), worst(rest)
        if ws and ws == wr:
            tail = f"; both fail {ws}"
        elif ws or wr:
            tail = "; open: " + ", ".join(f"{side} {w}" for side, w in (("SOAP", ws), ("REST", wr)) if w)
        if soap["strength"] == "weak" and abs(s - r) >= 10:
            return f"both weak (SOAP {s} / REST {r}){tail}"
        return f"on par, both {soap['strength']} (SOAP {s} / REST {r}){tail}"
    better, worse, wc = ("SOAP", "REST", rest) if s > r else ("REST", "SOAP", soap)
    if s == r:
        better, worse, wc = ("SOAP", "REST", rest) if soap["strength"] == "strong" else ("REST", "SOAP", soap)
    why = worst(wc)
    return f"{better} stronger ({max(s, r)} vs {min(s, r)})" + (f": {worse} fails {why}" if why else "")


def build_matrix(assessment: Assessment) -> dict[str, Any]:
    """The matrix of an assessment, grouped by target group, as plain JSON data."""
    info = {t.name: t for t in assessment.targets}
    groups: dict[str, list[str]] = {}
    for t in assessment.targets:
        groups.setdefault(t.group, []).append(t.name)
    for r in assessment.results:  # results whose target is not described still count
        if r.target not in info:
            groups.setdefault("default", []).append(r.target)
    out_groups = []
    for group, names in groups.items():
        members = set(names)
        res = [r for r in assessment.results if r.target in members]
        by_side = {side: [r.finding for r in res if r.finding.side is side] for side in Side}
        side_targets = {
            side: sorted(
                {r.target for r in res if r.finding.side is side}
                | {n for n in names if n in info and info[n].side is side}
            )  # fmt: skip
            for side in Side
        }
        rows = []
        for dim in DIMENSIONS:
            cells = {
                side: cell(side, dim, [f for f in by_side[side] if in_row(f, dim)], side_targets[side])
                for side in Side
            }
            rows.append(
                {
                    "dimension": dim.value,
                    "label": DIMENSION_LABELS[dim],
                    "core": dim in CORE_DIMENSIONS,
                    "soap": cells[Side.SOAP],
                    "rest": cells[Side.REST],
                    "verdict": verdict(dim, cells[Side.SOAP], cells[Side.REST]),
                }
            )
        sides = {}
        for side in Side:
            value, verdict_ = judged(by_side[side])
            sides[side.value] = {
                "targets": side_targets[side],
                "score": value,
                "strength": verdict_,
                "counts": _counts(by_side[side]),
            }
        out_groups.append({"group": group, "sides": sides, "rows": rows, "verdict": _overall(sides)})
    return {"dimensions": [d.value for d in DIMENSIONS], "groups": out_groups}


def _overall(sides: dict[str, dict[str, Any]]) -> str:
    s, r = sides["soap"]["score"], sides["rest"]["score"]
    if s is None or r is None:
        gaps = [f"{k.upper()} {v['strength']}" for k, v in sides.items() if v["score"] is None]
        if all(v["strength"] == "not assessed" for v in sides.values()):
            return "nothing assessed"
        return "no overall comparison: " + ", ".join(gaps)
    if abs(s - r) < 5:
        return f"SOAP and REST on par overall ({s} / {r})"
    return f"{'SOAP' if s > r else 'REST'} stronger overall ({max(s, r)} vs {min(s, r)})"


__all__ = [
    "MIN_CHECKS",
    "in_row",
    "CORE_DIMENSIONS",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "MODEL",
    "build_matrix",
    "score",
    "strength",
]
