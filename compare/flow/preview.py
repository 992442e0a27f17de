"""``apisec flow preview``: the exact raw requests of every step, before
deployment — nothing is sent.

REST steps are built by the same function ``flow run`` uses and prepared by
the same HTTP session, so the preview shows the bytes the run sends
(headers in order, Content-Length, body), then redacted: a credential
header shows its scheme only, a JWT its header (so ``alg: none`` stays
visible) and never its payload or signature.  A secret that is not
available now (an unset ``env:`` variable) is shown as its reference.
SOAP steps show the envelope as it would leave, signed and encrypted as
the step demands (signatures are made fresh at run time, so digests and
nonces differ run to run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compare.flow.model import FlowError, MissingSecret, Secrets, select


def _raw_http(method: str, url: str, headers: Mapping[str, str], body: bytes | None, redactor: Any) -> str:
    import requests

    from rest.http.probes import Prober

    session = Prober().session
    prepared = session.prepare_request(requests.Request(method, url, headers=dict(headers), data=body))
    lines = [
        f"{prepared.method} {prepared.path_url} HTTP/1.1",
        f"Host: {requests.utils.urlparse(url).netloc}",
    ]
    safe = redactor.headers(dict(prepared.headers))
    lines += [f"{k}: {v}" for k, v in safe.items()]
    text = "\n".join(lines) + "\n"
    if prepared.body:
        raw = prepared.body if isinstance(prepared.body, bytes) else str(prepared.body).encode()
        text += "\n" + redactor(raw.decode("utf-8", "replace")) + "\n"
    return text


class _Shown:
    """No masking: the headers hold references (``<env:NAME>``), not values."""

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return dict(headers)

    def __call__(self, text: str) -> str:
        return text


def _expectation(step: Mapping[str, Any]) -> str:
    e = step["expect"]
    if e["outcome"] == "refused":
        return "refused (" + "/".join(str(s) for s in e.get("status", [401, 403])) + ")"
    if e["outcome"] == "no-cors-grant":
        return f"no CORS grant for {e.get('origin', '')}"
    return {"accepted": "accepted (2xx)", "no-plain-http": "not served over plain HTTP",
            "soap-fault": "refused with a SOAP Fault"}.get(e["outcome"], e["outcome"])  # fmt: skip


def preview(
    flow: Mapping[str, Any],
    *,
    base_url: str | None = None,
    only: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The raw requests of the flow's steps as text (redacted; nothing sent)."""
    from rest.http.probes import Redactor

    connection = dict(flow["connection"])
    if base_url:
        connection["base_url"] = base_url.rstrip("/")
    secrets = Secrets(flow.get("_base_dir"), env)
    out: list[str] = [
        f"# flow {flow['name']!r} ({flow['kind']}) at {connection['base_url']} — nothing is sent"
    ]
    if flow["kind"] == "soap":
        from compare.flow.soap_run import preview_soap

        out += preview_soap(flow, connection, select(flow, only), secrets)
        return "\n".join(out) + "\n"
    from compare.flow.rest_steps import build, step_url

    for _op, step in select(flow, only):
        redactor = Redactor()
        out.append(f"\n### {step['name']}  [{step['variation']}]  expect: {_expectation(step)}")
        try:
            built = build(connection, step, secrets)
        except MissingSecret as exc:
            req = step.get("request") or {}
            headers = dict(req.get("headers") or {})
            who = req.get("identity")
            ident = connection.get("identities", {}).get(who, {}) if who else {}
            if ident.get("token"):
                kind = req.get("token", "valid")
                note = "" if kind == "valid" else f", {kind} variant"
                headers["Authorization"] = f"Bearer <{ident['token']}{note}>"
            for name, ref in (ident.get("headers") or {}).items():
                headers[name] = f"<{ref}>"
            body = None
            if "json" in req:
                import json

                body = json.dumps(req["json"]).encode()
                headers["Content-Type"] = "application/json"
            out.append(f"# ({exc}: shown as a reference)")
            out.append(
                _raw_http(req.get("method", "GET"), step_url(connection, req), headers, body, _Shown())
            )
            continue
        except FlowError as exc:
            out.append(f"# cannot build this step: {exc}")
            continue
        for v in secrets.values:
            redactor.add_credential(v)
            redactor.add(v)
        for r in built:
            if r.label:
                out.append(f"# {r.label}")
            out.append(_raw_http(r.method, r.url, r.headers, r.body, redactor))
    return "\n".join(out) + "\n"
