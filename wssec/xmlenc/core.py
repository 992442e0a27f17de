"""The XML Encryption data model (W3C XML Encryption 1.0/1.1) on lxml trees.

Independent of SOAP: builds ``xenc:EncryptedData``/``xenc:EncryptedKey``,
turns an element or an element's content into ciphertext in place, and
replaces an ``EncryptedData`` by its decrypted element or content in place.
The WS-Security rules (where EncryptedData may sit, key identifiers, the
Security header) live in :mod:`wssec.encryption`; SAML's EncryptedAssertion
can reuse this module as is.

Why not xmlsec's ``EncryptionContext``: decrypting in place inside a SOAP
envelope, the EncryptedHeader rules, uniform failure handling (one generic
error, a random key on key-transport failure) and AES-GCM/OAEP parameters
independent of how libxmlsec1 was built all need control over each step;
the cryptography itself is pyca/cryptography's.

Decrypted plaintext is parsed with :func:`wssec.safexml.parse_xml` inside a
wrapper element that re-declares the namespaces in scope where the
EncryptedData sat, so a fragment using an inherited prefix parses, and a
fragment carrying a DOCTYPE or entity bomb is refused like any other input.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from wssec.errors import UnsafeXml
from wssec.safexml import DEFAULT_MAX_DEPTH, parse_xml
from wssec.xmlenc import algorithms as alg
from wssec.xmlenc.algorithms import (
    DS,
    XENC,
    XENC11,
    BlockCipher,
    CryptoFailure,
    OaepParams,
    UnsupportedAlgorithm,
)

TYPE_ELEMENT = XENC + "Element"
TYPE_CONTENT = XENC + "Content"

ENCRYPTED_DATA = f"{{{XENC}}}EncryptedData"
ENCRYPTED_KEY = f"{{{XENC}}}EncryptedKey"
REFERENCE_LIST = f"{{{XENC}}}ReferenceList"
DATA_REFERENCE = f"{{{XENC}}}DataReference"
ENCRYPTION_METHOD = f"{{{XENC}}}EncryptionMethod"
CIPHER_DATA = f"{{{XENC}}}CipherData"
CIPHER_VALUE = f"{{{XENC}}}CipherValue"
CIPHER_REFERENCE = f"{{{XENC}}}CipherReference"
KEY_INFO = f"{{{DS}}}KeyInfo"
KEY_NAME = f"{{{DS}}}KeyName"
RETRIEVAL_METHOD = f"{{{DS}}}RetrievalMethod"

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")


# ---------------------------------------------------------------- building


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str | None) -> bytes:
    """Strict base64 (whitespace allowed); failure is :class:`CryptoFailure`."""
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoFailure("CipherValue is not valid base64") from None


def serialize_element(el: etree._Element) -> bytes:
    """The plaintext of Type=Element: the element with every namespace it
    inherits declared on it, so it parses on its own."""
    return etree.tostring(el, encoding="utf-8", with_tail=False)


def serialize_content(el: etree._Element) -> bytes:
    """The plaintext of Type=Content: the element's text and children."""
    parts = [escape(el.text).replace("\r", "&#13;").encode("utf-8")] if el.text else []
    parts.extend(etree.tostring(child, encoding="utf-8", with_tail=True) for child in el)
    return b"".join(parts)


def make_encrypted_data(
    cipher: BlockCipher,
    ciphertext: bytes,
    *,
    type_: str,
    id_: str,
    key_info: etree._Element | None = None,
) -> etree._Element:
    """``<xenc:EncryptedData Id Type><EncryptionMethod/>[KeyInfo]<CipherData/>``."""
    ed = etree.Element(ENCRYPTED_DATA, nsmap={"xenc": XENC})
    ed.set("Id", id_)
    ed.set("Type", type_)
    etree.SubElement(ed, ENCRYPTION_METHOD).set("Algorithm", cipher.uri)
    if key_info is not None:
        ed.append(key_info)
    cd = etree.SubElement(ed, CIPHER_DATA)
    etree.SubElement(cd, CIPHER_VALUE).text = b64(ciphertext)
    return ed


def encrypt_element(
    el: etree._Element, cipher: BlockCipher, key: bytes, *, id_: str, key_info=None
) -> etree._Element:
    """Replace ``el`` by an EncryptedData (Type=Element) and return it."""
    ed = make_encrypted_data(
        cipher,
        alg.encrypt(cipher, key, serialize_element(el)),
        type_=TYPE_ELEMENT,
        id_=id_,
        key_info=key_info,
    )
    ed.tail = el.tail
    el.getparent().replace(el, ed)
    return ed


