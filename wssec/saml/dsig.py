"""Enveloped XML signatures on SAML elements: made, and checked strictly.

libxmlsec1 (python-xmlsec, the library behind the ``xmlsec1`` tool) does the
canonicalisation and the cryptography.  What this module adds is the part
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

libxmlsec1 verifies a deep copy of the document with only ``target``'s ID
registered, so the caller's tree (maybe a whole SOAP envelope another
verifier is working on) is left untouched, and the node that was verified is
known by position: it *is* ``target``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
from dataclasses import dataclass

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation, UntrustedKey
from wssec.keys import PrivateKey
from wssec.saml import ns
from wssec.saml.trust import SamlTrust, TrustDecision

_C = xmlsec.constants
_SIGNATURE_METHODS = {
    ns.RSA_SHA256: _C.TransformRsaSha256,
    ns.RSA_SHA384: _C.TransformRsaSha384,
    ns.RSA_SHA512: _C.TransformRsaSha512,
    ns.ECDSA_SHA256: _C.TransformEcdsaSha256,
    ns.ECDSA_SHA384: _C.TransformEcdsaSha384,
    ns.ECDSA_SHA512: _C.TransformEcdsaSha512,
}
_DIGEST_METHODS = {
    ns.SHA256: _C.TransformSha256,
    ns.SHA384: _C.TransformSha384,
    ns.SHA512: _C.TransformSha512,
}
_SHA1_SIGNATURE = {ns.RSA_SHA1: _C.TransformRsaSha1}
_SHA1_DIGEST = {ns.SHA1: _C.TransformSha1}

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


_ID_XPATH = etree.XPath(
    "|".join(f"//@{a}" for a in ns.ID_ATTRIBUTES if not a.startswith("{")) + "|//@wsu:Id",
    namespaces={"wsu": ns.WSU_NS},
)


def check_unique_ids(root: etree._Element) -> None:
    """Refuse a document in which one ID value names two elements.

    All ID-like attributes count together: a lax resolver anywhere in the
    chain might use any of them, and a duplicate is how XSW variants make
    the verifier and the application look at different elements.
    """
    seen: dict[str, etree._Element] = {}
    for value in _ID_XPATH(root):
        el = value.getparent()
        prev = seen.setdefault(str(value), el)
        if prev is not el:
            raise MalformedMessage(
                f"duplicate ID {str(value)!r} in the document (signature wrapping refused)"
            )


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
    xkey = xmlsec.Key.from_memory(_pem_key(key), _C.KeyDataFormatPem)
    xkey.load_cert_from_memory(_pem_cert(cert), _C.KeyDataFormatCertPem)
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
    sig = xmlsec.template.create(target, _C.TransformExclC14N, _SIGNATURE_METHODS[method], ns="ds")
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


def _check_structure(sig: etree._Element, target_id: str, *, allow_sha1: bool) -> tuple[str, str]:
    """Check the Signature's shape and algorithms; return (signature, digest) methods."""
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
    sig_methods = dict(_SIGNATURE_METHODS, **(_SHA1_SIGNATURE if allow_sha1 else {}))
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
    transforms_el = ref.findall(ns.q(_DS, "Transforms"))
    algs: list[str] = []
    if transforms_el:
        if len(transforms_el) > 1:
            raise InvalidSignature("Reference has several Transforms elements")
        for t in transforms_el[0]:
            if not isinstance(t.tag, str):
                continue
            if t.tag != ns.q(_DS, "Transform"):
                raise InvalidSignature("unexpected element in Transforms")
            algs.append(t.get("Algorithm") or "")
    if algs not in ([ns.ENVELOPED], [ns.ENVELOPED, ns.EXC_C14N]):
        raise InvalidSignature(f"transforms {algs} refused (enveloped-signature then exc-c14n only)")
    digest = _one(ref, "DigestMethod", "Reference").get("Algorithm") or ""
    dig_methods = dict(_DIGEST_METHODS, **(_SHA1_DIGEST if allow_sha1 else {}))
    if digest not in dig_methods:
        hint = " (SHA-1 is refused unless explicitly allowed)" if digest in _SHA1_DIGEST else ""
        raise InvalidSignature(f"digest method {digest!r} refused{hint}")
    return method, digest


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


