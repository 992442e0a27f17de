"""The CI gate: one rule deciding whether an assessment passes, failing closed.

An assessment *passes* only when every check that was planned actually ran
and none of them failed at or above ``--fail-on`` (and, with
``--min-score``, no side scored below it).  A check that errored, timed out
or could not be started (``error`` findings: ``compare.check-error``,
``compare.check-timeout``, ``compare.check-unavailable``, or a check's own
``error`` verdict) makes the assessment **incomplete**, and so does a run
that produced no evidence at all (every finding skipped): "nothing could be
checked" must never read as "nothing is wrong".  An incomplete assessment
fails the gate unless the user explicitly accepts it with
``--allow-incomplete``.

The gate is computed here once; the terminal, Markdown, HTML and JSON
reports and the CLI exit code all read :func:`evaluate`.  This module
imports no CLI code (typer) and no engine module at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compare.findings import EVIDENCE, Status, exceeds_threshold

if TYPE_CHECKING:
    from compare.model import Assessment, Result

_NAMED = 6
"""How many incomplete checks the one-line gate sentence names before ``+N more``."""


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict and every reason for it (a report prints all of them)."""

    passed: bool
    fail_on: str
    min_score: int | None
    allow_incomplete: bool
    incomplete: tuple[str, ...]
    """``check@target_name`` of every check that could not run (the job name,
    e.g. ``rest.jwt@orders-api``, when the engine reported the error)."""
    no_evidence: bool
    """True when the run produced no pass/fail/warn finding at all."""
    failing: tuple[str, ...]
    """Check ids failing at or above ``fail_on`` (only new ones with a baseline)."""
    below_min_score: tuple[str, ...]
    """``SOAP in legacy: 18 < 70`` for each side under ``min_score``."""
    group: str | None = None
    """The target group this verdict is about (None: the whole assessment)."""

    @property
    def is_incomplete(self) -> bool:
        return bool(self.incomplete) or self.no_evidence

    def reasons(self) -> list[str]:
        """Why the gate failed (or, for an allowed incomplete run, what was missing)."""
        out: list[str] = []
        if self.is_incomplete:
            if self.incomplete:
                named = ", ".join(self.incomplete[:_NAMED])
                more = len(self.incomplete) - _NAMED
                text = f"incomplete: {len(self.incomplete)} check(s) could not run ({named}"
                text += f", +{more} more)" if more > 0 else ")"
            else:
                text = "incomplete: no check produced evidence (every finding was skipped)"
            if self.allow_incomplete:
                text += " [allowed by --allow-incomplete]"
            out.append(text)
        if self.failing:
            ids = list(dict.fromkeys(self.failing))
            named = ", ".join(ids[:_NAMED]) + (f", +{len(ids) - _NAMED} more" if len(ids) > _NAMED else "")
            out.append(f"{len(self.failing)} finding(s) fail at or above {self.fail_on} ({named})")
        out.extend(self.below_min_score)
        return out

    def sentence(self) -> str:
        """``gate --fail-on high: FAILED (incomplete: 2 check(s) could not run (…))``."""
        text = f"gate --fail-on {self.fail_on}"
        if self.min_score is not None:
            text += f" --min-score {self.min_score}"
        if self.allow_incomplete:
            text += " --allow-incomplete"
        if self.group is not None:
            text += f" [{self.group}]"
        if self.passed:
            verdict = "passed (incomplete)" if self.is_incomplete else "passed"
        else:
            verdict = "FAILED (incomplete)" if self.is_incomplete and not self.allow_incomplete else "FAILED"
        reasons = self.reasons()
        return f"{text}: {verdict}" + (f" — {'; '.join(reasons)}" if reasons else "")

    def to_dict(self) -> dict[str, Any]:
        """The ``gate`` block of the JSON report (field names are a contract)."""
        return {
            "passed": self.passed,
            "status": "passed" if self.passed else "failed",
            "complete": not self.is_incomplete,
            "fail_on": self.fail_on,
            "min_score": self.min_score,
            "allow_incomplete": self.allow_incomplete,
            "incomplete_checks": list(self.incomplete),
            "no_evidence": self.no_evidence,
            "failing": list(dict.fromkeys(self.failing)),
            "below_min_score": list(self.below_min_score),
            "group": self.group,
            "sentence": self.sentence(),
        }


def _what(r: Result) -> str:
    """The check that could not run: the engine's job name (``rest.jwt``) when
    the engine reported it (``compare.check-error`` …), else the check id."""
    name = r.job if r.finding.check_id.startswith("compare.") and r.job else r.finding.check_id
    return f"{name}@{r.target}"


def incomplete_checks(results: Iterable[Result]) -> list[str]:
    """``check@target_name`` for every result that says a check could not run."""
    return list(dict.fromkeys(_what(r) for r in results if r.finding.status is Status.ERROR))


def below_min_score(
    assessment: Assessment, group: str | None = None, *, matrix: Mapping[str, Any] | None = None
) -> list[str]:
    """``["SOAP in legacy: 18 < 70", …]`` for every side under ``min_score``
    (``matrix``: the assessment's matrix when the caller already built it)."""
    if assessment.min_score is None:
        return []
    out = []
    for g in (matrix or assessment.matrix())["groups"]:
        if group is not None and g["group"] != group:
            continue
        for side, info in g["sides"].items():
            if info["score"] is not None and info["score"] < assessment.min_score:
                out.append(f"{side.upper()} in {g['group']}: {info['score']} < {assessment.min_score}")
    return out


def evaluate(
    assessment: Assessment,
    fail_on: str | None = None,
    *,
    allow_incomplete: bool | None = None,
    group: str | None = None,
    matrix: Mapping[str, Any] | None = None,
) -> GateResult:
    """The gate over the whole assessment (or over one target ``group``).

    With a baseline only *new* problems count toward ``fail_on``; checks that
    could not run count whatever the baseline says, because this run did not
    look at what they cover.
    """
    threshold = fail_on or assessment.fail_on
    allow = assessment.allow_incomplete if allow_incomplete is None else allow_incomplete
    results: Sequence[Result] = assessment.results
    if group is not None:
        members = {t.name for t in assessment.targets if t.group == group}
        results = [r for r in results if r.target in members]
    incomplete = tuple(incomplete_checks(results))
    no_evidence = not any(r.finding.status in EVIDENCE for r in results)
    counted = results if assessment.baseline is None else [r for r in results if r.baseline == "new"]
    failing = tuple(
        r.finding.check_id
        for r in counted
        if exceeds_threshold([r.finding], threshold)  # one rule for "fails at or above"
    )
    low = tuple(below_min_score(assessment, group, matrix=matrix))
    passed = not failing and not low and (allow or not (incomplete or no_evidence))
    return GateResult(
        passed=passed,
        fail_on=threshold,
        min_score=assessment.min_score,
        allow_incomplete=allow,
        incomplete=incomplete,
        no_evidence=no_evidence,
        failing=failing,
        below_min_score=low,
        group=group,
    )


def per_group(
    assessment: Assessment, fail_on: str | None = None, *, matrix: Mapping[str, Any] | None = None
) -> list[GateResult]:
    """The gate of every target group, in target order (the demo shows one per pair)."""
    groups = list(dict.fromkeys(t.group for t in assessment.targets))
    if matrix is None and assessment.min_score is not None:
        matrix = assessment.matrix()  # built once, not once per group
    return [evaluate(assessment, fail_on, group=g, matrix=matrix) for g in groups]


__all__ = ["GateResult", "below_min_score", "evaluate", "incomplete_checks", "per_group"]
