"""JUnit XML: one ``testsuite`` per target, one ``testcase`` per finding.

CI systems show this in their test tabs: ``fail`` findings are
``<failure>``, ``error`` findings ``<error>``, ``skip`` findings
``<skipped>``; ``warn`` findings pass with the warning in ``<system-out>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from compare.findings import Status
from compare.reporters._common import by_target

if TYPE_CHECKING:
    from compare.model import Assessment


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000.0:.3f}"


def _details(f) -> str:
    lines = [
        f"{f.title}",
        f"target: {f.target}",
        f"severity: {f.severity.value}",
        f"dimension: {f.dimension.value}",
    ]
    if f.evidence:
        lines.append(f"evidence: {f.evidence}")
    if f.references:
        lines.append("references: " + "; ".join(f.references))
    if f.remediation:
        lines.append(f"remediation: {f.remediation}")
    return "\n".join(lines)


def render(assessment: Assessment) -> str:
    root = ET.Element("testsuites", name="apisec")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for t, results in by_target(assessment):
        name = t if isinstance(t, str) else t.name
        side = results[0].finding.side.value if results else ""
        suite = ET.SubElement(root, "testsuite", name=f"{side}.{name}" if side else name)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        if not isinstance(t, str):
            props = ET.SubElement(suite, "properties")
            for k, v in (("side", t.side.value), ("group", t.group), ("location", t.location)):
                ET.SubElement(props, "property", name=k, value=v)
        for r in results:
            f = r.finding
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"apisec.{f.side.value}.{f.dimension.value}",
                name=f"{f.check_id} [{f.target}]",
                time=_seconds(f.duration_ms),
            )
            if r.baseline:
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="baseline", value=r.baseline)
            counts["tests"] += 1
            counts["time"] += (f.duration_ms or 0.0) / 1000.0
            if f.status is Status.FAIL:
                el = ET.SubElement(
                    case, "failure", message=f"{f.severity.value}: {f.title}", type=f.severity.value
                )
                el.text = _details(f)
                counts["failures"] += 1
            elif f.status is Status.ERROR:
                el = ET.SubElement(case, "error", message=f.evidence or f.title, type="error")
                el.text = _details(f)
                counts["errors"] += 1
            elif f.status in (Status.SKIP, Status.NA):
                ET.SubElement(case, "skipped", message=f.evidence or "not applicable")
                counts["skipped"] += 1
            elif f.status is Status.WARN:
                out = ET.SubElement(case, "system-out")
                out.text = "WARN " + _details(f)
        for k, v in counts.items():
            suite.set(k, f"{v:.3f}" if k == "time" else str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, f"{v:.3f}" if k == "time" else str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
