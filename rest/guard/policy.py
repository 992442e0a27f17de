"""Authorization from a roles matrix: roles to operations, and object ownership.

The guard reads the same ``roles.yaml`` that ``apisec rest check --roles``
probes with (:func:`rest.http.load_roles`, credentials not expanded), so the
policy a service enforces and the matrix apisec verifies it against are one
file.  How each entry is read:

* ``check: bfla`` (function level): the operation ``METHOD path`` is open to
  the roles in ``allow`` only.  ``anonymous`` in ``allow`` makes it public.
* ``check: bola`` (object level): any authenticated caller passes the role
  gate, and the **ownership hook** decides per object.  The entry's concrete
  ``path`` names one fixture object (it is what the checker requests), so
  give the route template it belongs to as ``operation: /orders/{id}``; the
  hook receives the template's parameters.

A request matching no entry gets ``default``: ``"authenticated"`` (any valid
token) or ``"deny"`` (403: list every operation).  A policy with object-level
entries and no ownership hook is refused at construction: it would
otherwise allow every object to every user (BOLA), silently.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from rest.errors import BadInput
from rest.http.authz import ANONYMOUS, load_roles
from rest.http.registry import BOLA

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}")


@dataclass(frozen=True)
class Principal:
    """Who the guard authenticated; handlers read it from
    ``scope["apisec.principal"]`` (see :func:`principal_of`)."""

    subject: str
    """``sub`` of the token (or of the introspection answer)."""
    roles: frozenset[str]
    """Role names as the roles matrix spells them (see ``roles_of``)."""
    claims: Mapping[str, Any] = field(repr=False)
    """The verified claims; the only token data to trust."""
    client_id: str | None = None
    """``client_id``/``azp`` when the token names one."""
    source: str = "jwt"
    """``jwt`` (validated locally) or ``introspection`` (RFC 7662)."""


OwnerCheck = Callable[[Principal, str, Mapping[str, str]], "bool | Awaitable[bool]"]
"""``(principal, method, path parameters) -> allowed`` for object-level operations."""


def default_roles(claims: Mapping[str, Any]) -> frozenset[str]:
    """Roles from the usual claims: ``roles`` (RFC 9068 §7.2.1.1), Keycloak's
    ``realm_access.roles``, and the ``scope``/``scp`` values."""
    out: set[str] = set()
    for value in (claims.get("roles"), (claims.get("realm_access") or {}).get("roles")):
        if isinstance(value, list):
            out.update(v for v in value if isinstance(v, str))
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            out.update(value.split())
        elif isinstance(value, list):
            out.update(v for v in value if isinstance(v, str))
    return frozenset(out)


@dataclass(frozen=True)
class Rule:
    """One operation of the matrix."""

    method: str
    template: str
    roles: frozenset[str]
    """Roles allowed through the function-level gate (empty + object_level: any authenticated)."""
    object_level: bool
    public: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts, pos = [], 0
        for m in _PARAM.finditer(self.template):
            parts.append(re.escape(self.template[pos : m.start()]))
            parts.append(f"(?P<{m.group(1)}>[^/]+)")
            pos = m.end()
        parts.append(re.escape(self.template[pos:]))
        object.__setattr__(self, "pattern", re.compile("".join(parts) + "/?"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


_ROUTE_MEMO = 4096


class _Route(NamedTuple):
    rule: Rule | None
    params: Mapping[str, str]
    obj: Rule | None
    obj_params: Mapping[str, str]
    allowed: Decision
    """The decision when the role gate passes and no object rule applies."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: Rule | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    public: bool = False
    object_denied: bool = False


_EMPTY: Mapping[str, str] = MappingProxyType({})
_NO_RULE = Decision(True, "authenticated (no rule for this operation)", params=_EMPTY)
_NOT_IN_POLICY = Decision(False, "operation not in the access policy", params=_EMPTY)


