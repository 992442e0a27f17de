"""Self-contained HTML report: one file, no external assets (inline CSS, inline
SVG chart, no scripts), so it can be attached to a CI run or mailed and
still render offline.  Every dynamic string is HTML-escaped; evidence was
redacted when the finding was made.

Sections: summary, the side-by-side matrix per group (``table#matrix-…``),
a chart of findings by dimension and severity for each side, and the
findings grouped by target with evidence, references, remediation and (with
``--show-raw``) the raw exchanges.
"""

from __future__ import annotations

from html import escape
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

SEVERITY_COLOUR = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f97316",
    "low": "#eab308",
    "info": "#60a5fa",
    "pass": "#16a34a",
}

CSS = """
pre.exchange { background: #0f172a; color: #e2e8f0; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 40em; }
details.raw > summary { color: var(--muted); cursor: pointer; }
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0; background: #fff; }
header { background: #0f172a; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #cbd5e1; }
main { padding: 18px 28px 40px; max-width: 1400px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.summary { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0; }
.pill { border-radius: 999px; padding: 3px 12px; font-weight: 600; background: var(--bg); border: 1px solid var(--line); }
.pill.fail { color: #b91c1c; } .pill.pass { color: #15803d; } .pill.warn { color: #a16207; }
.pill.error { color: #a21caf; } .pill.skip, .pill.na { color: var(--muted); }
.gate-failed { color: #b91c1c; font-weight: 700; } .gate-passed { color: #15803d; font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; vertical-align: top; text-align: left; }
th { background: var(--bg); }
table.matrix td.dim { font-weight: 600; white-space: nowrap; }
table.matrix td.verdict { font-style: italic; }
.strength { font-weight: 700; } .strong { color: #15803d; } .moderate { color: #a16207; }
.weak { color: #b91c1c; } .not-assessed { color: var(--muted); } .incomplete { color: #a21caf; } .too-little-evidence { color: var(--muted); }
.mech { color: var(--muted); font-size: 12px; }
.failing code, code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6;
       padding: 0 3px; border-radius: 3px; }
.status { font-weight: 700; text-transform: uppercase; font-size: 12px; }
.status.fail { color: #b91c1c; } .status.pass { color: #15803d; } .status.warn { color: #a16207; }
.status.error { color: #a21caf; } .status.skip, .status.na { color: var(--muted); }
details { margin: 2px 0; } summary { cursor: pointer; }
pre { background: #0f172a; color: #e2e8f0; padding: 10px; overflow-x: auto; font-size: 12px; border-radius: 6px; }
.chart { margin: 8px 0 4px; }
.small { color: var(--muted); font-size: 12px; }
"""


def _e(x: object) -> str:
    return escape(str(x), quote=True)


def _cell(c: dict[str, Any]) -> str:
    strength = c["strength"]
    score = "–" if c["score"] is None else f"{c['score']}/100"
    n = c["counts"]
    parts = [
        f'<span class="strength {strength.replace(" ", "-")}">{_e(strength)}</span> {score}',
        f'<div class="small">{n["pass"]} pass · {n["fail"]} fail'
        + (f" · {n['warn']} warn" if n["warn"] else "")
        + (f" · {n['error']} error" if n["error"] else "")
        + "</div>",
        f'<div class="mech">{_e(c["mechanism"])}</div>',
    ]
    if c["observed"]:
        parts.append('<div class="small">observed: ' + _e("; ".join(c["observed"][:3])) + "</div>")
    if c["failing"]:
        items = "".join(
            f'<li><span class="status {x["status"]}">{x["status"]}</span> <code>{_e(x["check_id"])}</code> '
            f"({_e(x['severity'])}){_times(x)}</li>"
            for x in c["failing"][:6]
        )
        more = f"<li>+{len(c['failing']) - 6} more</li>" if len(c["failing"]) > 6 else ""
        parts.append(f'<ul class="failing">{items}{more}</ul>')
    return "".join(parts)


