"""Access-control probes from a roles matrix (``authz.bola`` / ``authz.bfla``).

A tool from outside cannot know who *should* see what; the matrix says it.
The YAML file lists roles (each with credentials, taken from the
environment so the file holds no secret) and requests with the roles that
must be allowed and denied::

    base_url: https://api.example.com      # optional; default: the checked URL's origin
    roles:
      alice: {token: ${ALICE_TOKEN}}       # → Authorization: Bearer …
      bob:   {headers: {X-Api-Key: ${BOB_KEY}}}
      ops:   {basic: {username: ops, password: ${OPS_PASSWORD}}}
    requests:
      - name: alice's order
        method: GET
        path: /orders/1
        check: bola                        # bola: object level, bfla: function level
        allow: [alice]
        deny: [bob, anonymous]             # 'anonymous' = no credentials
        operation: /orders/{id}            # optional: the route template (read by rest.guard)

Denied roles are probed first.  A denied role that gets 2xx is a finding;
401/403/404 count as denied (404 hides existence).  An allowed role that is
refused makes the verdict a ``warn``: the matrix or a credential is wrong,
so denials by that role prove less.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from compare.findings import Finding, Status, finding
from rest import safeyaml
from rest.errors import BadInput
from rest.http import registry as ids
from rest.http.probes import Prober

ANONYMOUS = "anonymous"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CHECKS = {"bola": ids.BOLA, "bfla": ids.BFLA}


@dataclass(frozen=True)
class AuthzRequest:
    name: str
    method: str
    path: str
    check_id: str
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    body: Any = None
    operation: str | None = None
    """Optional route template (``/orders/{id}``) this concrete request is an
    instance of; :mod:`rest.guard` enforces the matrix per operation."""


@dataclass(frozen=True)
class RolesMatrix:
    base_url: str | None
    roles: Mapping[str, Mapping[str, str]]
    """Role name → credential headers (``anonymous`` → no headers)."""
    requests: tuple[AuthzRequest, ...]


def _expand(value: Any, env: Mapping[str, str], where: str) -> str:
    if not isinstance(value, (str, int)):
        raise BadInput(f"roles file: {where} must be a string")

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            raise BadInput(f"roles file: {where} uses ${{{name}}} but {name} is not set in the environment")
        return env[name]

    return _VAR.sub(sub, str(value))


def _credentials(name: str, spec: Any, env: Mapping[str, str]) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise BadInput(f"roles file: role {name!r} must be a mapping (token/headers/basic)")
    headers: dict[str, str] = {}
    if "token" in spec:
        headers["Authorization"] = "Bearer " + _expand(spec["token"], env, f"roles.{name}.token")
    if "basic" in spec:
        b = spec["basic"]
        if not isinstance(b, Mapping) or "username" not in b or "password" not in b:
            raise BadInput(f"roles file: roles.{name}.basic needs username and password")
        pair = f"{_expand(b['username'], env, f'roles.{name}.basic')}:{_expand(b['password'], env, f'roles.{name}.basic')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    for k, v in (spec.get("headers") or {}).items():
        headers[str(k)] = _expand(v, env, f"roles.{name}.headers.{k}")
    unknown = set(spec) - {"token", "basic", "headers", "description"}
    if unknown:
        raise BadInput(f"roles file: role {name!r} has unknown keys {sorted(unknown)}")
    if not headers:
        raise BadInput(f"roles file: role {name!r} has no credentials (token, basic or headers)")
    return headers


def load_roles(
    source: str | Path | Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    credentials: bool = True,
) -> RolesMatrix:
    """Parse and check a roles matrix (file path or mapping); ``${VAR}``
    placeholders come from ``env`` (default: the process environment).

    ``credentials=False`` reads only the roles' names and the requests (what
    an enforcing server such as :mod:`rest.guard` needs): no placeholder is
    expanded and every role maps to no headers."""
    env = os.environ if env is None else env
    if isinstance(source, Mapping):
        data: Any = source
    else:
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"roles file not found: {path}")
        try:
            data = safeyaml.load(path.read_text(encoding="utf-8"))  # libyaml, aliases bounded
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise BadInput(f"roles file {path} cannot be read: {' '.join(str(exc).split())[:160]}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("roles"), Mapping):
        raise BadInput("roles file: needs a 'roles' mapping and a 'requests' list")
    if not data["roles"]:
        raise BadInput("roles file: define at least one role under 'roles'")
    if not isinstance(data.get("requests"), list) or not data["requests"]:
        raise BadInput("roles file: needs a non-empty 'requests' list")
    roles = {
        str(n): _credentials(str(n), spec, env) if credentials else {} for n, spec in data["roles"].items()
    }
    if ANONYMOUS in roles:
        raise BadInput(f"roles file: '{ANONYMOUS}' is built in (no credentials); do not define it")
    roles[ANONYMOUS] = {}
    requests = []
    for i, r in enumerate(data["requests"]):
        where = f"requests[{i}]"
        if not isinstance(r, Mapping):
            raise BadInput(f"roles file: {where} must be a mapping")
        check = str(r.get("check", "")).lower()
        if check not in _CHECKS:
            raise BadInput(f"roles file: {where}.check must be 'bola' (object) or 'bfla' (function)")
        path = r.get("path")
        if not isinstance(path, str) or not path:
            raise BadInput(f"roles file: {where}.path is required")
        allow = tuple(str(x) for x in r.get("allow") or ())
        deny = tuple(str(x) for x in r.get("deny") or ())
        if not deny:
            raise BadInput(f"roles file: {where} denies nobody, so it tests nothing")
        for role in allow + deny:
            if role not in roles:
                raise BadInput(f"roles file: {where} names undefined role {role!r}")
        if set(allow) & set(deny):
            raise BadInput(f"roles file: {where} both allows and denies {sorted(set(allow) & set(deny))}")
        operation = r.get("operation")
        if operation is not None and (not isinstance(operation, str) or not operation.startswith("/")):
            raise BadInput(f"roles file: {where}.operation must be a path template starting with '/'")
        requests.append(
            AuthzRequest(
                name=str(r.get("name") or f"{r.get('method', 'GET')} {path}"),
                method=str(r.get("method", "GET")).upper(),
                path=path,
                check_id=_CHECKS[check],
                allow=allow,
                deny=deny,
                body=r.get("json"),
                operation=operation,
            )
        )
    base = data.get("base_url")
    return RolesMatrix(base_url=str(base) if base else None, roles=roles, requests=tuple(requests))


def _verdict(status: int) -> str:
    if 200 <= status < 300:
        return "allowed"
    if status in (401, 403, 404):
        return "denied"
    return "unclear"


def run_matrix(matrix: RolesMatrix, url: str, prober: Prober) -> list[Finding]:
    """Probe every (request, role) pair and return one finding per request."""
    for headers in matrix.roles.values():
        for v in headers.values():
            prober.redactor.add_credential(v)
    parts = urlsplit(url)
    base = matrix.base_url or f"{parts.scheme}://{parts.netloc}"
    out = []
    for req in matrix.requests:
        target_url = urljoin(base.rstrip("/") + "/", req.path.lstrip("/"))
        results = []
        for role in req.deny + req.allow:
            creds = matrix.roles[role]
            body = None
            headers = {}
            if req.body is not None:
                body = json.dumps(req.body).encode()
                headers["Content-Type"] = "application/json"
            ex = prober.send(
                req.method,
                target_url,
                credentials=creds or False,
                data=body,
                headers=headers,
                note=f"as {role}",
            )
            results.append((role, role in req.deny, ex.status, _verdict(ex.status)))
        violations = [f"{r} got {s}" for r, denied, s, v in results if denied and v == "allowed"]
        wrong_allow = [f"{r} got {s}" for r, denied, s, v in results if not denied and v != "allowed"]
        unclear = [f"{r} got {s}" for r, denied, s, v in results if denied and v == "unclear"]
        table = ", ".join(f"{r}→{s}" for r, _, s, _ in results)
        target = f"{req.method} {target_url}"
        if violations:
            kind = "another user's object" if req.check_id == ids.BOLA else "a higher role's function"
            out.append(
                finding(
                    req.check_id,
                    Status.FAIL,
                    target,
                    f"{req.name}: {'; '.join(violations)} — reached {kind} ({table})",
                )
            )
        elif wrong_allow or unclear:
            out.append(
                finding(
                    req.check_id,
                    Status.WARN,
                    target,
                    f"{req.name}: denials held, but "
                    + "; ".join(
                        (
                            [
                                f"allowed roles refused ({', '.join(wrong_allow)}): check the matrix/credentials"
                            ]
                            if wrong_allow
                            else []
                        )
                        + ([f"unclear answers ({', '.join(unclear)})"] if unclear else [])
                    )
                    + f" ({table})",
                )
            )
        else:
            out.append(finding(req.check_id, Status.PASS, target, f"{req.name}: {table}"))
    return out
