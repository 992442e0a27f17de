"""``apisec flow run``: send a flow's steps and report each as a finding.

Every step becomes one :class:`compare.findings.Finding` (check id
``flow.<variation>``), collected into a :class:`compare.engine.Assessment`
so the reporters, ``--fail-on``, ``--baseline`` and ``compare report`` treat
a flow run like any other assessment.

Fail closed: a step that cannot be built (a missing secret) or sent is an
``error``; and when an operation's happy path is not accepted, a refusal
of its variations proves nothing (the service may refuse everything), so
those refusals are reported as ``error`` too, never as ``pass``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compare.findings import Finding, Side, Status, finding
from compare.flow import ids
from compare.flow.model import FlowError, Secrets, select

PROOF_NEEDED = ("refused",)
"""Expectations whose pass means something only after an accepted happy path."""


def _step_target(op: Mapping[str, Any], step: Mapping[str, Any], url: str) -> str:
    method = (step.get("request") or {}).get("method") or op.get("method") or "POST"
    return f"{method} {url} [{step['name']}]"


def run_flow(
    flow: Mapping[str, Any],
    *,
    base_url: str | None = None,
    ca_file: str | Path | None = None,
    only: list[str] | None = None,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Run the flow's steps (all, or those ``only`` names) in file order and
    return one finding per step.  Never raises for a failing step; raises
    :class:`FlowError` for an unusable flow or selection."""
    connection = dict(flow["connection"])
    if base_url:
        connection["base_url"] = base_url.rstrip("/")
    secrets = Secrets(flow.get("_base_dir"), env)
    ca = ca_file or connection.get("ca_file")
    if ca and not Path(ca).is_absolute() and flow.get("_base_dir") and not ca_file:
        ca = str(Path(flow["_base_dir"]) / ca)
    pairs = select(flow, only, with_happy_path=True)
    if flow["kind"] == "soap":
        from compare.flow.soap_run import run_soap

        return run_soap(flow, connection, pairs, secrets, ca=ca, timeout=timeout)
    return _run_rest(connection, pairs, secrets, ca=ca, timeout=timeout)


def _run_rest(
    connection: Mapping[str, Any],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    secrets: Secrets,
    *,
    ca: str | Path | None,
    timeout: float,
) -> list[Finding]:
    from compare.flow.rest_steps import build, judge, step_url
    from rest.errors import TargetUnreachable
    from rest.http.probes import Prober, Throttled

    prober = Prober(verify=str(ca) if ca else True, timeout=timeout, max_retries=4)
    happy: dict[str, str] = {}
    out: list[Finding] = []
    try:
        for op, step in pairs:
            started = time.perf_counter()
            url = step_url(connection, step.get("request") or {})
            target = _step_target(op, step, url)
            exchanges: list[Any] = []
            try:
                requests_ = build(connection, step, secrets)
                for v in secrets.values:
                    prober.redactor.add_credential(v)
                    prober.redactor.add(v)
                transport_error = None
                for r in requests_:
                    try:
                        exchanges.append(
                            prober.send(
                                r.method,
                                r.url,
                                credentials=False,
                                headers=r.headers,
                                data=r.body,
                                note=r.label,
                            )  # fmt: skip
                        )
                    except TargetUnreachable as exc:
                        transport_error = str(exc)
                        break
                verdict = judge(step, exchanges, transport_error)
                status, evidence = verdict.status, verdict.evidence
            except (FlowError, Throttled) as exc:
                status, evidence = "error", f"step could not run: {exc}"
            if step["variation"] == "happy-path":
                happy[op["name"]] = status
            elif (
                status == "pass"
                and step["expect"]["outcome"] in PROOF_NEEDED
                and happy.get(op["name"], "pass") != "pass"
            ):
                status = "error"
                evidence += (
                    " — but the operation's happy path was not accepted, so this refusal proves nothing"
                )
            out.append(
                finding(
                    ids.check_id(step["variation"]),
                    Status(status),
                    target,
                    prober.redactor(evidence),
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    raw=[e.to_raw(prober.redactor) for e in exchanges],
                )
            )
    finally:
        prober.close()
    return out


def assessment(
    flow: Mapping[str, Any], findings: list[Finding], *, flow_file: str, started: str, seconds: float
) -> Any:
    """The findings as an :class:`compare.engine.Assessment` (one target: the flow)."""
    from compare.model import Assessment, Result, TargetInfo

    side = Side.SOAP if flow["kind"] == "soap" else Side.REST
    name = f"flow:{flow['name']}"
    info = TargetInfo(name, side, "flow", flow["kind"], flow["connection"]["base_url"], (flow_file,))
    return Assessment(
        targets=[info],
        results=[Result(f, name, f"flow.{flow['kind']}") for f in findings],
        started=started,
        duration_s=seconds,
        source=flow_file,
    )