def encrypt_content(
    el: etree._Element, cipher: BlockCipher, key: bytes, *, id_: str, key_info=None
) -> etree._Element:
    """Replace ``el``'s content by an EncryptedData (Type=Content); return it."""
    ed = make_encrypted_data(
        cipher,
        alg.encrypt(cipher, key, serialize_content(el)),
        type_=TYPE_CONTENT,
        id_=id_,
        key_info=key_info,
    )
    for child in list(el):
        el.remove(child)
    el.text = None
    el.append(ed)
    return ed


def make_encrypted_key(
    params: OaepParams,
    encrypted_key: bytes,
    *,
    id_: str,
    key_info: etree._Element | None,
    data_references: list[str],
) -> etree._Element:
    """``xenc:EncryptedKey`` with its EncryptionMethod, KeyInfo, CipherData
    and a ReferenceList of ``#id`` DataReferences."""
    ek = etree.Element(ENCRYPTED_KEY, nsmap={"xenc": XENC})
    ek.set("Id", id_)
    method = etree.SubElement(ek, ENCRYPTION_METHOD)
    method.set("Algorithm", params.uri)
    if params.digest is not hashes.SHA1 or params.uri == alg.RSA_OAEP_11:
        dm = etree.SubElement(method, f"{{{DS}}}DigestMethod", nsmap={"ds": DS})
        dm.set("Algorithm", alg.DIGEST_URIS[params.digest.name])
    if params.uri == alg.RSA_OAEP_11:
        mgf = etree.SubElement(method, f"{{{XENC11}}}MGF", nsmap={"xenc11": XENC11})
        mgf.set("Algorithm", alg.MGF_URIS[params.mgf_digest.name])
    if params.label:
        etree.SubElement(method, f"{{{XENC}}}OAEPparams").text = b64(params.label)
    if key_info is not None:
        ek.append(key_info)
    cd = etree.SubElement(ek, CIPHER_DATA)
    etree.SubElement(cd, CIPHER_VALUE).text = b64(encrypted_key)
    if data_references:
        rl = etree.SubElement(ek, REFERENCE_LIST)
        for ref in data_references:
            etree.SubElement(rl, DATA_REFERENCE).set("URI", "#" + ref)
    return ek


# ---------------------------------------------------------------- reading


def encryption_method(el: etree._Element) -> etree._Element | None:
    return el.find(ENCRYPTION_METHOD)


def data_cipher(ed: etree._Element) -> BlockCipher:
    """The block cipher an EncryptedData names (UnsupportedAlgorithm if none)."""
    method = encryption_method(ed)
    return alg.cipher_by_uri(method.get("Algorithm") if method is not None else None)


def cipher_value(el: etree._Element) -> bytes:
    """The CipherValue octets.  ``CipherReference`` is refused: it makes the
    receiver fetch (and transform) data from a URI of the sender's choosing."""
    cd = el.find(CIPHER_DATA)
    if cd is None:
        raise UnsupportedAlgorithm("EncryptedData/EncryptedKey has no CipherData")
    if cd.find(CIPHER_REFERENCE) is not None:
        raise UnsupportedAlgorithm("CipherReference is refused (the receiver would fetch external data)")
    cvs = cd.findall(CIPHER_VALUE)
    if len(cvs) != 1:
        raise UnsupportedAlgorithm("CipherData must hold exactly one CipherValue")
    return b64decode(cvs[0].text)


@dataclass(frozen=True)
class KeyTransport:
    """What an EncryptedKey's EncryptionMethod says."""

    uri: str
    oaep: OaepParams | None = None
    """OAEP parameters for the two OAEP URIs; None for rsa-1_5 and key wraps."""


def key_transport(ek: etree._Element) -> KeyTransport:
    """Parse an EncryptedKey's EncryptionMethod (digest, MGF, OAEP label)."""
    method = encryption_method(ek)
    uri = method.get("Algorithm") if method is not None else None
    if uri in (alg.RSA_OAEP_MGF1P, alg.RSA_OAEP_11):
        digest: type[hashes.HashAlgorithm] = hashes.SHA1
        mgf: type[hashes.HashAlgorithm] = hashes.SHA1
        label = None
        dm = method.find(f"{{{DS}}}DigestMethod")
        if dm is not None:
            try:
                digest = alg.DIGESTS[dm.get("Algorithm") or ""]
            except KeyError:
                raise UnsupportedAlgorithm(f"unsupported OAEP digest {dm.get('Algorithm')!r}") from None
        mg = method.find(f"{{{XENC11}}}MGF")
        if mg is not None and uri == alg.RSA_OAEP_11:
            try:
                mgf = alg.MGFS[mg.get("Algorithm") or ""]
            except KeyError:
                raise UnsupportedAlgorithm(f"unsupported OAEP MGF {mg.get('Algorithm')!r}") from None
        p = method.find(f"{{{XENC}}}OAEPparams")
        if p is not None:
            label = b64decode(p.text) or None
        return KeyTransport(uri, OaepParams(uri, digest, mgf, label))
    if uri == alg.RSA_1_5 or uri in alg.KEY_WRAPS:
        return KeyTransport(uri)
    raise UnsupportedAlgorithm(f"unsupported key transport algorithm {uri!r}")


