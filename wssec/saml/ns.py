"""SAML and XML-DSig names in one place (namespaces, URIs, token profile ids).

Kept apart from the logic so the issuer, the verifier, the XSW generator and
the WS-Security code (H1's Signer/Verifier) all spell them identically.
"""

from __future__ import annotations

from wssec.soap import DS_NS, SAML1_NS, SAML2_NS, WSU_NS  # noqa: F401 - re-exported, one spelling

SAMLP2_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAMLP1_NS = "urn:oasis:names:tc:SAML:1.0:protocol"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XS_NS = "http://www.w3.org/2001/XMLSchema"

STATUS_SUCCESS2 = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_SUCCESS1 = "samlp:Success"  # SAML 1.x uses a QName value

# SubjectConfirmation methods, by version; the short names are apisec's.
CONFIRMATION_METHODS2 = {
    "bearer": "urn:oasis:names:tc:SAML:2.0:cm:bearer",
    "sender-vouches": "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches",
    "holder-of-key": "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key",
}
CONFIRMATION_METHODS1 = {
    "bearer": "urn:oasis:names:tc:SAML:1.0:cm:bearer",
    "sender-vouches": "urn:oasis:names:tc:SAML:1.0:cm:sender-vouches",
    "holder-of-key": "urn:oasis:names:tc:SAML:1.0:cm:holder-of-key",
}
CONFIRMATIONS = tuple(CONFIRMATION_METHODS2)

NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
ATTRNAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
ATTRNAME_NAMESPACE1 = "urn:apisec:saml:attribute"
AUTHN_CONTEXT_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
AUTHN_METHOD1_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.0:am:unspecified"
KEYINFO_CONFIRMATION_TYPE = "saml2:KeyInfoConfirmationDataType"

# WS-Security SAML Token Profile 1.1: token types and KeyIdentifier ValueTypes
# (a SecurityTokenReference to an assertion in the same header).
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1"
TOKEN_TYPE = {
    "2.0": TOKEN_PROFILE + "#SAMLV2.0",
    "1.1": TOKEN_PROFILE + "#SAMLV1.1",
}
KEY_IDENTIFIER_VALUE_TYPE = {
    "2.0": TOKEN_PROFILE + "#SAMLID",
    "1.1": "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID",
}

# XML-DSig algorithms the SAML verifier accepts (SHA-1 only when asked):
# spelled once, in wssec.xmldsig.algorithms.
from wssec.xmldsig.algorithms import (  # noqa: E402, F401 - re-exported, one spelling
    ECDSA_SHA256,
    ECDSA_SHA384,
    ECDSA_SHA512,
    ENVELOPED,
    EXC_C14N,
    RSA_SHA1,
    RSA_SHA256,
    RSA_SHA384,
    RSA_SHA512,
    SHA1,
    SHA256,
    SHA384,
    SHA512,
)


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local`` (what lxml uses for tags)."""
    return f"{{{ns}}}{local}"


# Attribute names that act as XML IDs: the one set of wssec.xmldsig.ids.
from wssec.xmldsig.ids import ID_ATTRIBUTES  # noqa: E402, F401 - re-exported