def _path_of(root: etree._Element, node: etree._Element) -> list[int]:
    path: list[int] = []
    while node is not root:
        parent = node.getparent()
        if parent is None:
            raise MalformedMessage("element is not inside the document")
        path.append(parent.index(node))
        node = parent
    return path[::-1]


_KEY_CACHE: dict[bytes, xmlsec.Key] = {}
_KEY_CACHE_MAX = 256


def _verification_key(cert: x509.Certificate) -> xmlsec.Key:
    """libxmlsec1 key for ``cert``, cached (PEM parsing costs a third of a
    verification); the context takes its own copy when the key is assigned."""
    der = cert.public_bytes(serialization.Encoding.DER)
    key = _KEY_CACHE.get(der)
    if key is None:
        try:
            key = xmlsec.Key.from_memory(_pem_cert(cert), _C.KeyDataFormatCertPem)
        except xmlsec.Error:
            raise UntrustedKey(
                "signing certificate's key cannot be used (unsupported key algorithm)"
            ) from None
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()
        _KEY_CACHE[der] = key
    return key


def _xmlsec_verify(
    target: etree._Element,
    sig: etree._Element,
    cert: x509.Certificate,
    method: str,
    digest: str,
) -> bool:
    """libxmlsec1 verification on a copy of the document; True if the signature holds."""
    root = target.getroottree().getroot()
    copy_root = copy.deepcopy(root)
    node = copy_root
    for i in _path_of(root, target):
        node = node[i]
    sig_copy = node[target.index(sig)]
    # The key is already chosen (and trusted); drop KeyInfo from the copy so
    # libxmlsec1 can never act on it (RetrievalMethod, unexpected key data).
    # KeyInfo is outside SignedInfo and inside the enveloped Signature, so
    # removing it changes neither the digest nor the signed bytes.
    for key_info in sig_copy.findall(ns.q(_DS, "KeyInfo")):
        sig_copy.remove(key_info)
    ctx = xmlsec.SignatureContext()
    ctx.register_id(node, own_id_attribute(node))
    for transform in (_C.TransformEnveloped, _C.TransformExclC14N):
        ctx.enable_reference_transform(transform)
    all_methods = {**_SIGNATURE_METHODS, **_SHA1_SIGNATURE}
    all_digests = {**_DIGEST_METHODS, **_SHA1_DIGEST}
    ctx.enable_reference_transform(all_digests[digest])
    ctx.enable_signature_transform(_C.TransformExclC14N)
    ctx.enable_signature_transform(all_methods[method])
    ctx.key = _verification_key(cert)
    try:
        ctx.verify(sig_copy)
    except xmlsec.Error:
        return False
    return True


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
    method, digest = _check_structure(sig, target_id, allow_sha1=allow_sha1)

    keyinfo = _keyinfo_certificates(sig)
    if keyinfo:
        decisions: list[TrustDecision] = []
        errors: list[UntrustedKey] = []
        for cert in keyinfo:
            try:
                decisions.append(trust.decide(cert, [c for c in keyinfo if c is not cert], at))
            except UntrustedKey as exc:
                errors.append(exc)
        if not decisions:
            raise errors[0]
        for decision in decisions:
            if _xmlsec_verify(target, sig, decision.certificate, method, digest):
                return SignatureCheck(sig, decision, method, digest)
        raise InvalidSignature(f"signature on {what} {target_id!r} does not verify")
    # No certificate in KeyInfo: SAML metadata style, try the pinned keys.
    for cert in trust.pinned_certificates():
        if _xmlsec_verify(target, sig, cert, method, digest):
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
