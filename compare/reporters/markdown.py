"""Markdown report: summary, the side-by-side table per group, findings counts
by dimension and severity, and every finding grouped by target with
evidence, references and remediation.  Renders on GitHub (job summaries,
PR comments) without any asset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compare.baseline import baseline_counts
from compare.findings import Status
from compare.matrix import DIMENSION_LABELS, DIMENSIONS
from compare.reporters._common import (
    SEVERITIES,
    _times,
    by_target,
    gate,
    gate_sentence,
    group_gate_sentences,
    problems_by_dimension,
    summary_sentence,
)
from compare.reporters.raw import exchange_text

if TYPE_CHECKING:
    from compare.model import Assessment

ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "error": "💥", "skip": "⏭️", "n/a": "➖"}


def esc(text: object) -> str:
    """Make text safe inside a Markdown table cell."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _cell(c: dict[str, Any]) -> str:
    score = "–" if c["score"] is None else f"{c['score']}/100"
    n = c["counts"]
    out = f"**{c['strength']}** {score} · {n['pass']} pass, {n['fail']} fail"
    if n["warn"]:
        out += f", {n['warn']} warn"
    if n["error"]:
        out += f", {n['error']} error"
    out += f"<br>_{esc(c['mechanism'])}_"
    if c["observed"]:
        out += "<br>observed: " + esc("; ".join(c["observed"][:3]))
    if c["failing"]:
        out += "<br>failing: " + ", ".join(
            f"`{x['check_id']}` ({x['severity']}){_times(x)}" for x in c["failing"][:4]
        )
        if len(c["failing"]) > 4:
            out += f" +{len(c['failing']) - 4}"
    return out


def render(assessment: Assessment) -> str:
    lines: list[str] = ["# apisec — SOAP vs REST assessment", ""]
    tripped = gate(assessment)
    lines += [
        f"- **Summary:** {esc(summary_sentence(assessment))}",
        f"- **Started:** {assessment.started or 'n/a'} · apisec {assessment.tool_version}",
        f"- **Gate:** {'**FAILED**' if tripped else 'passed'} — `{gate_sentence(assessment)}`",
    ]
    for passed, sentence in group_gate_sentences(assessment):
        lines.append(f"  - {'passed' if passed else '**FAILED**'} — `{sentence}`")
    if assessment.note:
        lines.append(f"- **Note:** {esc(assessment.note)}")
    if assessment.baseline is not None:
        lines.append(f"- **Baseline:** {esc(baseline_counts(assessment.baseline))}")
    lines.append("")
    for g in assessment.matrix()["groups"]:
        soap, rest = g["sides"]["soap"], g["sides"]["rest"]
        lines += [f"## Side by side — {esc(g['group'])}", "", f"**{esc(g['verdict'])}**", ""]
        lines.append(
            f"| Dimension | SOAP ({esc(', '.join(soap['targets']) or '—')}) "
            f"| REST ({esc(', '.join(rest['targets']) or '—')}) | Verdict |"
        )
        lines.append("|---|---|---|---|")
        for row in g["rows"]:
            lines.append(
                f"| **{esc(row['label'])}** | {_cell(row['soap'])} | {_cell(row['rest'])} | {esc(row['verdict'])} |"
            )
        s_score = "–" if soap["score"] is None else f"{soap['score']}/100"
        r_score = "–" if rest["score"] is None else f"{rest['score']}/100"
        lines.append(
            f"| **Overall** | **{soap['strength']}** {s_score} | **{rest['strength']}** {r_score} | |"
        )
        lines.append("")
    counts = problems_by_dimension(assessment.findings)
    lines += ["## Problems by dimension and severity", ""]
    lines.append("| Dimension | Side | " + " | ".join(s.value for s in SEVERITIES) + " | pass |")
    lines.append("|---|---|" + "---:|" * (len(SEVERITIES) + 1))
    for dim in DIMENSIONS:
        for side in ("soap", "rest"):
            c = counts[dim.value][side]
            lines.append(
                f"| {DIMENSION_LABELS[dim]} | {side.upper()} | "
                + " | ".join(str(c[s.value]) for s in SEVERITIES)
                + f" | {c['pass']} |"
            )
    lines.append("")
    lines += ["## Findings by target", ""]
    for t, results in by_target(assessment):
        if isinstance(t, str):
            lines += [f"### {esc(t)}", ""]
        else:
            lines += [
                f"### {esc(t.name)} — {t.side.value.upper()} ({esc(t.group)})",
                "",
                f"`{esc(t.location)}`",
                "",
            ]
        base = assessment.baseline is not None
        lines.append("| | Severity | Check | Dimension | Evidence |" + (" Baseline |" if base else ""))
        lines.append("|---|---|---|---|---|" + ("---|" if base else ""))
        for r in results:
            f = r.finding
            row = (
                f"| {ICON[f.status.value]} {f.status.value} | {f.severity.value} | `{f.check_id}` "
                f"| {f.dimension.value} | {esc(f.evidence[:300])} |"
            )
            if base:
                row += f" {r.baseline or ''} |"
            lines.append(row)
        lines.append("")
        problems = [r for r in results if r.finding.status in (Status.FAIL, Status.WARN, Status.ERROR)]
        for r in problems:
            f = r.finding
            lines += [
                f"<details><summary>{ICON[f.status.value]} <code>{f.check_id}</code> — {esc(f.title)}</summary>",
                "",
            ]
            lines.append(f"- **Target:** `{esc(f.target)}`")
            if f.evidence:
                lines.append(f"- **Evidence:** {esc(f.evidence)}")
            if f.remediation:
                lines.append(f"- **Remediation:** {esc(f.remediation)}")
            if f.references:
                lines.append(f"- **References:** {esc('; '.join(f.references))}")
            for ex in f.raw:
                lines += ["", "```text", exchange_text(ex, f.target), "```"]
            lines += ["", "</details>", ""]
    if assessment.runs:
        lines += [
            "## Check timings",
            "",
            "| Target | Job | Outcome | Seconds | Findings |",
            "|---|---|---|---:|---:|",
        ]
        for run in sorted(assessment.runs, key=lambda x: -x.seconds):
            lines.append(
                f"| {esc(run.target)} | `{run.job}` | {run.outcome} | {run.seconds:.2f} | {run.findings} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
