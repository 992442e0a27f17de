"""Turn a REST flow step into the exact request it sends, and judge the answer.

One function builds the request for both ``flow preview`` and ``flow run``,
so the preview shows what the run sends.  Forged tokens come from
:mod:`rest.jwt.forge` (the builders the JWT probe uses) applied to the
step identity's real token at build time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from compare.flow.model import FlowError, MissingSecret, Secrets

GARBAGE_TOKEN = "apisec-garbage-token.not-a-jwt"
"""The garbage-token variation's credential (not a secret)."""


@dataclass(frozen=True)
class BuiltRequest:
    """One request a step sends (a step may send several, e.g. each key-confusion spelling)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    label: str = ""


@dataclass
class Verdict:
    """A step's outcome: ``pass``/``fail``/``error`` and why."""

    status: str
    evidence: str
    exchanges: list[Any] = field(default_factory=list)


def step_url(connection: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    base = connection["base_url"].rstrip("/")
    url = base + "/" + str(request.get("path", "")).lstrip("/")
    if request.get("scheme"):
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.port is None:  # keep the port the service listens on: plain HTTP *to that port*
            netloc = f"{parts.hostname}:{443 if parts.scheme == 'https' else 80}"
        url = urlunsplit((request["scheme"], netloc, parts.path, parts.query, ""))
    return url


def _tokens(kind: str, token: str, connection: Mapping[str, Any], secrets: Secrets) -> list[tuple[str, str]]:
    """(label, token) pairs a token variation sends, forged from ``token``."""
    from rest.jwt import forge

    if kind == "valid":
        return [("", token)]
    if kind == "garbage":
        return [("garbage", GARBAGE_TOKEN)]
    if kind == "expired":
        ref = connection.get("expired_token")
        if not ref:
            raise FlowError("the expired-token step needs connection.expired_token")
        return [("expired", secrets.get(ref, what="the expired token"))]
    try:
        base = forge.Baseline.parse(token)
    except Exception as exc:  # noqa: BLE001 - BadInput from the forge: the identity's token is no JWT
        raise FlowError(f"cannot forge from the identity's token: {exc}") from None
    if kind == "alg-none":
        return [(f.variant, f.token) for f in forge.none_alg(base)[:1]]
    if kind == "tampered":
        return [(f.variant, f.token) for f in forge.tampered_payload(base)]
    if kind == "key-confusion":
        ref = connection.get("public_key")
        if not ref:
            raise FlowError("the key-confusion step needs connection.public_key")
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        pem = secrets.get(ref, what="the API's public key")
        try:
            if "CERTIFICATE-----" in pem:
                from cryptography import x509

                key = x509.load_pem_x509_certificate(pem.encode()).public_key()
            else:
                key = load_pem_public_key(pem.encode())
        except ValueError:
            raise FlowError(f"{ref} is not a PEM public key or certificate") from None
        # the exact bytes too: a verifier that HMACs with open(path).read() uses those
        return [(f.variant, f.token) for f in forge.key_confusion(base, key, raw=pem.encode())]
    raise FlowError(f"unknown token variation {kind!r}")


def build(connection: Mapping[str, Any], step: Mapping[str, Any], secrets: Secrets) -> list[BuiltRequest]:
    """The request(s) ``step`` sends, with secrets resolved (raises
    :class:`MissingSecret` when one is not available)."""
    req = step.get("request") or {}
    method = str(req.get("method", "GET"))
    url = step_url(connection, req)
    headers: dict[str, str] = {}
    body: bytes | None = None
    if "json" in req:
        body = json.dumps(req["json"]).encode()
        headers["Content-Type"] = "application/json"
    headers.update({str(k): str(v) for k, v in (req.get("headers") or {}).items()})
    who = req.get("identity")
    if who is None:
        return [BuiltRequest(method, url, headers, body)]
    ident = connection["identities"][who]
    for name, ref in (ident.get("headers") or {}).items():
        headers[name] = secrets.get(ref, what=f"identity {who!r} header {name}")
    if "token" not in ident:
        if req.get("token", "valid") != "valid":
            raise FlowError(f"step {step['name']!r} forges a token but identity {who!r} has none")
        return [BuiltRequest(method, url, headers, body)]
    token = secrets.get(ident["token"], what=f"identity {who!r} token")
    out = []
    for label, tok in _tokens(str(req.get("token", "valid")), token, connection, secrets):
        out.append(BuiltRequest(method, url, {**headers, "Authorization": f"Bearer {tok}"}, body, label))
    return out


def judge(step: Mapping[str, Any], exchanges: list[Any], transport_error: str | None = None) -> Verdict:
    """Compare the answers with the step's expectation.

    ``exchanges`` are :class:`rest.http.probes.Exchange` objects;
    ``transport_error`` is set when the connection itself failed (only the
    plain-HTTP expectation reads that as a pass: nothing answered on the
    cleartext channel)."""
    expect = step["expect"]
    outcome = expect["outcome"]
    if transport_error is not None:
        if outcome == "no-plain-http":
            return Verdict("pass", f"no HTTP answer over plain HTTP ({transport_error})", exchanges)
        return Verdict("error", f"the request could not be completed: {transport_error}", exchanges)
    codes = ", ".join(str(e.status) + (f" ({e.note})" if e.note else "") for e in exchanges)
    if outcome == "accepted":
        ok = all(200 <= e.status < 300 for e in exchanges)
        return Verdict(
            "pass" if ok else "error", f"answered {codes}" + ("" if ok else " (expected 2xx)"), exchanges
        )
    if outcome == "refused":
        allowed = set(expect.get("status") or [401, 403])
        accepted = [e for e in exchanges if 200 <= e.status < 300]
        if accepted:
            return Verdict("fail", f"accepted: answered {codes}", exchanges)
        if all(e.status in allowed for e in exchanges):
            return Verdict("pass", f"refused: answered {codes}", exchanges)
        return Verdict(
            "error", f"answered {codes}, neither accepted nor a refusal ({sorted(allowed)})", exchanges
        )
    if outcome == "no-cors-grant":
        origin = expect.get("origin", "")
        granted = []
        for e in exchanges:
            acao = e.header("Access-Control-Allow-Origin").strip()
            if acao and acao in (origin, "*", "null"):
                creds = e.header("Access-Control-Allow-Credentials").strip().lower() == "true"
                granted.append(
                    f"Access-Control-Allow-Origin: {acao}" + (" with credentials" if creds else "")
                )
        if granted:
            return Verdict(
                "fail", f"foreign origin {origin} granted ({'; '.join(granted)}), {codes}", exchanges
            )
        return Verdict("pass", f"foreign origin {origin} not granted (answered {codes})", exchanges)
    if outcome == "no-plain-http":
        # the rule of http.plain-http: the API served (2xx) or authenticated (401/403) in cleartext
        served = [e for e in exchanges if 200 <= e.status < 300 or e.status in (401, 403)]
        if served:
            return Verdict("fail", f"the API answers over plain HTTP: {codes}", exchanges)
        return Verdict("pass", f"plain HTTP does not serve the API ({codes})", exchanges)
    raise FlowError(f"step {step['name']!r}: outcome {outcome!r} does not apply to a REST step")


__all__ = ["BuiltRequest", "GARBAGE_TOKEN", "MissingSecret", "Verdict", "build", "judge", "step_url"]
