"""``apisec flow generate --openapi``: a REST flow from an OpenAPI contract.

Per operation: the happy path (examples from the contract, the identity the
roles matrix allows), then the security variations with their expected
outcome — no credentials, a garbage token, an expired token, forged tokens
(alg none, tampered payload, key confusion), the wrong role and another
user's object (from the roles matrix, the same file ``apisec rest check
--roles`` reads), a CORS preflight from a foreign origin and the plain-HTTP
variant.  A variation that needs material the caller did not give (an
expired token, the public key, a roles matrix) is left out and named in the
returned notes, never generated as a step that cannot run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from compare.flow.examples import parameter_value, request_body
from compare.flow.model import FLOW_VERSION, FlowError

FOREIGN_ORIGIN = "https://evil.apisec.invalid"
"""The origin of the CORS variation (``.invalid`` never resolves: RFC 2606)."""
REFUSED = [401, 403]
REFUSED_AUTHZ = [401, 403, 404]
"""Access-control refusals: 404 hides an object's existence (as ``authz.*`` count it)."""
_SENTINEL = "\x00"


class _PlaceholderEnv(Mapping[str, str]):
    """Lets :func:`rest.http.authz.load_roles` parse a matrix without the
    secrets: every ``${VAR}`` becomes a marker this module turns into an
    ``env:VAR`` reference (the flow never holds a value)."""

    def __getitem__(self, key: str) -> str:
        return f"{_SENTINEL}{key}{_SENTINEL}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _ref_of(value: str, where: str) -> str:
    m = re.fullmatch(f"{_SENTINEL}([A-Za-z_][A-Za-z0-9_]*){_SENTINEL}", value)
    if not m:
        raise FlowError(
            f"roles file: {where} must be exactly one ${{VAR}} placeholder (flows hold references, never values)"
        )
    return f"env:{m.group(1)}"