def chart_svg(assessment: Assessment) -> str:
    """Horizontal stacked bars: per dimension and side, passes and problems by severity."""
    data = problems_by_dimension(assessment.findings)
    keys = ["pass", *[s.value for s in SEVERITIES]]
    rows = [(dim, side) for dim in DIMENSIONS for side in ("soap", "rest")]
    maxtotal = max([sum(data[d.value][s][k] for k in keys) for d, s in rows] + [1])
    label_w, bar_w, row_h, top = 250, 560, 18, 34
    height = top + len(rows) * (row_h + 4) + len(DIMENSIONS) * 8 + 20
    width = label_w + bar_w + 60
    out = [
        f'<svg class="chart" role="img" aria-label="Findings by dimension and severity" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        "<title>Findings by dimension and severity (passes and problems, SOAP and REST)</title>",
    ]
    x = label_w
    for k in keys:  # legend
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{SEVERITY_COLOUR[k]}"/>')
        out.append(f'<text x="{x + 16}" y="16">{k}</text>')
        x += 80
    y = top
    for dim in DIMENSIONS:
        for side in ("soap", "rest"):
            counts = data[dim.value][side]
            label = f"{DIMENSION_LABELS[dim]} · {side.upper()}" if side == "soap" else f"{side.upper()}"
            anchor_x = label_w - 8
            out.append(f'<text x="{anchor_x}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
            out.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{row_h}" fill="#f3f4f6"/>')
            x = float(label_w)
            total = 0
            for k in keys:
                n = counts[k]
                if not n:
                    continue
                w = bar_w * n / maxtotal
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" fill="{SEVERITY_COLOUR[k]}">'
                    f"<title>{_e(DIMENSION_LABELS[dim])} {side.upper()}: {n} {k}</title></rect>"
                )
                x += w
                total += n
            out.append(f'<text x="{x + 6:.1f}" y="{y + 13}" fill="#374151">{total}</text>')
            y += row_h + 4
        y += 8
    out.append("</svg>")
    return "".join(out)


def _css(value: str) -> str:
    """A status as a CSS class name (``n/a`` → ``na``)."""
    return value.replace("/", "")


