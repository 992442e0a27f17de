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
    from compare.model import Assessment

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


NARROW = 120
"""Below this many columns the side-by-side table would cut check ids
(``wssec.tampered-acc…``): the report switches to a stacked layout that
keeps every id on a line of its own."""


def matrix_stacked(assessment: Assessment) -> list[Text]:
    """The side-by-side matrix for narrow terminals: one block per dimension,
    each side on its own line, each failing check id whole on its own line."""
    out: list[Text] = []
    for g in assessment.matrix()["groups"]:
        soap, rest = g["sides"]["soap"], g["sides"]["rest"]
        t = Text(f"SOAP vs REST — {g['group']}\n", style="bold")
        t.append(f"SOAP: {', '.join(soap['targets']) or '—'}\nREST: {', '.join(rest['targets']) or '—'}\n")
        rows = [*g["rows"], {"label": "Overall", "soap": {**soap, "failing": []}, "rest": {**rest, "failing": []},
                             "verdict": g["verdict"]}]  # fmt: skip
        for row in rows:
            t.append(f"\n{row['label']}\n", style="bold")
            for side in ("soap", "rest"):
                c = row[side]
                score = "–" if c["score"] is None else f"{c['score']}"
                n = c["counts"]
                t.append(f"  {side.upper():4}  ")
                t.append(f"{c['strength']} {score}", style=STRENGTH_STYLE.get(c["strength"], ""))
                t.append(
                    f"  ✓{n['pass']} ✗{n['fail']}" + (f" !{n['warn']}" if n["warn"] else ""), style="dim"
                )
                if n["error"]:
                    t.append(f" err{n['error']}", style="magenta")
                t.append("\n")
                for x in c["failing"]:
                    t.append(f"        {x['status']} {x['check_id']} ({x['severity']}){_times(x)}\n",
                             style=STATUS_STYLE[x["status"]])  # fmt: skip
            t.append(f"  → {row['verdict']}\n", style="italic")
        out.append(t)
    return out


def findings_lines(assessment: Assessment) -> Text:
    """The problems list for narrow terminals: the check id starts its own line."""
    t = Text("Findings (problems)\n", style="bold")
    for _t, results in by_target(assessment):
        for r in results:
            f = r.finding
            if f.status in (Status.PASS, Status.SKIP, Status.NA):
                continue
            t.append(f"{f.status.value:5} ", style=STATUS_STYLE[f.status.value])
            t.append(f"{f.check_id}\n")
            extra = f" [{r.baseline}]" if r.baseline else ""
            t.append(f"      {f.severity.value} · {f.side.value} · {r.target}{extra}\n", style="dim")
            if f.evidence:
                t.append(f"      {f.evidence[:200]}\n")
    return t


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


def report_renderable(
    assessment: Assessment, *, fail_on: str | None = None, findings: bool = True, narrow: bool = False
) -> Group:
    """The whole terminal report; ``narrow`` stacks the matrix and the findings
    so that no check id is cut (see :data:`NARROW`)."""
    parts: list[Any] = [Text("apisec — SOAP vs REST assessment", style="bold")]
    parts.append(Text(summary_sentence(assessment)))
    parts.extend(matrix_stacked(assessment) if narrow else matrix_tables(assessment))
    if findings:
        parts.append(findings_lines(assessment) if narrow else findings_table(assessment))
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
    narrow = console.width < NARROW
    console.print(report_renderable(assessment, fail_on=fail_on, findings=findings, narrow=narrow))


def render_text(assessment: Assessment) -> str:
    """The report as plain text (no colour codes), for ``report.txt``."""
    buf = io.StringIO()
    console = Console(file=buf, width=140, color_system=None, force_terminal=False, no_color=True)
    console.print(report_renderable(assessment))
    return buf.getvalue()


__all__ = [
    "NARROW",
    "findings_lines",
    "findings_table",
    "matrix_stacked",
    "matrix_tables",
    "print_report",
    "render_text",
    "report_renderable",
]
