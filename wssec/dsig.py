"""XML-DSig primitives for WS-Security: algorithm names, exclusive c14n, and
raw signing/verification with pyca/cryptography.

We do XML-DSig ourselves (lxml for exc-c14n, cryptography for the maths)
instead of driving xmlsec templates because the verifier must know *which
nodes* each Reference covered (node identity is the defence against
signature wrapping), and because it is several times faster.  Only the
algorithms WS-I BSP allows are known here; everything else is refused by
name, never guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from copy import deepcopy

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from lxml import etree

from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation
from wssec.xmldsig.algorithms import (
    DIGEST_ALGORITHMS,
    DIGEST_BY_URI,
    EXC_C14N,
    EXC_C14N_COMMENTS,
    SIGNATURE_ALGORITHMS,
    SIGNATURE_BY_URI,
    WEAK,
)

# The algorithm table is wssec.xmldsig.algorithms' (one table for WS-Security,
# SAML, policy, BSP checks and XML Encryption); re-exported under the old names.
from wssec.xmldsig.algorithms import ENVELOPED as ENVELOPED_SIGNATURE


def signature_algorithm(name: str) -> tuple[str, type[hashes.HashAlgorithm], str]:
    """``(uri, hash class, key kind)`` for a signature algorithm name."""
    try:
        return SIGNATURE_ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(SIGNATURE_ALGORITHMS))
        raise ValueError(f"unknown signature algorithm {name!r} (known: {known})") from None


def digest_algorithm(name: str) -> tuple[str, str]:
    """``(uri, hashlib name)`` for a digest algorithm name."""
    try:
        return DIGEST_ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(DIGEST_ALGORITHMS))
        raise ValueError(f"unknown digest algorithm {name!r} (known: {known})") from None


def c14n(
    element: etree._Element,
    inclusive_prefixes: list[str] | None = None,
    comments: bool = False,
    *,
    exclusive: bool = True,
) -> bytes:
    """Exclusive XML canonicalisation 1.0 of ``element``'s subtree, in the
    namespace context of its document (lxml copies the ancestors'
    declarations so PrefixList prefixes resolve).  ``exclusive=False``:
    inclusive Canonical XML 1.0, XML-DSig's default when a Reference's last
    transform leaves a node-set (an enveloped-signature transform alone)."""
    try:
        if not exclusive:
            return etree.tostring(element, method="c14n", exclusive=False, with_comments=comments)
        return etree.tostring(
            element,
            method="c14n",
            exclusive=True,
            with_comments=comments,
            inclusive_ns_prefixes=inclusive_prefixes or None,
        )
    except etree.C14NError:  # libxml2 refuses e.g. relative namespace URIs (found by fuzzing)
        raise MalformedMessage("signed content cannot be canonicalised (relative namespace URI?)") from None


_INCLUSIVE_NAMESPACES = "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces"


def inclusive_prefixes(method: etree._Element) -> list[str] | None:
    """The PrefixList of an exc-c14n CanonicalizationMethod/Transform's
    InclusiveNamespaces (None when it has none), for :func:`c14n`.  One
    rule for WS-Security and SAML: at most one InclusiveNamespaces and 64
    prefixes, else MalformedMessage."""
    found = list(method.iterchildren(_INCLUSIVE_NAMESPACES))  # C-level, unlike findall's ElementPath
    if not found:
        return None
    if len(found) > 1:
        raise MalformedMessage("more than one InclusiveNamespaces")
    prefixes = (found[0].get("PrefixList") or "").split()
    if len(prefixes) > 64:
        raise MalformedMessage("InclusiveNamespaces PrefixList is too long")
    return prefixes


def _child_path(element: etree._Element) -> tuple[etree._Element, list[int]]:
    """``(root, [child index, ...])`` locating ``element`` from its root."""
    path: list[int] = []
    parent = element.getparent()
    while parent is not None:
        path.append(parent.index(element))
        element, parent = parent, parent.getparent()
    return element, path[::-1]


def c14n_enveloped(
    element: etree._Element,
    signature: etree._Element,
    inclusive_prefixes: list[str] | None = None,
    comments: bool = False,
    *,
    exclusive: bool = True,
) -> bytes:
    """Exclusive c14n of ``element`` after the enveloped-signature transform
    (XML-DSig 1.1 §6.6.4): ``signature``, a descendant of ``element``, and
    everything under it are removed; the text around it stays.

    The verified tree is never touched: the transform runs on a copy of the
    whole document (so ancestors' namespace declarations still resolve
    InclusiveNamespaces prefixes), located by child indices.
    """
    root, target_path = _child_path(element)
    sig_root, sig_path = _child_path(signature)
    if sig_root is not root or sig_path[: len(target_path)] != target_path or sig_path == target_path:
        raise ValueError("the signature is not inside the element the transform applies to")
    copy = deepcopy(root)
    target = copy
    for i in target_path:
        target = target[i]
    sig = target
    for i in sig_path[len(target_path) :]:
        sig = sig[i]
    parent = sig.getparent()
    if sig.tail:  # the text after the Signature is not part of it
        prev = sig.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + sig.tail
        else:
            parent.text = (parent.text or "") + sig.tail
    parent.remove(sig)
    return c14n(target, inclusive_prefixes, comments, exclusive=exclusive)


_HASH_CONSTRUCTORS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def digest(data: bytes, hashlib_name: str) -> bytes:
    ctor = _HASH_CONSTRUCTORS.get(hashlib_name)  # direct constructors skip hashlib.new's lookup
    return ctor(data).digest() if ctor is not None else hashlib.new(hashlib_name, data).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str | None, what: str) -> bytes:
    """Strict-enough base64 for XML text (whitespace allowed, nothing else)."""
    if text is None:
        raise MalformedMessage(f"{what} is empty")
    try:  # fast path: one line of canonical base64
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    cleaned = "".join(text.split())
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage(f"{what} is not valid base64") from None


def sign_bytes(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, algorithm: str, data: bytes) -> bytes:
    """SignatureValue bytes for ``data`` (ECDSA as r||s per RFC 4050/6931)."""
    _uri, h, kind = signature_algorithm(algorithm)
    if kind == "rsa":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{algorithm} needs an RSA key")
        return key.sign(data, padding.PKCS1v15(), h())
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{algorithm} needs an EC key")
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


_PKCS1V15 = padding.PKCS1v15()
_HASHES: dict[type, hashes.HashAlgorithm] = {}


def _hash(h: type[hashes.HashAlgorithm]) -> hashes.HashAlgorithm:
    """One instance per hash class (they hold no state), made once."""
    inst = _HASHES.get(h)
    if inst is None:
        inst = _HASHES[h] = h()
    return inst


def verify_bytes(public_key: object, algorithm_uri: str, signature: bytes, data: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``signature`` is valid.

    Pure cryptography: whether the key is strong enough and its certificate
    meant for signing is :class:`wssec.trust.KeyPolicy`'s job, checked by the
    caller before this."""
    name, h, kind = SIGNATURE_BY_URI[algorithm_uri]
    try:
        if kind == "rsa":
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise PolicyViolation(f"signature algorithm {name} does not match the signer's key type")
            public_key.verify(signature, data, _PKCS1V15, _hash(h))
            return
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise PolicyViolation(f"signature algorithm {name} does not match the signer's key type")
        size = (public_key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            raise InvalidSignature("ECDSA SignatureValue has the wrong length")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_hash(h)))
    except _CryptoInvalidSignature:
        raise InvalidSignature(
            "SignatureValue does not verify with the signer's key (message altered?)"
        ) from None


__all__ = [
    "DIGEST_ALGORITHMS",
    "DIGEST_BY_URI",
    "EXC_C14N",
    "EXC_C14N_COMMENTS",
    "ENVELOPED_SIGNATURE",
    "SIGNATURE_ALGORITHMS",
    "SIGNATURE_BY_URI",
    "WEAK",
    "b64",
    "b64decode",
    "c14n",
    "c14n_enveloped",
    "digest",
    "digest_algorithm",
    "inclusive_prefixes",
    "signature_algorithm",
    "sign_bytes",
    "verify_bytes",
]