def data_references(ek_or_list: etree._Element) -> list[str]:
    """The DataReference URIs of an EncryptedKey's ReferenceList or of a
    standalone ReferenceList, in document order."""
    rl = ek_or_list if ek_or_list.tag == REFERENCE_LIST else ek_or_list.find(REFERENCE_LIST)
    if rl is None:
        return []
    return [ref.get("URI", "") for ref in rl if ref.tag == DATA_REFERENCE]


def unwrap_key(
    ek: etree._Element,
    *,
    private_key: rsa.RSAPrivateKey | None = None,
    kek: bytes | None = None,
    allow_rsa15: bool = False,
    expected_size: int | None = None,
) -> bytes:
    """Decrypt an EncryptedKey's CipherValue with an RSA key or a KEK.

    With ``expected_size`` (the data cipher's key length), an RSA failure does
    not raise: a random key of that size is returned instead, so that a
    tampered key fails exactly like tampered data, later and the same way
    (the countermeasure Santuario and WSS4J use against Bleichenbacher- and
    Manger-style oracles).  ``rsa-1_5`` is refused unless ``allow_rsa15``.
    """
    kt = key_transport(ek)
    if kt.uri == alg.RSA_1_5 and not allow_rsa15:
        raise UnsupportedAlgorithm(
            "rsa-1_5 key transport refused: PKCS#1 v1.5 decryption is open to Bleichenbacher's "
            "attack (pass allow_rsa15=True only for legacy peers)"
        )
    data = cipher_value(ek)
    if kt.uri in alg.KEY_WRAPS:
        if kek is None:
            raise CryptoFailure("no key-encryption key for a key wrap")
        if len(kek) != alg.KEY_WRAPS[kt.uri]:
            raise CryptoFailure("key-encryption key has the wrong size")
        return alg.aes_unwrap(kek, data)
    if private_key is None or not isinstance(private_key, rsa.RSAPrivateKey):
        raise CryptoFailure("no RSA private key for RSA key transport")
    try:
        key = alg.rsa_unwrap(private_key, kt.uri, kt.oaep, data)
    except CryptoFailure:
        if expected_size is None:
            raise
        return os.urandom(expected_size)
    if expected_size is not None and len(key) != expected_size:
        return os.urandom(expected_size)
    return key


# ---------------------------------------------------------------- decrypting


def decrypt_bytes(ed: etree._Element, key: bytes) -> bytes:
    """The plaintext octets of an EncryptedData (CryptoFailure on any failure)."""
    return alg.decrypt(data_cipher(ed), key, cipher_value(ed))


def _depth(el: etree._Element) -> int:
    depth = 0
    while el is not None:
        depth += 1
        el = el.getparent()
    return depth


def parse_fragment(plaintext: bytes, context: etree._Element) -> etree._Element:
    """Parse decrypted plaintext as the content of a wrapper element that
    declares the namespaces in scope at ``context``; returns the wrapper.

    Anything unparsable or refused by the hardened parser is a
    :class:`CryptoFailure`: whether a wrong key produced garbage or an
    attacker produced a DOCTYPE, the caller learns the same thing (the
    Jager-Somorovsky attack on XML Encryption used exactly this parse error
    as its oracle).
    """
    if plaintext.startswith(b"\xef\xbb\xbf"):
        plaintext = plaintext[3:]
    plaintext = _XML_DECL.sub(b"", plaintext, count=1)
    decls = []
    for prefix, uri in context.nsmap.items():
        name = "xmlns" if prefix is None else f"xmlns:{prefix}"
        decls.append(f"{name}={quoteattr(uri)}")
    head = ("<apisec-xmlenc-fragment " + " ".join(decls) + ">").encode("utf-8")
    try:
        return parse_xml(
            head + plaintext + b"</apisec-xmlenc-fragment>",
            max_depth=max(8, DEFAULT_MAX_DEPTH - _depth(context)),
            what="decrypted data",
        )
    except UnsafeXml as exc:
        raise CryptoFailure(f"decrypted data is not acceptable XML: {exc}") from None


