"""Live HTTP-level security probes of a REST API (``apisec rest check URL``).

>>> from rest.http import check
>>> findings = check("https://api.example.com/v1/orders", token=token,
...                  openapi="openapi.yaml", roles="roles.yaml", ca_file="ca.pem")

Check ids: ``http.auth-not-enforced``, ``http.cors``, ``http.security-headers``,
``http.error-leak``, ``http.server-banner``, ``http.dangerous-methods``,
``http.plain-http``, ``http.basic-over-http``, ``http.apikey-in-query``,
``http.rate-limit``, ``authz.bola``, ``authz.bfla`` (see :mod:`rest.http.registry`).
"""

from __future__ import annotations

from rest.http import registry
from rest.http.authz import RolesMatrix, load_roles
from rest.http.probes import Exchange, Prober, Redactor, Throttled
from rest.http.runner import DEFAULT_BURST, check, parse_header

__all__ = [
    "DEFAULT_BURST",
    "Exchange",
    "Prober",
    "Redactor",
    "RolesMatrix",
    "Throttled",
    "check",
    "load_roles",
    "parse_header",
    "registry",
]
