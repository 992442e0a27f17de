"""KeyInfo resolution: from a ds:KeyInfo (a WS-Security
SecurityTokenReference, ds:X509Data, or a SAML assertion reference) to the
certificate, extra chain certificates and public key that may have signed.

Only *which key* is decided here; whether it is trusted (path validation,
:class:`wssec.trust.TrustStore`) and good enough (:class:`wssec.trust.KeyPolicy`)
is the caller's next step.  Bare ``ds:KeyValue`` keys and external token
references are refused: a raw key or a remote token cannot be trusted.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from lxml import etree

from wssec import dsig
from wssec.errors import MalformedMessage, UntrustedKey
from wssec.keys import same_key  # re-exported: the one key comparison (wssec.keys.key_id)
from wssec.soap import (
    BASE64_BINARY,
    DS_NS,
    SAML1_NS,
    SAML2_NS,
    THUMBPRINT_SHA1,
    WSSE_NS,
    X509SKI,
    X509V3,
)
from wssec.tokens import find_by_identifier, find_by_issuer_serial, parse_bst
from wssec.trust import cert_public_key

SAML_VALUE_TYPES = (
    "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID",
    "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID",
    "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLAssertionID",
)
# A bare-name '#id'.  Colons are allowed: node-soap names its UsernameToken
# "SecurityToken-2026-01-01T00:00:00Z" (not an NCName), and WSS4J and
# xml-crypto resolve it; the id is only ever a key in the one id map, where
# duplicates are refused, never an XPointer expression (no parentheses).
ID_URI = re.compile(r"^#([A-Za-z_][A-Za-z0-9_.:\-]{0,255})$")
"""A same-document reference: ``#`` and an NCName-like id (':' allowed, as node-soap writes)."""

_DS_KEYVALUE = f"{{{DS_NS}}}KeyValue"
_SAML1_ASSERTION = f"{{{SAML1_NS}}}Assertion"
_SAML2_ASSERTION = f"{{{SAML2_NS}}}Assertion"
_WSSE_BINARYSECURITYTOKEN = f"{{{WSSE_NS}}}BinarySecurityToken"
_WSSE_KEYIDENTIFIER = f"{{{WSSE_NS}}}KeyIdentifier"
_WSSE_REFERENCE = f"{{{WSSE_NS}}}Reference"
_WSSE_SECURITY = f"{{{WSSE_NS}}}Security"
_WSSE_SECURITYTOKENREFERENCE = f"{{{WSSE_NS}}}SecurityTokenReference"

Resolved = tuple[x509.Certificate | None, list[x509.Certificate], Any, str]
"""``(certificate, extra chain certificates, public key, how KeyInfo named it)``."""


@dataclass(frozen=True)
class KeyContext:
    """What one message offers to resolve keys against."""

    ids: Mapping[str, etree._Element]
    """The message's ID map (wssec.xmldsig.ids)."""
    bsts: Mapping[str, list[x509.Certificate]]
    """BinarySecurityTokens of the Security header processed so far, by id."""
    saml_key: Callable[[etree._Element], Resolved]
    """Resolves a referenced SAML assertion (holder-of-key) to its key."""


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise MalformedMessage(f"{what} must appear exactly once")
    return found[0]


