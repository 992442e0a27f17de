"""X.509 security tokens: BinarySecurityToken encoding and the four ways a
wsse:SecurityTokenReference can point at a certificate (BST reference,
SubjectKeyIdentifier, issuer/serial, SHA-1 thumbprint).

Shared by the signer (to write them) and the verifier (to resolve them) so
both sides compute SKIs, thumbprints and issuer names the same way WSS4J does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec.dsig import b64, b64decode
from wssec.errors import KeyLoadError, MalformedMessage
from wssec.soap import (
    BASE64_BINARY,
    DS_NS,
    THUMBPRINT_SHA1,
    WSSE11_NS,
    WSSE_NS,
    WSU_NS,
    X509PKIPATHV1,
    X509SKI,
    X509V3,
)

KEY_IDENTIFIERS = ("bst", "ski", "issuer-serial", "thumbprint")


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def subject_key_identifier(cert: x509.Certificate) -> bytes | None:
    """The SKI as WSS4J computes it: the extension value if present, else the
    SHA-1 of the subjectPublicKey (RFC 5280 §4.2.1.2 method 1).  None when the
    certificate cannot say (malformed extensions, a public-key algorithm
    cryptography does not know): such a certificate is never "the one"."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        pass
    except ValueError:  # a malformed extension (or extensions) in the certificate
        return None
    try:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    except (ValueError, UnsupportedAlgorithm):
        return None


def own_ski(cert: x509.Certificate) -> bytes:
    """The SKI of *our own* certificate (to name it in a message); a
    certificate that has none readable cannot be named by SKI."""
    value = subject_key_identifier(cert)
    if value is None:
        raise KeyLoadError(
            "the certificate has no readable Subject Key Identifier (use another key identifier)"
        )
    return value


def thumbprint_sha1(cert: x509.Certificate) -> bytes:
    return hashlib.sha1(cert_der(cert)).digest()  # noqa: S324 - the profile's identifier, not a security hash


def issuer_name(cert: x509.Certificate) -> str:
    """RFC 2253/4514 issuer DN, the form Java's X500Principal.getName() writes."""
    return cert.issuer.rfc4514_string()


def _norm_dn(text: str) -> str:
    try:
        return x509.Name.from_rfc4514_string(text.strip()).rfc4514_string().casefold()
    except ValueError:
        return ",".join(p.strip() for p in text.split(",")).casefold()


def same_dn(text: str, name: x509.Name) -> bool:
    """Compare an issuer DN string from a message with a certificate's Name."""
    return _norm_dn(text) == name.rfc4514_string().casefold()


