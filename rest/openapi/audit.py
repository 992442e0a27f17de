"""The static audit: security weaknesses visible in the OpenAPI contract,
before anything is deployed.

One function per check id; each returns its findings, and a check that
finds nothing returns one ``pass`` so a report shows what was verified, not
only what failed.  Targets point into the document with a JSON pointer
(``openapi.yaml#/paths/~1orders/post``) so a reviewer lands on the line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from compare.findings import Finding, Severity, Status, finding
from rest.openapi import registry as ids
from rest.openapi.loader import OpenAPIDocument, _pointer, load_spec


def audit(spec: str | Path | Mapping[str, Any] | OpenAPIDocument) -> list[Finding]:
    """Audit an OpenAPI 3.0/3.1 document (path, parsed mapping or loaded
    document) and return ``openapi.*`` findings.

    A document that cannot be read or is not valid OpenAPI raises
    :class:`rest.errors.BadInput` (CLI exit 2): auditing a contract the
    spec rejects would produce verdicts about a document no tool agrees on.
    """
    doc = spec if isinstance(spec, OpenAPIDocument) else load_spec(spec)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(doc))
    return findings


def _target(doc: OpenAPIDocument, pointer: str = "") -> str:
    return f"{doc.source}{pointer}"


def _pass(check_id: str, doc: OpenAPIDocument, evidence: str) -> list[Finding]:
    return [finding(check_id, Status.PASS, _target(doc), evidence)]


def _label(op) -> str:
    return f"{op.method.upper()} {op.path}"


def check_no_security(doc: OpenAPIDocument) -> list[Finding]:
    """No schemes, no requirement anywhere, or operations that inherit none."""
    out: list[Finding] = []
    if not doc.schemes:
        out.append(
            finding(
                ids.NO_SECURITY,
                Status.FAIL,
                _target(doc, _pointer("components", "securitySchemes")),
                "components.securitySchemes is missing or empty: the contract declares no way to authenticate",
            )
        )
    protected_anywhere = bool(doc.security and not all(len(r) == 0 for r in doc.security)) or any(
        op.security_declared_on_operation and not op.public for op in doc.operations
    )
    if not protected_anywhere:
        out.append(
            finding(
                ids.NO_SECURITY,
                Status.FAIL,
                _target(doc, _pointer("security")),
                "no top-level security requirement and no operation declares one: every operation is public",
            )
        )
    else:
        for op in doc.operations:
            if op.security is None:
                out.append(
                    finding(
                        ids.NO_SECURITY,
                        Status.FAIL,
                        _target(doc, op.pointer),
                        f"{_label(op)} declares no security and there is no top-level requirement to inherit",
                    )
                )
    undefined = sorted(
        {
            name
            for reqs in [doc.security or ()] + [op.security or () for op in doc.operations]
            for req in reqs
            for name in req
            if name not in doc.schemes
        }
    )
    if undefined:
        out.append(
            finding(
                ids.NO_SECURITY,
                Status.FAIL,
                _target(doc, _pointer("components", "securitySchemes")),
                "security requirements name undefined schemes: " + ", ".join(undefined),
            )
        )
    if out:
        return out
    schemes = ", ".join(
        f"{s.name} ({s.type}{' ' + s.scheme if s.scheme else ''})" for s in doc.schemes.values()
    )
    return _pass(ids.NO_SECURITY, doc, f"schemes declared and applied: {schemes}")


def _intentionally_public(op) -> bool:
    """A POST whose own Operation Object says ``security: []``: the author opted it out of
    authentication on purpose (sign-in, sign-up, password reset are POSTs by nature)."""
    return op.method.lower() == "post" and op.security_declared_on_operation and op.security == ()


def check_unprotected_operations(doc: OpenAPIDocument) -> list[Finding]:
    """State-changing operations left without authentication: PUT/PATCH/DELETE opted out, any
    write that inherits a public top level, and optional authentication (an empty ``{}``)."""
    out = []
    for op in doc.operations:
        if op.state_changing and op.security is not None and op.public and not _intentionally_public(op):
            how = "security: []" if not op.security else "an empty {} alternative (authentication optional)"
            where = (
                "on the operation" if op.security_declared_on_operation else "inherited from the top level"
            )
            out.append(
                finding(
                    ids.UNPROTECTED_OPERATION,
                    Status.FAIL,
                    _target(doc, op.pointer),
                    f"{_label(op)} changes state but is public: {how} {where}",
                )
            )
    if out:
        return out
    n = sum(1 for op in doc.operations if op.state_changing and not _intentionally_public(op))
    return _pass(
        ids.UNPROTECTED_OPERATION, doc, f"all {n} other state-changing operations require credentials"
    )


def check_public_operations(doc: OpenAPIDocument) -> list[Finding]:
    """POSTs declared public on purpose: a lower-severity reminder, not a missing control."""
    out = [
        finding(
            ids.PUBLIC_OPERATION,
            Status.WARN,
            _target(doc, op.pointer),
            f"{_label(op)} is public on purpose ('security: []' on the operation): intended for "
            "anonymous use such as sign-in, sign-up or password reset; make sure it must be and is rate-limited",
        )
        for op in doc.operations
        if _intentionally_public(op)
    ]
    return out or _pass(ids.PUBLIC_OPERATION, doc, "no POST operation is declared public")


def _users(doc: OpenAPIDocument, scheme: str) -> list[str]:
    return [_label(op) for op in doc.operations if op.security and any(scheme in r for r in op.security)]


def _scheme_rule(check_id: str, predicate: Callable, describe: Callable, ok: str) -> Callable:
    def rule(doc: OpenAPIDocument) -> list[Finding]:
        out = []
        for s in doc.schemes.values():
            if predicate(s):
                used = _users(doc, s.name)
                use = (
                    f"used by {len(used)} operation(s): {', '.join(used[:5])}"
                    if used
                    else "declared, not used"
                )
                out.append(
                    finding(
                        check_id,
                        Status.FAIL,
                        _target(doc, _pointer("components", "securitySchemes", s.name)),
                        f"{describe(s)} ({use})",
                    )
                )
        return out or _pass(check_id, doc, ok)

    rule.__name__ = f"check_{check_id.split('.', 1)[1].replace('-', '_')}"
    return rule


check_basic_auth = _scheme_rule(
    ids.BASIC_AUTH,
    lambda s: s.type == "http" and s.scheme == "basic",
    lambda s: f"scheme {s.name!r} is HTTP Basic: a reusable password travels with every request",
    "no HTTP Basic scheme",
)
check_apikey_in_query = _scheme_rule(
    ids.APIKEY_IN_QUERY,
    lambda s: s.type == "apiKey" and s.location == "query",
    lambda s: (
        f"scheme {s.name!r} takes the API key in query parameter {s.param_name!r} (logged with the URL)"
    ),
    "no API key in the query string",
)
check_oauth2_implicit = _scheme_rule(
    ids.OAUTH2_IMPLICIT,
    lambda s: s.type == "oauth2" and "implicit" in s.flows,
    lambda s: f"scheme {s.name!r} offers the implicit flow (tokens in the redirect URI fragment)",
    "no OAuth 2.0 implicit flow",
)
check_oauth2_password = _scheme_rule(
    ids.OAUTH2_PASSWORD,
    lambda s: s.type == "oauth2" and "password" in s.flows,
    lambda s: f"scheme {s.name!r} offers the resource owner password credentials flow",
    "no OAuth 2.0 password flow",
)


def _is_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_servers(doc: OpenAPIDocument) -> list[Finding]:
    """``http://`` servers and OAuth/OIDC endpoints."""
    seen: dict[str, str] = {}
    for url in doc.servers:
        seen.setdefault(url, _pointer("servers"))
    for op in doc.operations:
        for url in op.servers:
            seen.setdefault(url, op.pointer + "/servers")
    for s in doc.schemes.values():
        base = _pointer("components", "securitySchemes", s.name)
        for flow, obj in s.flows.items():
            for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
                value = obj.get(key)
                if isinstance(value, str):
                    seen.setdefault(value, f"{base}/flows/{flow}/{key}")
        if s.openid_url:
            seen.setdefault(s.openid_url, f"{base}/openIdConnectUrl")
    out = []
    for url, pointer in seen.items():
        if url.lower().startswith("http://"):
            loop = _is_loopback(url)
            out.append(
                finding(
                    ids.HTTP_SERVER,
                    Status.FAIL,
                    _target(doc, pointer),
                    f"{url} is plain HTTP"
                    + (" (loopback: a development URL left in the contract)" if loop else ""),
                    severity=Severity.LOW if loop else None,
                )
            )
    return out or _pass(ids.HTTP_SERVER, doc, f"{len(seen)} URL(s), all https:// or relative")


def check_rate_limit_doc(doc: OpenAPIDocument) -> list[Finding]:
    """Operations that document no 429 response (informational)."""
    missing = [op for op in doc.operations if "429" not in op.responses]
    if not doc.operations:
        return _pass(ids.NO_RATE_LIMIT_DOC, doc, "no operations")
    if not missing:
        return _pass(ids.NO_RATE_LIMIT_DOC, doc, f"all {len(doc.operations)} operations document 429")
    if len(missing) == len(doc.operations):
        evidence = "no operation documents a 429 Too Many Requests response"
    else:
        labels = ", ".join(_label(op) for op in missing[:6]) + (" …" if len(missing) > 6 else "")
        evidence = f"{len(missing)} of {len(doc.operations)} operations document no 429: {labels}"
    return [finding(ids.NO_RATE_LIMIT_DOC, Status.WARN, _target(doc, _pointer("paths")), evidence)]


RULES: tuple[Callable[[OpenAPIDocument], list[Finding]], ...] = (
    check_no_security,
    check_unprotected_operations,
    check_public_operations,
    check_basic_auth,
    check_apikey_in_query,
    check_oauth2_implicit,
    check_oauth2_password,
    check_http_servers,
    check_rate_limit_doc,
)
