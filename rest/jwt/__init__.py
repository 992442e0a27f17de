"""JWT validation (RFC 8725), inspection, and forged-token probes.

``Validator`` validates; ``probe`` attacks a live API with forged tokens and
returns findings; ``inspect_token`` decodes without trusting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest.jwt.jwks import JWKSClient
from rest.jwt.keys import KeySet, VerificationKey
from rest.jwt.validator import Validator, VerifiedJWS, validate

if TYPE_CHECKING:
    from compare.findings import Finding


def probe(url: str, token: str, **kwargs: Any) -> list[Finding]:
    """Send forged variants of ``token`` to ``url``; see :func:`rest.jwt.probe.probe`."""
    from rest.jwt.probe import probe as _probe

    return _probe(url, token, **kwargs)


def inspect_token(token: str) -> Any:
    """Decode without verifying; see :func:`rest.jwt.inspect.inspect_token`."""
    from rest.jwt.inspect import inspect_token as _inspect

    return _inspect(token)


__all__ = [
    "JWKSClient",
    "KeySet",
    "Validator",
    "VerificationKey",
    "VerifiedJWS",
    "inspect_token",
    "probe",
    "validate",
]
