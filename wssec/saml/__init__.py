"""SAML 1.1/2.0 assertions: issue, verify, and carry as WS-Security tokens.

* :class:`Issuer` builds signed assertions (and SAML 2.0 Responses).
* :func:`verify` checks a bare Assertion or a samlp:Response and returns the
  assertion *as signed* (:class:`VerifiedAssertion`); :func:`verify_element`
  does the same for an assertion element already parsed, e.g. one found in a
  WS-Security header (the hook ``wssec.Verifier`` calls).

See docs/wssec-saml.md for what is refused and why.
"""

from wssec.saml.issuer import Issuer
from wssec.saml.model import VerifiedAssertion
from wssec.saml.ns import KEY_IDENTIFIER_VALUE_TYPE, TOKEN_TYPE
from wssec.saml.trust import SamlTrust
from wssec.saml.verify import verify, verify_all, verify_element

__all__ = [
    "KEY_IDENTIFIER_VALUE_TYPE",
    "TOKEN_TYPE",
    "Issuer",
    "SamlTrust",
    "VerifiedAssertion",
    "verify",
    "verify_all",
    "verify_element",
]