def make_bst(cert: x509.Certificate, token_id: str, b64_der: str | None = None) -> etree._Element:
    bst = etree.Element(f"{{{WSSE_NS}}}BinarySecurityToken", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    bst.set("EncodingType", BASE64_BINARY)
    bst.set("ValueType", X509V3)
    bst.set(f"{{{WSU_NS}}}Id", token_id)
    bst.text = b64_der or b64(cert_der(cert))
    return bst


def make_str(cert: x509.Certificate, kind: str, bst_id: str | None = None) -> etree._Element:
    """A wsse:SecurityTokenReference to ``cert`` of the given identifier kind."""
    ref = etree.Element(f"{{{WSSE_NS}}}SecurityTokenReference", nsmap={"wsse": WSSE_NS})
    if kind == "bst":
        r = etree.SubElement(ref, f"{{{WSSE_NS}}}Reference")
        r.set("URI", f"#{bst_id}")
        r.set("ValueType", X509V3)
    elif kind == "ski":
        ki = etree.SubElement(ref, f"{{{WSSE_NS}}}KeyIdentifier")
        ki.set("EncodingType", BASE64_BINARY)
        ki.set("ValueType", X509SKI)
        ki.text = b64(own_ski(cert))
    elif kind == "thumbprint":
        ki = etree.SubElement(ref, f"{{{WSSE_NS}}}KeyIdentifier")
        ki.set("EncodingType", BASE64_BINARY)
        ki.set("ValueType", THUMBPRINT_SHA1)
        ki.text = b64(thumbprint_sha1(cert))
    elif kind == "issuer-serial":
        xd = etree.SubElement(ref, f"{{{DS_NS}}}X509Data", nsmap={"ds": DS_NS})
        xis = etree.SubElement(xd, f"{{{DS_NS}}}X509IssuerSerial")
        etree.SubElement(xis, f"{{{DS_NS}}}X509IssuerName").text = issuer_name(cert)
        etree.SubElement(xis, f"{{{DS_NS}}}X509SerialNumber").text = str(cert.serial_number)
    else:
        raise ValueError(f"unknown key identifier {kind!r} (known: {', '.join(KEY_IDENTIFIERS)})")
    return ref


def parse_bst(bst: etree._Element) -> list[x509.Certificate]:
    """Certificates of an X509v3 or X509PKIPathv1 BinarySecurityToken, leaf first."""
    value_type = bst.get("ValueType")
    enc = bst.get("EncodingType")
    if enc not in (None, BASE64_BINARY):
        raise MalformedMessage(f"BinarySecurityToken EncodingType {enc} is not Base64Binary")
    data = b64decode(bst.text, "BinarySecurityToken")
    if value_type == X509V3:
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise MalformedMessage("BinarySecurityToken does not hold a valid X.509 certificate") from None
    if value_type == X509PKIPATHV1:
        return _parse_pkipath(data)
    raise MalformedMessage(f"unsupported BinarySecurityToken ValueType {value_type}")


def _parse_pkipath(data: bytes) -> list[x509.Certificate]:
    """PkiPath ::= SEQUENCE OF Certificate, ordered root (issuer) first."""
    certs: list[x509.Certificate] = []
    try:
        content, rest = _der_tlv(data, 0x30)
        if rest:
            raise ValueError
        while content:
            start = content
            _, content = _der_tlv(content, 0x30)
            one = start[: len(start) - len(content)]
            certs.append(x509.load_der_x509_certificate(one))
            if len(certs) > 10:
                raise ValueError
    except (ValueError, IndexError):
        raise MalformedMessage("X509PKIPathv1 token is not a valid certificate path") from None
    if not certs:
        raise MalformedMessage("X509PKIPathv1 token holds no certificate")
    return list(reversed(certs))


def _der_tlv(data: bytes, tag: int) -> tuple[bytes, bytes]:
    if not data or data[0] != tag:
        raise ValueError
    length = data[1]
    pos = 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError
        length = int.from_bytes(data[2 : 2 + n], "big")
        pos = 2 + n
    if pos + length > len(data):
        raise ValueError
    return data[pos : pos + length], data[pos + length :]


def find_by_identifier(
    candidates: Iterable[x509.Certificate], value_type: str, value: bytes
) -> x509.Certificate | None:
    """The certificate among ``candidates`` whose SKI or thumbprint is ``value``."""
    for cert in candidates:
        if value_type == X509SKI:
            ski = subject_key_identifier(cert)
            if ski is not None and ski == value:
                return cert
        if value_type == THUMBPRINT_SHA1 and thumbprint_sha1(cert) == value:
            return cert
    return None


def find_by_issuer_serial(
    candidates: Iterable[x509.Certificate], issuer: str, serial: int
) -> x509.Certificate | None:
    for cert in candidates:
        if cert.serial_number == serial and same_dn(issuer, cert.issuer):
            return cert
    return None


__all__ = [
    "KEY_IDENTIFIERS",
    "WSSE11_NS",
    "cert_der",
    "find_by_identifier",
    "find_by_issuer_serial",
    "issuer_name",
    "make_bst",
    "make_str",
    "parse_bst",
    "same_dn",
    "subject_key_identifier",
    "thumbprint_sha1",
]
