"""Terminal report: rich tables, colour only when the stream is a terminal.

:func:`print_report` writes to a live console (stdout by default; rich
drops colour and styles itself when stdout is not a TTY or ``NO_COLOR`` is
set).  :func:`render_text` produces the same report as plain text for
``report.txt``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from compare.baseline import baseline_counts
from compare.findings import Status
from compare.reporters._common import (
    _times,
    by_target,
    gate,
    gate_sentence,
    group_gate_sentences,
    summary_sentence,
)

if TYPE_CHECKING:
    from compare.engine import Assessment

STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
    "error": "magenta",
    "skip": "dim",
    "n/a": "dim",
}
STRENGTH_STYLE = {
    "strong": "green",
    "moderate": "yellow",
    "weak": "bold red",
    "not assessed": "dim",
    "incomplete": "magenta",
    "too little evidence": "dim",
}


def _cell(c: dict[str, Any], *, detail: bool) -> Text:
    t = Text()
    strength = c["strength"]
    score = "–" if c["score"] is None else f"{c['score']}"
    t.append(f"{strength} {score}", style=STRENGTH_STYLE.get(strength, ""))
    n = c["counts"]
    t.append(f"  ✓{n['pass']} ✗{n['fail']}" + (f" !{n['warn']}" if n["warn"] else ""), style="dim")
    if n["error"]:
        t.append(f" err{n['error']}", style="magenta")
    if detail:
        for x in c["failing"][:3]:
            t.append(
                f"\n{x['status']} {x['check_id']} ({x['severity']}){_times(x)}",
                style=STATUS_STYLE[x["status"]],
            )
        if len(c["failing"]) > 3:
            t.append(f"\n+{len(c['failing']) - 3} more", style="dim")
    return t


def matrix_tables(assessment: Assessment, *, detail: bool = True) -> list[Table]:
    """The side-by-side tables, one per target group."""
    tables = []
    for g in assessment.matrix()["groups"]:
        soap, rest = g["sides"]["soap"], g["sides"]["rest"]
        title = f"SOAP vs REST — {g['group']}"
        table = Table(title=title, show_lines=True, expand=False, title_justify="left")
        table.add_column("dimension", style="bold", no_wrap=True)
        table.add_column(f"SOAP ({', '.join(soap['targets']) or '—'})")
        table.add_column(f"REST ({', '.join(rest['targets']) or '—'})")
        table.add_column("verdict")
        for row in g["rows"]:
            table.add_row(row["label"], _cell(row["soap"], detail=detail), _cell(row["rest"], detail=detail),
                          row["verdict"])  # fmt: skip
        overall = Text(g["verdict"], style="bold")
        table.add_row(
            "Overall",
            _cell({**soap, "failing": []}, detail=False),
            _cell({**rest, "failing": []}, detail=False),
            overall,
        )
        tables.append(table)
    return tables


def findings_table(assessment: Assessment, *, problems_only: bool = True) -> Table:
    table = Table(title="Findings" + (" (problems)" if problems_only else ""), title_justify="left")
    for col in ("status", "severity", "side", "target", "check", "evidence"):
        table.add_column(col, overflow="fold")
    if assessment.baseline is not None:
        table.add_column("baseline")
    for _t, results in by_target(assessment):
        for r in results:
            f = r.finding
            if problems_only and f.status in (Status.PASS, Status.SKIP, Status.NA):
                continue
            row = [
                Text(f.status.value, style=STATUS_STYLE[f.status.value]),
                f.severity.value,
                f.side.value,
                r.target,
                f.check_id,
                f.evidence[:200],
            ]
            if assessment.baseline is not None:
                row.append(r.baseline or "")
            table.add_row(*row)
    return table


def report_renderable(assessment: Assessment, *, fail_on: str | None = None, findings: bool = True) -> Group:
    parts: list[Any] = [Text("apisec — SOAP vs REST assessment", style="bold")]
    parts.append(Text(summary_sentence(assessment)))
    parts.extend(matrix_tables(assessment))
    if findings:
        parts.append(findings_table(assessment))
    if assessment.baseline is not None:
        parts.append(Text(baseline_counts(assessment.baseline)))
    tripped = gate(assessment, fail_on)
    parts.append(Text(gate_sentence(assessment, fail_on), style="bold red" if tripped else "green"))
    for passed, sentence in group_gate_sentences(assessment, fail_on):
        parts.append(Text("  " + sentence, style="green" if passed else "red"))
    if assessment.note:
        parts.append(Text(assessment.note, style="italic"))
    return Group(*parts)


def print_report(
    assessment: Assessment,
    console: Console | None = None,
    *,
    fail_on: str | None = None,
    findings: bool = True,
) -> None:
    """Print to a live console (stdout): colour only on a TTY."""
    console = console or Console()
    console.print(report_renderable(assessment, fail_on=fail_on, findings=findings))


def render_text(assessment: Assessment) -> str:
    """The report as plain text (no colour codes), for ``report.txt``."""
    buf = io.StringIO()
    console = Console(file=buf, width=140, color_system=None, force_terminal=False, no_color=True)
    console.print(report_renderable(assessment))
    return buf.getvalue()


__all__ = ["findings_table", "matrix_tables", "print_report", "render_text", "report_renderable"]