class AccessPolicy:
    """Decides whether a principal may call an operation."""

    def __init__(
        self,
        rules: Iterable[Rule],
        *,
        owner_check: OwnerCheck | None = None,
        default: Literal["authenticated", "deny"] = "authenticated",
    ) -> None:
        if default not in ("authenticated", "deny"):
            raise BadInput("access policy: default must be 'authenticated' or 'deny'")
        self.rules: tuple[Rule, ...] = tuple(rules)
        if any(r.object_level for r in self.rules) and owner_check is None:
            raise BadInput(
                "access policy: the matrix has object-level (bola) operations but no owner_check: "
                "without it every user could reach every object"
            )
        self.owner_check = owner_check
        self.default = default
        self._any_public = any(r.public for r in self.rules)
        # exact templates first, then the most specific (most literal characters)
        self._ordered = sorted(
            self.rules, key=lambda r: (bool(_PARAM.search(r.template)), -len(_PARAM.sub("", r.template)))
        )
        self._routes: dict[tuple[str, str], _Route] = {}
        """``(method, path)`` → its matches, worked out once per distinct
        request line (the rules are fixed), bounded by ``_ROUTE_MEMO``."""

    @classmethod
    def from_roles_file(
        cls,
        source: str | Path | Mapping[str, Any],
        *,
        owner_check: OwnerCheck | None = None,
        default: Literal["authenticated", "deny"] = "authenticated",
    ) -> AccessPolicy:
        """The policy a ``roles.yaml`` describes (see the module docstring)."""
        matrix = load_roles(source, credentials=False)
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for req in matrix.requests:
            template = req.operation or req.path.split("?", 1)[0]
            g = grouped.setdefault((req.method, template), {"roles": set(), "object": False, "public": False})
            g["roles"].update(r for r in req.allow if r != ANONYMOUS)
            g["object"] = g["object"] or req.check_id == BOLA
            g["public"] = g["public"] or ANONYMOUS in req.allow
        rules = []
        for (method, template), g in grouped.items():
            rules.append(
                Rule(
                    method,
                    template,
                    frozenset() if g["object"] else frozenset(g["roles"]),
                    g["object"],
                    public=g["public"],
                )
            )
        return cls(rules, owner_check=owner_check, default=default)

    def without(self, *, function_level: bool = False, object_level: bool = False) -> AccessPolicy:
        """A copy with one kind of rule dropped (how a service switches a control off on purpose)."""
        keep = [
            r
            for r in self.rules
            if not ((r.object_level and object_level) or (not r.object_level and function_level))
        ]
        return AccessPolicy(
            keep, owner_check=self.owner_check if not object_level else None, default=self.default
        )

    def match(self, method: str, path: str) -> tuple[Rule | None, dict[str, str]]:
        """The function-level rule for ``METHOD path`` (or ``None``) and its parameters."""
        method = "GET" if method == "HEAD" else method
        for rule in self._ordered:
            if rule.object_level or rule.method != method:
                continue
            m = rule.pattern.fullmatch(path)
            if m:
                return rule, m.groupdict()
        return None, {}

    def match_object(self, path: str) -> tuple[Rule | None, dict[str, str]]:
        """The object-level rule whose template ``path`` is an instance of, for
        any method: ownership is a property of the object, not of the verb."""
        for rule in self._ordered:
            if rule.object_level:
                m = rule.pattern.fullmatch(path)
                if m:
                    return rule, m.groupdict()
        return None, {}

    def _route(self, method: str, path: str) -> _Route:
        """Both matches for one request line, memoised: a service sees the
        same few operations over and over, and the rules never change.  The
        memo is emptied when full (paths are client-chosen: bounded memory).
        Parameters are read-only views, so no caller can edit the memo."""
        key = (method, path)
        hit = self._routes.get(key)
        if hit is None:
            rule, params = self.match(method, path)
            obj, obj_params = self.match_object(path)
            ro, obj_ro = MappingProxyType(params), MappingProxyType(obj_params)
            allowed = Decision(True, "allowed by rule", rule, ro) if rule is not None else _NO_RULE
            hit = _Route(rule, ro, obj, obj_ro, allowed)
            if len(self._routes) >= _ROUTE_MEMO:
                self._routes.clear()
            self._routes[key] = hit
        return hit

    def is_public(self, method: str, path: str) -> bool:
        if not self._any_public:  # the common case: no regex work before authentication
            return False
        rule = self._route(method, path).rule
        return rule is not None and rule.public

    async def decide(self, principal: Principal, method: str, path: str) -> Decision:
        route = self._route(method, path)
        rule, params, obj, obj_params = route.rule, route.params, route.obj, route.obj_params
        if rule is not None and rule.roles and not (rule.roles & principal.roles):
            return Decision(
                False, f"role not allowed (needs one of {', '.join(sorted(rule.roles))})", rule, params
            )
        if rule is None and obj is None and self.default == "deny":
            return _NOT_IN_POLICY
        if obj is not None:
            assert self.owner_check is not None
            verdict = self.owner_check(principal, method, obj_params)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict is not True:
                return Decision(False, "not the owner of this object", obj, obj_params, object_denied=True)
            return Decision(True, "owner (or allowed by the ownership hook)", obj, obj_params)
        return route.allowed  # the same answer for every caller the role gate let through


def principal_of(scope: Mapping[str, Any]) -> Principal | None:
    """The principal the guard put into an ASGI scope (``None`` on public routes)."""
    return scope.get("apisec.principal")


__all__: Sequence[str] = (
    "AccessPolicy",
    "Decision",
    "OwnerCheck",
    "Principal",
    "Rule",
    "default_roles",
    "principal_of",
)