class KeyResolver:
    """Resolves KeyInfo against the receiver's known certificates (``certs``,
    for SKI/thumbprint/issuer-serial references) and trust anchors."""

    def __init__(self, certs: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]) -> None:
        self.certs = list(certs)
        self.anchors = list(anchors)

    def resolve(
        self, key_info: etree._Element | None, state: KeyContext
    ) -> tuple[x509.Certificate | None, list[x509.Certificate], Any, str]:
        """``(certificate, extra chain certs, public key, how)`` from KeyInfo."""
        if key_info is None:
            raise UntrustedKey("signature has no KeyInfo: cannot tell who signed")
        kids = list(key_info.iterchildren(etree.Element))
        if not kids:
            raise UntrustedKey("KeyInfo is empty: cannot tell who signed")
        if len(kids) > 4:
            raise MalformedMessage("KeyInfo holds too many key references")
        if len(kids) == 1:
            return self._resolve_one(kids[0], state)
        # Several references (e.g. an STR and a ds:X509Data): use those that
        # resolve, and refuse if they name different keys.
        found, errors = [], []
        for ref in kids:
            try:
                found.append(self._resolve_one(ref, state))
            except UntrustedKey as exc:
                errors.append(exc)
        if not found:
            raise errors[0]
        first = found[0]
        for other in found[1:]:
            if not same_key(first[2], other[2]):
                raise UntrustedKey("KeyInfo references name different keys")
        return first

    def _resolve_one(self, ref: etree._Element, state: KeyContext):
        if ref.tag == _WSSE_SECURITYTOKENREFERENCE:
            return self._resolve_str(ref, state)
        if ref.tag == f"{{{DS_NS}}}X509Data":
            return self._resolve_x509data(ref, state)
        if ref.tag == _DS_KEYVALUE:
            raise UntrustedKey("signature carries a bare KeyValue: a raw key cannot be trusted")
        raise UntrustedKey(f"unsupported KeyInfo content {etree.QName(ref).localname}")

    def _candidates(self, state: KeyContext) -> list[x509.Certificate]:
        out = list(self.certs)
        for certs in state.bsts.values():
            out.extend(certs[:1])
        out.extend(self.anchors)
        return out

    def _resolve_str(self, str_el: etree._Element, state: KeyContext):
        kids = list(str_el.iterchildren(etree.Element))
        if len(kids) != 1:
            raise MalformedMessage("SecurityTokenReference must hold exactly one reference")
        ref = kids[0]
        if ref.tag == _WSSE_REFERENCE:
            uri = ref.get("URI") or ""
            m = ID_URI.match(uri)
            if not m:
                raise UntrustedKey(
                    f"token reference {uri[:80]!r} is not a local '#id' (external tokens refused)"
                )
            target = state.ids.get(m.group(1))
            if target is None:
                raise UntrustedKey(f"token reference {uri[:80]} points at nothing in the message")
            if target.tag == _WSSE_BINARYSECURITYTOKEN:
                if target.getparent() is None or target.getparent().tag != _WSSE_SECURITY:
                    raise UntrustedKey("referenced BinarySecurityToken is not in the Security header")
                # the token as the header processor parsed it (ids are unique, so the
                # token known by this id is this target), else parsed (cached) here
                certs = state.bsts.get(m.group(1)) or parse_bst_cached(target)
                return certs[0], certs[1:], cert_public_key(certs[0]), "bst"
            if target.tag in (_SAML2_ASSERTION, _SAML1_ASSERTION):
                return state.saml_key(target)
            raise UntrustedKey(
                f"token reference points at a {etree.QName(target).localname}, not a certificate"
            )
        if ref.tag == _WSSE_KEYIDENTIFIER:
            vt = ref.get("ValueType") or ""
            if vt in SAML_VALUE_TYPES:
                aid = (ref.text or "").strip()
                target = state.ids.get(aid)
                if target is None or target.tag not in (
                    _SAML2_ASSERTION,
                    _SAML1_ASSERTION,
                ):
                    raise UntrustedKey(
                        f"SAML key identifier {aid[:80]!r} matches no assertion in the message"
                    )
                return state.saml_key(target)
            value = dsig.b64decode(ref.text, "KeyIdentifier")
            if vt == X509V3:
                try:
                    cert = x509.load_der_x509_certificate(value)
                except ValueError:
                    raise MalformedMessage("X509v3 KeyIdentifier is not a certificate") from None
                return cert, [], cert_public_key(cert), "x509-key-identifier"
            if vt not in (X509SKI, THUMBPRINT_SHA1):
                raise UntrustedKey(f"unsupported KeyIdentifier ValueType {vt[:120]}")
            how = "ski" if vt == X509SKI else "thumbprint"
            cert = find_by_identifier(self._candidates(state), vt, value)
            if cert is None:
                raise UntrustedKey(
                    f"signing certificate named by {how} {base64.b16encode(value).decode()[:40]} is not known "
                    "(pass it with certs=/--certs)"
                )
            return cert, [], cert_public_key(cert), how
        if ref.tag == f"{{{DS_NS}}}X509Data":
            return self._resolve_x509data(ref, state)
        raise UntrustedKey(f"unsupported SecurityTokenReference {etree.QName(ref).localname}")

    def _resolve_x509data(self, data: etree._Element, state: KeyContext):
        certs_b64 = data.findall(f"{{{DS_NS}}}X509Certificate")
        if certs_b64:
            certs = []
            for c in certs_b64[:10]:
                try:
                    certs.append(x509.load_der_x509_certificate(dsig.b64decode(c.text, "X509Certificate")))
                except ValueError:
                    raise MalformedMessage("X509Certificate is not a valid certificate") from None
            return certs[0], certs[1:], cert_public_key(certs[0]), "x509data"
        xis = data.find(f"{{{DS_NS}}}X509IssuerSerial")
        if xis is not None:
            name = _one(xis, f"{{{DS_NS}}}X509IssuerName", "X509IssuerName")
            serial_el = _one(xis, f"{{{DS_NS}}}X509SerialNumber", "X509SerialNumber")
            try:
                serial = int((serial_el.text or "").strip())  # type: ignore[union-attr]
            except ValueError:
                raise MalformedMessage("X509SerialNumber is not a number") from None
            issuer = (name.text or "").strip()  # type: ignore[union-attr]
            cert = find_by_issuer_serial(self._candidates(state), issuer, serial)
            if cert is None:
                raise UntrustedKey(
                    f"signing certificate {issuer[:100]} serial {serial} is not known (pass it with certs=/--certs)"
                )
            return cert, [], cert_public_key(cert), "issuer-serial"
        ski = data.find(f"{{{DS_NS}}}X509SKI")
        if ski is not None:
            value = dsig.b64decode(ski.text, "X509SKI")
            cert = find_by_identifier(self._candidates(state), X509SKI, value)
            if cert is None:
                raise UntrustedKey("signing certificate named by X509SKI is not known (pass it with certs=)")
            return cert, [], cert_public_key(cert), "ski"
        raise UntrustedKey("X509Data names no certificate")


_BST_CACHE: dict[tuple[str | None, str], list[x509.Certificate]] = {}


def parse_bst_cached(bst: etree._Element) -> list[x509.Certificate]:
    """parse_bst with a bounded cache keyed by the token text: a peer sends the
    same certificate in every message, and parsing it each time costs more
    than the signature check (the objects are immutable)."""
    key = (bst.get("ValueType"), bst.text or "")
    hit = _BST_CACHE.get(key)
    if hit is not None and bst.get("EncodingType") in (None, BASE64_BINARY):
        return hit
    certs = parse_bst(bst)
    if len(_BST_CACHE) >= 256:
        _BST_CACHE.clear()
    _BST_CACHE[key] = certs
    return certs


__all__ = [
    "ID_URI",
    "SAML_VALUE_TYPES",
    "KeyContext",
    "KeyResolver",
    "Resolved",
    "parse_bst_cached",
    "same_key",
]
