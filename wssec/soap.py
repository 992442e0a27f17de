"""SOAP 1.1/1.2 envelope structure and the WS-Security namespaces.

Every wssec module finds the Body, the Header and the Security header through
these functions, so the structural rules that defeat signature wrapping
(exactly one Body and at most one Header as direct children of the Envelope,
one Security header per actor) are enforced in a single place.
"""

from __future__ import annotations

import secrets

from lxml import etree

from wssec.errors import MalformedMessage
from wssec.xmldsig import algorithms as _alg
from wssec.xmldsig.ids import WSU_NS, id_map  # re-exported: the one ID map WS-Security and SAML share

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11_NS = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
# Spelled once, in wssec.xmldsig (the DSig/Enc namespaces) and wssec.xmldsig.ids (wsu).
DS_NS = _alg.DS
DS11_NS = _alg.DS11
XENC_NS = _alg.XENC
XENC11_NS = _alg.XENC11
EC14N_NS = _alg.EXC_C14N
WSA_NS = "http://www.w3.org/2005/08/addressing"
SAML1_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
SAML2_NS = "urn:oasis:names:tc:SAML:2.0:assertion"

SOAP_NAMESPACES = {"1.1": SOAP11_NS, "1.2": SOAP12_NS}

# Token profile URIs shared by signer, verifier and the other token modules.
TOKEN_PROFILE_X509 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"
X509V3 = TOKEN_PROFILE_X509 + "#X509v3"
X509PKIPATHV1 = TOKEN_PROFILE_X509 + "#X509PKIPathv1"
X509SKI = TOKEN_PROFILE_X509 + "#X509SubjectKeyIdentifier"
THUMBPRINT_SHA1 = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
TOKEN_PROFILE_UT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = TOKEN_PROFILE_UT + "#PasswordText"
PASSWORD_DIGEST = TOKEN_PROFILE_UT + "#PasswordDigest"

# The id attributes a signer reuses for its own References (element_id);
# what a verifier resolves, and scans for duplicates, is wssec.xmldsig.ids.
ID_ATTRIBUTES = (f"{{{WSU_NS}}}Id", "Id", "ID", "AssertionID")

_VERSION_OF_NS = {SOAP11_NS: "1.1", SOAP12_NS: "1.2"}
# Qualified names per SOAP namespace, built once: envelope_parts runs on
# every message (etree.QName and f-strings per child cost more than the walk).
_VERSION_OF_TAG = {f"{{{ns}}}Envelope": v for ns, v in _VERSION_OF_NS.items()}
_PARTS_OF_VERSION = {v: (f"{{{ns}}}Header", f"{{{ns}}}Body") for ns, v in _VERSION_OF_NS.items()}


def soap_version(root: etree._Element) -> str:
    """``"1.1"`` or ``"1.2"`` from the Envelope namespace; refuses anything else."""
    version = _VERSION_OF_TAG.get(root.tag)  # type: ignore[call-overload]
    if version is not None:
        return version
    if not isinstance(root.tag, str):
        raise MalformedMessage("not a SOAP message: the root is not an element")
    raise MalformedMessage(f"not a SOAP 1.1/1.2 message: root element is {etree.QName(root).text}")


def envelope_parts(root: etree._Element) -> tuple[str, etree._Element | None, etree._Element]:
    """``(soap_version, header_or_None, body)`` of an Envelope.

    Only *direct* children of the Envelope count, and a second Body or Header
    is refused: a verifier that picked "the first Body" in document order
    while the application read another would be wrapped.
    """
    version = soap_version(root)
    header_tag, body_tag = _PARTS_OF_VERSION[version]
    header = body = None
    for child in root.iterchildren(etree.Element):
        tag = child.tag
        if tag == header_tag:
            if header is not None:
                raise MalformedMessage("SOAP envelope has more than one Header")
            if body is not None:
                raise MalformedMessage("SOAP Header must come before the Body")
            header = child
        elif tag == body_tag:
            if body is not None:
                raise MalformedMessage("SOAP envelope has more than one Body")
            body = child
        else:
            # SOAP 1.2: Header?, Body only.  SOAP 1.1: nothing between Header
            # and Body (the 1.1 schema) and nothing after the Body (WS-I BP
            # R1011): an extra element is where wrapped content hides.
            raise MalformedMessage(f"unexpected element {etree.QName(child).localname} in the SOAP Envelope")
    if body is None:
        raise MalformedMessage("SOAP envelope has no Body")
    return version, header, body


