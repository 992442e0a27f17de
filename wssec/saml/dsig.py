"""Enveloped XML signatures on SAML elements: made, and checked strictly.

Verification runs on apisec's one XML-DSig engine (lxml exc-c14n and
pyca/cryptography, :mod:`wssec.dsig`, the algorithm table of
:mod:`wssec.xmldsig.algorithms`, the ID map of :mod:`wssec.xmldsig.ids` and
the key policy of :mod:`wssec.trust`), the same primitives as WS-Security;
libxmlsec1 (python-xmlsec) only *makes* signatures (the Issuer) and is
imported on first use, never by verification.  What this module adds is the part
SAML libraries got wrong for a decade (signature wrapping): *which* element a
signature authenticates.  A signature is accepted for ``target`` only when

* it is a direct ``ds:Signature`` child of ``target`` (not the first one
  found somewhere in document order), and the only one there;
* its SignedInfo has exactly one Reference, whose URI is ``#`` + the
  target's *own* ID, and that ID names exactly one element in the whole
  document (every ID-like attribute value is unique, or the input is refused);
* its transforms are enveloped-signature (+ exc-c14n) and nothing else, the
  algorithms are on an allow-list (SHA-1 only on request), and the Signature
  holds nothing but SignedInfo, SignatureValue and KeyInfo (no ds:Object in
  which an attacker can park the original content);
* the key that verifies it belongs to a certificate trusted by
  :class:`~wssec.saml.trust.SamlTrust` at the verification instant.

The enveloped-signature transform runs on a copy of the document, so the
caller's tree (maybe a whole SOAP envelope another verifier is working on)
is left untouched, and the node that was verified *is* ``target``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from wssec import dsig
from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation, UntrustedKey, WssecError
from wssec.keys import PrivateKey
from wssec.saml import ns
from wssec.saml.trust import SamlTrust, TrustDecision
from wssec.trust import cert_public_key
from wssec.xmldsig.ids import id_map
from wssec.xmldsig.references import SAML_RULES, CheckedReference, check_reference, reference_digest

if TYPE_CHECKING:
    import xmlsec

# Allowed methods (the URIs are wssec.xmldsig.algorithms'); SHA-1 only when asked.
_SIGNATURE_METHODS = frozenset(
    {ns.RSA_SHA256, ns.RSA_SHA384, ns.RSA_SHA512, ns.ECDSA_SHA256, ns.ECDSA_SHA384, ns.ECDSA_SHA512}
)
_SHA1_SIGNATURE = frozenset({ns.RSA_SHA1})


def _xmlsec():  # noqa: ANN202 - the python-xmlsec module
    """python-xmlsec, imported (and its libxml2 checked against lxml's) on
    first use: only signing needs it, so ``import wssec`` does not load it."""
    import xmlsec

    from wssec._libcheck import check_libxml_versions

    check_libxml_versions()
    return xmlsec


def _xmlsec_method(uri: str) -> object:
    c = _xmlsec().constants
    return {
        ns.RSA_SHA256: c.TransformRsaSha256,
        ns.RSA_SHA384: c.TransformRsaSha384,
        ns.RSA_SHA512: c.TransformRsaSha512,
        ns.ECDSA_SHA256: c.TransformEcdsaSha256,
        ns.ECDSA_SHA384: c.TransformEcdsaSha384,
        ns.ECDSA_SHA512: c.TransformEcdsaSha512,
    }[uri]


_DS = ns.DS_NS
_SIGNATURE = ns.q(_DS, "Signature")


@dataclass(frozen=True)
class SignatureCheck:
    """A verified enveloped signature and the trust decision behind it."""

    element: etree._Element
    """The ds:Signature element (in the caller's tree)."""
    trust: TrustDecision
    signature_method: str
    digest_method: str


# --------------------------------------------------------------------------- ids


def own_id_attribute(target: etree._Element) -> str:
    """The attribute holding the ID of a SAML Assertion/Response (by version)."""
    tag = etree.QName(target)
    if tag.namespace == ns.SAML1_NS and tag.localname == "Assertion":
        return "AssertionID"
    if tag.namespace == ns.SAMLP1_NS and tag.localname == "Response":
        return "ResponseID"
    return "ID"


def check_unique_ids(root: etree._Element) -> None:
    """Refuse a document in which one ID value names two elements: the one
    ID map of :mod:`wssec.xmldsig.ids` (shared with WS-Security)."""
    id_map(root)


# ----------------------------------------------------------------------- signing


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def signature_method_for(key: PrivateKey) -> str:
    """rsa-sha256 for RSA keys, ecdsa-sha256 for EC keys (named, not guessed)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return ns.RSA_SHA256
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ns.ECDSA_SHA256
    raise PolicyViolation(f"unsupported signing key type {type(key).__name__}")


def signing_key(key: PrivateKey, cert: x509.Certificate) -> xmlsec.Key:
    """The libxmlsec1 key (with its certificate) for :func:`sign_enveloped`;
    build it once per identity and reuse it (parsing the PEM costs more than signing)."""
    xmlsec = _xmlsec()
    xkey = xmlsec.Key.from_memory(_pem_key(key), xmlsec.constants.KeyDataFormatPem)
    xkey.load_cert_from_memory(_pem_cert(cert), xmlsec.constants.KeyDataFormatCertPem)
    return xkey


def sign_enveloped(
    target: etree._Element,
    *,
    key: PrivateKey,
    cert: x509.Certificate,
    chain: tuple[x509.Certificate, ...] = (),
    position: int,
    xmlsec_key: xmlsec.Key | None = None,
) -> etree._Element:
    """Insert an enveloped exc-c14n signature over ``target`` at child ``position``.

    The Reference points at the target's own ID; KeyInfo carries the signer
    certificate (and ``chain``), which is what SAML relying parties and
    ``xmlsec1 --verify`` expect.
    """
    id_attr = own_id_attribute(target)
    target_id = target.get(id_attr)
    if not target_id:
        raise MalformedMessage(f"element to sign has no {id_attr}")
    method = signature_method_for(key)
    xmlsec = _xmlsec()
    _C = xmlsec.constants
    sig = xmlsec.template.create(target, _C.TransformExclC14N, _xmlsec_method(method), ns="ds")
    target.insert(position, sig)
    ref = xmlsec.template.add_reference(sig, _C.TransformSha256, uri="#" + target_id)
    xmlsec.template.add_transform(ref, _C.TransformEnveloped)
    xmlsec.template.add_transform(ref, _C.TransformExclC14N)
    x509_data = xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(sig))
    xmlsec.template.x509_data_add_certificate(x509_data)
    ctx = xmlsec.SignatureContext()
    ctx.register_id(target, id_attr)
    ctx.key = xmlsec_key if xmlsec_key is not None else signing_key(key, cert)
    try:
        ctx.sign(sig)
    except xmlsec.Error as exc:
        raise PolicyViolation(f"signing failed: {exc}") from None
    # xmlsec fills one X509Certificate with the key's certificate; add the chain after it.
    if chain:
        for c in chain:
            el = etree.SubElement(x509_data, ns.q(_DS, "X509Certificate"))
            el.text = base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
    return sig


# ------------------------------------------------------------------ verification


def signature_of(target: etree._Element) -> etree._Element | None:
    """The ds:Signature that is a *direct child* of ``target`` (None if unsigned).

    Never the first Signature in document order: that is how the
    "depth-first signature" wrapping variants (pysaml2 CVE-2021-21238) work.
    """
    sigs = [c for c in target if c.tag == _SIGNATURE]
    if len(sigs) > 1:
        raise InvalidSignature(f"{etree.QName(target).localname} has {len(sigs)} Signature elements")
    return sigs[0] if sigs else None


def _one(parent: etree._Element, local: str, what: str) -> etree._Element:
    found = parent.findall(ns.q(_DS, local))
    if len(found) != 1:
        raise InvalidSignature(f"{what}: expected exactly one ds:{local}, found {len(found)}")
    return found[0]


def _check_structure(
    sig: etree._Element, target_id: str, *, allow_sha1: bool
) -> tuple[str, CheckedReference]:
    """Check the Signature's shape and algorithms; return the signature
    method and the one Reference, checked by the shared Reference checker
    (:mod:`wssec.xmldsig.references`, SAML's rules)."""
    allowed = {ns.q(_DS, n) for n in ("SignedInfo", "SignatureValue", "KeyInfo")}
    for child in sig:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in allowed:
            raise InvalidSignature(
                f"Signature contains {etree.QName(child).localname} (only SignedInfo, SignatureValue, KeyInfo allowed)"
            )
    signed_info = _one(sig, "SignedInfo", "Signature")
    _one(sig, "SignatureValue", "Signature")
    c14n = _one(signed_info, "CanonicalizationMethod", "SignedInfo").get("Algorithm")
    if c14n != ns.EXC_C14N:
        raise InvalidSignature(f"canonicalization {c14n!r} refused (exc-c14n required)")
    method = _one(signed_info, "SignatureMethod", "SignedInfo").get("Algorithm") or ""
    sig_methods = _SIGNATURE_METHODS | (_SHA1_SIGNATURE if allow_sha1 else frozenset())
    if method not in sig_methods:
        hint = " (SHA-1 is refused unless explicitly allowed)" if method in _SHA1_SIGNATURE else ""
        raise InvalidSignature(f"signature method {method!r} refused{hint}")
    refs = signed_info.findall(ns.q(_DS, "Reference"))
    if len(refs) != 1:
        raise InvalidSignature(f"SAML signature must have exactly one Reference, found {len(refs)}")
    ref = refs[0]
    uri = ref.get("URI")
    if uri != "#" + target_id:
        raise InvalidSignature(
            f"signature Reference URI {uri!r} does not point at the signed element's own ID {target_id!r}"
        )
    return method, check_reference(ref, SAML_RULES, allow_sha1=allow_sha1)


def _keyinfo_certificates(sig: etree._Element) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for el in sig.iterfind(f"{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/{{{_DS}}}X509Certificate"):
        text = "".join(el.itertext())
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise InvalidSignature("KeyInfo holds an unreadable X509Certificate") from None
    return certs


@dataclass(frozen=True)
class _Prepared:
    """What the engine needs from a structurally checked enveloped Signature
    before any key is tried (cheap: no canonicalisation of the target)."""

    signed_info_c14n: bytes
    signature_value: bytes


def _prepare(sig: etree._Element) -> _Prepared:
    """Canonical SignedInfo and the SignatureValue (after _check_structure)."""
    signed_info = sig.find(ns.q(_DS, "SignedInfo"))
    cm = signed_info.find(ns.q(_DS, "CanonicalizationMethod"))
    return _Prepared(
        dsig.c14n(signed_info, dsig.inclusive_prefixes(cm)),
        dsig.b64decode(_one(sig, "SignatureValue", "Signature").text, "SignatureValue"),
    )


def _signature_holds(prepared: _Prepared, cert: x509.Certificate, method: str) -> bool:
    """True when ``cert``'s key verifies the SignedInfo."""
    try:
        dsig.verify_bytes(cert_public_key(cert), method, prepared.signature_value, prepared.signed_info_c14n)
    except InvalidSignature:
        return False
    except PolicyViolation:  # the key type does not fit the method: not this key
        return False
    return True


def _digest_holds(ref: CheckedReference, target: etree._Element, sig: etree._Element) -> bool:
    """True when the Reference's digest matches ``target`` (computed only
    after a trusted key verified the SignedInfo: an untrusted or forged
    signer costs no canonicalisation of the document)."""
    try:
        actual = reference_digest(ref, target, sig, envelops=True)
    except ValueError:
        raise InvalidSignature("the Signature is not inside the element it signs") from None
    return hmac.compare_digest(ref.expected, actual)


def verify_enveloped(
    target: etree._Element,
    *,
    trust: SamlTrust,
    at: dt.datetime,
    allow_sha1: bool = False,
) -> SignatureCheck:
    """Verify the enveloped signature that authenticates ``target`` itself.

    Raises InvalidSignature (unsigned, malformed, wrong reference, bad
    digest/value), UntrustedKey (key not trusted at ``at``) or
    MalformedMessage (duplicate IDs).  On success ``target`` (the very node
    passed in) is what the signature covers.
    """
    what = etree.QName(target).localname
    sig = signature_of(target)
    if sig is None:
        raise InvalidSignature(f"{what} is not signed")
    id_attr = own_id_attribute(target)
    target_id = target.get(id_attr)
    if not target_id:
        raise MalformedMessage(f"signed {what} has no {id_attr} attribute")
    root = target.getroottree().getroot()
    check_unique_ids(root)
    method, ref = _check_structure(sig, target_id, allow_sha1=allow_sha1)
    digest = dsig.DIGEST_ALGORITHMS[ref.digest_name][0]
    try:
        prepared = _prepare(sig)
    except MalformedMessage as exc:  # unreadable base64 in the Signature
        raise InvalidSignature(str(exc)) from None

    # Trust before work: the signer's certificate is decided (chain, key
    # policy, entity binding) before anything is canonicalised beyond the
    # small SignedInfo, and the document is digested only once a trusted key
    # verified the SignedInfo.
    keyinfo = _keyinfo_certificates(sig)
    if keyinfo:
        decisions: list[TrustDecision] = []
        errors: list[WssecError] = []
        for cert in keyinfo:
            try:
                decisions.append(trust.decide(cert, [c for c in keyinfo if c is not cert], at))
            except (UntrustedKey, PolicyViolation) as exc:
                errors.append(exc)
        if not decisions:
            raise errors[0]
        for decision in decisions:
            if _signature_holds(prepared, decision.certificate, method):
                if not _digest_holds(ref, target, sig):
                    break  # the same content digests the same for every key
                return SignatureCheck(sig, decision, method, digest)
        raise InvalidSignature(f"signature on {what} {target_id!r} does not verify")
    # No certificate in KeyInfo: SAML metadata style, try the pinned keys.
    for cert in trust.pinned_certificates():
        try:
            holds = _signature_holds(prepared, cert, method)
        except UntrustedKey:  # a pinned certificate whose key cannot be read
            continue
        if holds:
            if not _digest_holds(ref, target, sig):
                break
            return SignatureCheck(sig, trust.decide(cert, [], at), method, digest)
    raise InvalidSignature(f"signature on {what} {target_id!r} does not verify with any trusted key")


__all__ = [
    "SignatureCheck",
    "check_unique_ids",
    "own_id_attribute",
    "sign_enveloped",
    "signature_method_for",
    "signing_key",
    "signature_of",
    "verify_enveloped",
]
