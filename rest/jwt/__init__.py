"""JWT validation (RFC 8725), inspection, and forged-token probes.

``Validator`` validates; ``probe`` attacks a live API with forged tokens and
returns findings; ``inspect_token`` decodes without trusting.

``probe`` is bound to the *function* here on purpose: importing the
submodule of the same name eagerly means later imports of it never rebind
the package attribute to the module.
"""

from __future__ import annotations

from rest.jwt.inspect import inspect_token
from rest.jwt.jwks import FetchNeeded, JWKSClient
from rest.jwt.keys import KeySet, VerificationKey
from rest.jwt.probe import probe
from rest.jwt.validator import Validator, VerifiedJWS, validate

__all__ = [
    "FetchNeeded",
    "JWKSClient",
    "KeySet",
    "Validator",
    "VerificationKey",
    "VerifiedJWS",
    "inspect_token",
    "probe",
    "validate",
]