#: SOAP 1.2's explicit name for the ultimate receiver's role: a header with
#: this role is the ultimate receiver's exactly as one without a role is.
ULTIMATE_RECEIVER = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"


_WSSE_SECURITY = f"{{{WSSE_NS}}}Security"


def _actor_of(security: etree._Element, soap_ns: str) -> str | None:
    if soap_ns == SOAP12_NS:
        role = security.get(f"{{{SOAP12_NS}}}role")
        return None if role == ULTIMATE_RECEIVER else role
    return security.get(f"{{{SOAP11_NS}}}actor")


def security_header(
    root: etree._Element,
    actor: str | None = None,
    create: bool = False,
    parts: tuple[str, etree._Element | None, etree._Element] | None = None,
) -> etree._Element | None:
    """The ``wsse:Security`` header for ``actor`` (None: the ultimate receiver).

    More than one Security header for the same actor is refused (WS-Security
    1.1 §6.1: a second one is how attackers smuggle their own tokens past a
    receiver that reads "the first"). With ``create=True`` a missing Header
    and Security header are created (mustUnderstand="1") and returned.
    ``parts`` passes an :func:`envelope_parts` result already computed.
    """
    version, header, body = parts or envelope_parts(root)
    soap_ns = SOAP_NAMESPACES[version]
    if version == "1.2" and actor == ULTIMATE_RECEIVER:
        actor = None
    found = None
    if header is not None:
        for child in header:
            if child.tag != _WSSE_SECURITY:
                continue
            if _actor_of(child, soap_ns) != actor:
                continue
            if found is not None:
                who = f"actor {actor!r}" if actor else "the ultimate receiver"
                raise MalformedMessage(f"more than one wsse:Security header for {who}")
            found = child
    if found is not None or not create:
        return found
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header", nsmap={root.prefix: soap_ns} if root.prefix else None)
        body.addprevious(header)
    sec = etree.Element(f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    sec.set(f"{{{soap_ns}}}mustUnderstand", "1" if version == "1.1" else "true")
    if actor is not None:
        sec.set(f"{{{soap_ns}}}actor" if version == "1.1" else f"{{{soap_ns}}}role", actor)
    header.insert(0, sec)
    return sec


def element_id(element: etree._Element) -> str | None:
    """The id an element is referenced by (wsu:Id, Id, ID or AssertionID)."""
    for attr in ID_ATTRIBUTES:
        value = element.get(attr)
        if value is not None:
            return value
    return None


def ensure_wsu_id(element: etree._Element, prefix: str) -> str:
    """Return the element's id, adding a random ``wsu:Id`` if it has none.

    Existing ``Id``/``ID``/``AssertionID`` attributes are reused (SAML
    assertions and xenc elements carry their own id attribute and must not get
    a second one).
    """
    existing = element_id(element)
    if existing is not None:
        return existing
    value = f"{prefix}-{secrets.token_hex(8)}"
    element.set(f"{{{WSU_NS}}}Id", value)
    return value


__all__ = [
    "BASE64_BINARY",
    "DS_NS",
    "EC14N_NS",
    "ID_ATTRIBUTES",
    "PASSWORD_DIGEST",
    "PASSWORD_TEXT",
    "SAML1_NS",
    "SAML2_NS",
    "SOAP11_NS",
    "SOAP12_NS",
    "THUMBPRINT_SHA1",
    "ULTIMATE_RECEIVER",
    "WSA_NS",
    "WSSE11_NS",
    "WSSE_NS",
    "WSU_NS",
    "X509PKIPATHV1",
    "X509SKI",
    "X509V3",
    "XENC_NS",
    "element_id",
    "envelope_parts",
    "ensure_wsu_id",
    "id_map",
    "security_header",
    "soap_version",
]