def _splice(ed: etree._Element, wrapper: etree._Element) -> list[etree._Element]:
    """Replace ``ed`` by the wrapper's text and children; return the children."""
    parent = ed.getparent()
    index = parent.index(ed)
    tail = ed.tail or ""
    lead = wrapper.text or ""
    prev = ed.getprevious()
    nodes = list(wrapper)
    parent.remove(ed)
    if lead:
        if prev is not None:
            prev.tail = (prev.tail or "") + lead
        else:
            parent.text = (parent.text or "") + lead
    for offset, node in enumerate(nodes):
        parent.insert(index + offset, node)
    if tail:
        if nodes:
            nodes[-1].tail = (nodes[-1].tail or "") + tail
        elif prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    return nodes


def single_element(wrapper: etree._Element) -> etree._Element:
    """The one element of a Type=Element plaintext (CryptoFailure otherwise)."""
    children = list(wrapper)
    if (
        len(children) != 1
        or not isinstance(children[0].tag, str)
        or (wrapper.text or "").strip()
        or (children[0].tail or "").strip()
    ):
        raise CryptoFailure("Type=Element plaintext is not exactly one element")
    return children[0]


def replace_with_plaintext(ed: etree._Element, plaintext: bytes) -> list[etree._Element]:
    """Put decrypted Element/Content plaintext where ``ed`` is; returns the
    new nodes (for Type=Element exactly one element)."""
    type_ = ed.get("Type")
    parent = ed.getparent()
    if parent is None:
        raise CryptoFailure("EncryptedData has no parent to decrypt into")
    wrapper = parse_fragment(plaintext, parent)
    if type_ == TYPE_ELEMENT:
        single_element(wrapper)
    elif type_ != TYPE_CONTENT:
        raise UnsupportedAlgorithm(f"EncryptedData Type {type_!r} cannot be decrypted in place")
    return _splice(ed, wrapper)


# ---------------------------------------------------------------- generic keys


def resolve_key(
    ed: etree._Element,
    *,
    private_key: rsa.RSAPrivateKey | None = None,
    named_keys: Mapping[str, bytes] | None = None,
    allow_rsa15: bool = False,
    id_lookup: Mapping[str, etree._Element] | None = None,
) -> bytes:
    """The data key of a standalone EncryptedData from its own ds:KeyInfo:
    ``KeyName`` (a named symmetric key), an embedded ``EncryptedKey`` (RSA or
    a named key-encryption key), or a same-document ``RetrievalMethod`` of
    Type EncryptedKey.  Used for plain XML Encryption (SAML EncryptedAssertion,
    the W3C interop vectors); WS-Security messages use the Security header.
    """
    named = dict(named_keys or {})
    cipher = data_cipher(ed)
    ki = ed.find(KEY_INFO)
    if ki is None:
        raise CryptoFailure("EncryptedData has no KeyInfo and no key was given")
    for child in ki:
        if child.tag == KEY_NAME and (child.text or "").strip() in named:
            return named[(child.text or "").strip()]
        ek = None
        if child.tag == ENCRYPTED_KEY:
            ek = child
        elif child.tag == RETRIEVAL_METHOD and child.get("Type") == XENC + "EncryptedKey":
            uri = child.get("URI", "")
            if not uri.startswith("#") or id_lookup is None:
                raise UnsupportedAlgorithm("RetrievalMethod must be a same-document #id reference")
            ek = id_lookup.get(uri[1:])
            if ek is None or ek.tag != ENCRYPTED_KEY:
                raise CryptoFailure("RetrievalMethod does not point at an EncryptedKey")
        if ek is None:
            continue
        kek = None
        ek_ki = ek.find(KEY_INFO)
        if ek_ki is not None:
            for name in ek_ki.iter(KEY_NAME):
                kek = named.get((name.text or "").strip())
        return unwrap_key(
            ek,
            private_key=private_key,
            kek=kek,
            allow_rsa15=allow_rsa15,
            expected_size=cipher.key_size if kek is None else None,
        )
    raise CryptoFailure("no usable key in the EncryptedData's KeyInfo")


__all__ = [
    "TYPE_CONTENT",
    "TYPE_ELEMENT",
    "KeyTransport",
    "cipher_value",
    "data_cipher",
    "data_references",
    "decrypt_bytes",
    "encrypt_content",
    "encrypt_element",
    "key_transport",
    "make_encrypted_data",
    "make_encrypted_key",
    "parse_fragment",
    "replace_with_plaintext",
    "resolve_key",
    "serialize_content",
    "serialize_element",
    "unwrap_key",
]
