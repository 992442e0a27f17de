"""Static security audit of OpenAPI 3.0/3.1 contracts (``openapi.*`` checks).

>>> from rest.openapi import audit
>>> findings = audit("samples/rest_service/openapi.yaml")

:func:`load_spec` is shared with the live probes (:mod:`rest.http`), which
use the declared security of each operation to probe its enforcement.
"""

from __future__ import annotations

from rest.openapi import registry
from rest.openapi.audit import audit
from rest.openapi.loader import OpenAPIDocument, Operation, SecurityScheme, load_spec

__all__ = ["OpenAPIDocument", "Operation", "SecurityScheme", "audit", "load_spec", "registry"]