def _identities(matrix: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for role, headers in matrix.roles.items():
        if role == "anonymous":
            continue
        ident: dict[str, Any] = {}
        for name, value in headers.items():
            if name.lower() == "authorization" and value.startswith("Bearer "):
                ident["token"] = _ref_of(value[len("Bearer ") :], f"roles.{role}.token")
            elif name.lower() == "authorization":
                raise FlowError(
                    f"roles file: role {role!r} uses Basic credentials; flows carry bearer tokens or headers"
                )
            else:
                ident.setdefault("headers", {})[name] = _ref_of(value, f"roles.{role}.headers.{name}")
        out[role] = ident
    return out


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def _concrete_path(op: Any) -> str:
    path = op.path
    query: dict[str, str] = {}
    for p in op.parameters:
        if p.location == "path":
            path = path.replace("{" + p.name + "}", quote(parameter_value(p), safe=""))
        elif p.location == "query" and p.required:
            query[p.name] = parameter_value(p)
    return path + (f"?{urlencode(query)}" if query else "")


def _base_url(given: str | None, spec: Any, matrix: Any) -> str:
    url = given or (spec.servers[0] if spec.servers else None) or (matrix.base_url if matrix else None)
    if not url:
        raise FlowError("no base URL: give --base-url (the contract declares no servers)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FlowError(f"base URL {url!r} must be an absolute http(s) URL")
    return url.rstrip("/")


def generate_openapi(
    spec_path: str | Path,
    *,
    roles: str | Path | None = None,
    base_url: str | None = None,
    token: str = "env:APISEC_TOKEN",
    expired_token: str | None = None,
    public_key: str | None = None,
    ca_file: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Build a REST flow from the OpenAPI file ``spec_path``.

    ``token`` is the default identity's reference (used when there is no
    roles matrix); ``expired_token`` and ``public_key`` (references) enable
    the expired and key-confusion variations.  Returns the flow (validated
    against the flow schema by :func:`~compare.flow.model.dump_flow` when it
    is written) and notes naming what was left out and why.
    Raises :class:`FlowError` / :class:`rest.errors.BadInput` for bad input.
    """
    from rest.http.authz import load_roles
    from rest.openapi.loader import load_spec

    spec = load_spec(spec_path)
    matrix = load_roles(roles, env=_PlaceholderEnv()) if roles is not None else None
    notes: list[str] = []
    identities = _identities(matrix) if matrix else {"user": {"token": token}}
    default_identity = next(iter(identities))
    base = _base_url(base_url, spec, matrix)
    connection: dict[str, Any] = {"base_url": base}
    if ca_file:
        connection["ca_file"] = ca_file
    connection["identities"] = identities
    if expired_token:
        connection["expired_token"] = expired_token
    else:
        notes.append("expired-token variations left out: give --expired-token-env/--expired-token-file")
    if public_key:
        connection["public_key"] = public_key
    else:
        notes.append("key-confusion variations left out: give --public-key (the API's verification key, PEM)")
    if matrix is None:
        notes.append("wrong-role and BOLA variations left out: give --roles (the roles matrix)")
    if urlsplit(base).scheme != "https":
        notes.append("plain-HTTP variations left out: the base URL is already plain http://")

    # state-changing operations that remove objects run last, so they do not
    # take away the objects the other operations' happy paths read
    ordered = sorted(spec.operations, key=lambda o: o.method == "delete")
    operations = []
    used: set[str] = set()
    for op in ordered:
        raw_op = spec.data["paths"][op.path][op.method]
        name = op.operation_id or f"{op.method.upper()} {op.path}"
        if name in used:
            name = f"{name} ({op.method.upper()} {op.path})"
        used.add(name)
        operations.append(_operation(op, raw_op, spec.data, name, matrix, default_identity, connection))
    flow = {
        "apisec_flow": FLOW_VERSION,
        "name": str(spec.data.get("info", {}).get("title") or Path(spec_path).stem),
        "kind": "rest",
        "source": str(spec_path),
        "connection": connection,
        "operations": operations,
    }
    return flow, notes  # validated once, by dump_flow when it is written (and load_flow when read)


def _operation(
    op: Any,
    raw_op: Mapping[str, Any],
    doc: Mapping[str, Any],
    name: str,
    matrix: Any,
    default_identity: str,
    connection: Mapping[str, Any],
) -> dict[str, Any]:
    method = op.method.upper()
    path = _concrete_path(op)
    rx = _template_regex(op.path)
    matches = [r for r in (matrix.requests if matrix else ()) if r.method == method and rx.match(r.path)]
    identity: str | None = None if op.public else default_identity
    for r in matches:
        allowed = [a for a in r.allow if a != "anonymous"]
        if allowed:
            identity, path = allowed[0], r.path
            break
    media, body = request_body(raw_op, doc)
    base_req: dict[str, Any] = {"method": method, "path": path, "identity": identity}
    if body is not None and media and "json" in media:
        base_req["json"] = body
    steps: list[dict[str, Any]] = []
    names: set[str] = set()

    def add(variation: str, request: dict[str, Any], expect: dict[str, Any], suffix: str = "") -> None:
        step_name = f"{name}/{variation}" + (f"/{suffix}" if suffix else "")
        n = 2
        while step_name in names:
            step_name = f"{name}/{variation}/{suffix + '-' if suffix else ''}{n}"
            n += 1
        names.add(step_name)
        steps.append({"name": step_name, "variation": variation, "request": request, "expect": expect})

    happy = dict(base_req)
    if identity is not None:
        happy["token"] = "valid"
    add("happy-path", happy, {"outcome": "accepted"})
    if not op.public:
        add("no-credentials", {**base_req, "identity": None}, {"outcome": "refused", "status": REFUSED})
        tokens = [("garbage-token", "garbage"), ("alg-none", "alg-none"), ("tampered-token", "tampered")]
        if connection.get("expired_token"):
            tokens.insert(1, ("expired-token", "expired"))
        if connection.get("public_key"):
            tokens.append(("key-confusion", "key-confusion"))
        for variation, kind in tokens:
            add(variation, {**base_req, "token": kind}, {"outcome": "refused", "status": REFUSED})
        for r in matches:
            variation = "bola" if r.check_id == "authz.bola" else "wrong-role"
            for role in r.deny:
                if role == "anonymous":  # the no-credentials step covers it
                    continue
                req = {**base_req, "path": r.path, "identity": role, "token": "valid"}
                add(variation, req, {"outcome": "refused", "status": REFUSED_AUTHZ}, role)
    preflight_headers = {
        "Origin": FOREIGN_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    add(
        "cors-foreign-origin",
        {"method": "OPTIONS", "path": path, "identity": None, "headers": preflight_headers},
        {"outcome": "no-cors-grant", "origin": FOREIGN_ORIGIN},
    )
    if urlsplit(connection["base_url"]).scheme == "https":
        add(
            "plain-http",
            {"method": method, "path": path, "identity": None, "scheme": "http"},
            {"outcome": "no-plain-http"},
        )
    out: dict[str, Any] = {"name": name, "method": method, "path": op.path, "steps": steps}
    return out