def render(assessment: Assessment) -> str:
    tripped = gate(assessment)
    counts: dict[str, int] = {s.value: 0 for s in Status}
    for f in assessment.findings:
        counts[f.status.value] += 1
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>apisec — SOAP vs REST assessment</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>apisec — SOAP vs REST assessment</h1>",
        f"<p>{_e(summary_sentence(assessment))} · started {_e(assessment.started or 'n/a')} · "
        f"apisec {_e(assessment.tool_version)}</p></header><main>",
        '<section id="summary"><h2>Summary</h2><div class="summary">',
    ]
    for s in Status:
        h.append(f'<span class="pill {_css(s.value)}">{counts[s.value]} {s.value}</span>')
    h.append("</div>")
    h.append(
        "<p>CI gate: "
        + (
            '<span class="gate-failed">FAILED</span>'
            if tripped
            else '<span class="gate-passed">passed</span>'
        )
        + f" <code>{_e(gate_sentence(assessment))}</code></p>"
    )
    per_group = group_gate_sentences(assessment)
    if per_group:
        h.append('<ul class="gates">')
        for passed, sentence in per_group:
            cls, word = ("gate-passed", "passed") if passed else ("gate-failed", "FAILED")
            h.append(f'<li><span class="{cls}">{word}</span> <code>{_e(sentence)}</code></li>')
        h.append("</ul>")
    if assessment.note:
        h.append(f'<p class="note">{_e(assessment.note)}</p>')
    if assessment.baseline is not None:
        h.append(f"<p>{_e(baseline_counts(assessment.baseline))}</p>")
    h.append("</section>")
    h.append('<section id="side-by-side"><h2>Side by side</h2>')
    for g in assessment.matrix()["groups"]:
        soap, rest = g["sides"]["soap"], g["sides"]["rest"]
        gid = "".join(ch if ch.isalnum() else "-" for ch in g["group"])
        h.append(f"<h3>{_e(g['group'])}: {_e(g['verdict'])}</h3>")
        h.append(f'<table class="matrix" id="matrix-{_e(gid)}" data-group="{_e(g["group"])}">')
        h.append(
            "<thead><tr><th>Dimension</th>"
            f"<th>SOAP <span class='small'>({_e(', '.join(soap['targets']) or '—')})</span></th>"
            f"<th>REST <span class='small'>({_e(', '.join(rest['targets']) or '—')})</span></th>"
            "<th>Verdict</th></tr></thead><tbody>"
        )
        for row in g["rows"]:
            h.append(
                f'<tr data-dimension="{_e(row["dimension"])}"><td class="dim">{_e(row["label"])}</td>'
                f'<td class="soap">{_cell(row["soap"])}</td><td class="rest">{_cell(row["rest"])}</td>'
                f'<td class="verdict">{_e(row["verdict"])}</td></tr>'
            )
        h.append(
            '<tr class="overall"><td class="dim">Overall</td>'
            f'<td><span class="strength {soap["strength"].replace(" ", "-")}">{_e(soap["strength"])}</span> '
            f"{'–' if soap['score'] is None else soap['score']}</td>"
            f'<td><span class="strength {rest["strength"].replace(" ", "-")}">{_e(rest["strength"])}</span> '
            f"{'–' if rest['score'] is None else rest['score']}</td>"
            f'<td class="verdict">{_e(g["verdict"])}</td></tr>'
        )
        h.append("</tbody></table>")
    h.append("</section>")
    h.append('<section id="chart"><h2>Findings by dimension and severity</h2>')
    h.append(chart_svg(assessment))
    h.append(
        '<p class="small">Passes and problems (fail and warn, by severity) per dimension; each check '
        "sits in the dimension of its control (see <code>apisec checks list</code>).</p>"
    )
    h.append("</section>")
    h.append('<section id="findings"><h2>Findings by target</h2>')
    for t, results in by_target(assessment):
        if isinstance(t, str):
            h.append(f"<h3>{_e(t)}</h3>")
        else:
            h.append(
                f"<h3>{_e(t.name)} <span class='small'>{t.side.value.upper()} · {_e(t.group)} · "
                f"<code>{_e(t.location)}</code></span></h3>"
            )
        h.append('<table class="findings"><thead><tr><th>Status</th><th>Severity</th><th>Check</th>'
                 "<th>Dimension</th><th>Details</th></tr></thead><tbody>")  # fmt: skip
        for r in results:
            f = r.finding
            details = f"<details><summary>{_e(f.title)}</summary>"
            details += f"<div>Target: <code>{_e(f.target)}</code></div>"
            if f.evidence:
                details += f"<div>Evidence: {_e(f.evidence)}</div>"
            if f.remediation:
                details += f"<div>Remediation: {_e(f.remediation)}</div>"
            if f.references:
                details += f"<div>References: {_e('; '.join(f.references))}</div>"
            if r.baseline:
                details += f"<div>Baseline: {_e(r.baseline)}</div>"
            for i, ex in enumerate(f.raw, 1):  # collapsed: a report is read for its verdicts first
                details += (
                    f'<details class="raw"><summary>raw exchange {i} of {len(f.raw)}</summary>'
                    f'<pre class="exchange">{_e(exchange_text(ex, f.target))}</pre></details>'
                )
            details += "</details>"
            h.append(
                f'<tr class="{_css(f.status.value)}"><td><span class="status {_css(f.status.value)}">{f.status.value}</span></td>'
                f"<td>{_e(f.severity.value)}</td><td><code>{_e(f.check_id)}</code></td>"
                f"<td>{_e(f.dimension.value)}</td><td>{details}</td></tr>"
            )
        h.append("</tbody></table>")
    h.append("</section>")
    if assessment.runs:
        h.append('<section id="timings"><h2>Check timings</h2><table><thead><tr><th>Target</th><th>Job</th>'
                 "<th>Outcome</th><th>Seconds</th><th>Findings</th></tr></thead><tbody>")  # fmt: skip
        for run in sorted(assessment.runs, key=lambda x: -x.seconds):
            h.append(
                f"<tr><td>{_e(run.target)}</td><td><code>{_e(run.job)}</code></td><td>{_e(run.outcome)}</td>"
                f"<td>{run.seconds:.2f}</td><td>{run.findings}</td></tr>"
            )
        h.append("</tbody></table></section>")
    h.append("</main></body></html>")
    return "\n".join(h) + "\n"
