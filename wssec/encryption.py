"""WS-Security XML Encryption: :class:`Encryptor` and :class:`Decryptor`.

Message layout (what WSS4J writes and reads, WS-Security 1.1 §9, WS-I BSP):

* one fresh session key per message, transported to the recipient in an
  ``xenc:EncryptedKey`` (RSA-OAEP) in the ``wsse:Security`` header, whose
  ``xenc:ReferenceList`` lists every ``xenc:EncryptedData`` it covers;
* the EncryptedKey precedes the EncryptedData it covers (BSP R3208) and any
  Signature already in the header (so a receiver processing the header in
  document order decrypts before it verifies a sign-then-encrypt message);
* Body encryption is *content* encryption (the Body element, its wsu:Id and
  the signature reference to it stay); a header is encrypted as a
  ``wsse11:EncryptedHeader`` carrying the header's SOAP attributes; any other
  element is replaced by an EncryptedData of Type Element.

Security behaviour of the :class:`Decryptor` (read before relying on it):

* **No oracle.**  Wrong key, bad padding, bad GCM tag, garbage plaintext,
  an unknown reference: all raise the one :class:`DecryptionFailed`
  ("decryption failed"); the reason goes only to the ``wssec.encryption``
  logger at DEBUG.  A failed RSA key transport continues with a random key so
  it fails later and the same way as tampered data.
* **rsa-1_5 refused** unless ``allow_rsa15=True`` (Bleichenbacher's attack).
* **CBC is malleable.**  Without a signature over the plaintext (or GCM), an
  attacker can still learn plaintext by trial (Jager & Somorovsky, 2011) even
  with uniform errors; prefer GCM (the default) and sign.
* **Placement.**  EncryptedData is decrypted only where WS-Security puts it:
  as the whole content of the Body (or of an element inside it), as an
  element inside the Body, as a direct child of the SOAP Header, inside a
  direct-child EncryptedHeader, or as a direct child of the Security header.
  One moved into a wrapper elsewhere, a Body holding the EncryptedData next
  to other content, duplicated ids and references that are not same-document
  ``#id`` are refused.
* **See what was encrypted.**  The returned :class:`EncryptedPart` list holds
  the decrypted nodes themselves; "the Body was encrypted" means a part of
  kind ``content`` whose ``element`` *is* the envelope's Body.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from wssec import tokens
from wssec.errors import (
    DECRYPTION_FAILED,
    DecryptionFailed,
    KeyLoadError,
    MalformedMessage,
    PolicyViolation,
    WssecError,
)
from wssec.keys import CertSource, KeySource, keys_match, load_certificate, load_private_key
from wssec.safexml import parse_xml, serialize
from wssec.soap import (
    DS_NS,
    SOAP11_NS,
    SOAP12_NS,
    THUMBPRINT_SHA1,
    WSSE11_NS,
    WSSE_NS,
    WSU_NS,
    X509SKI,
    X509V3,
    envelope_parts,
    id_map,
    security_header,
)
from wssec.trust import DEFAULT_KEY_POLICY
from wssec.xmldsig.ids import ID_ATTRIBUTES
from wssec.xmlenc import algorithms as alg
from wssec.xmlenc import core
from wssec.xmlenc.algorithms import CryptoFailure, UnsupportedAlgorithm

log = logging.getLogger("wssec.encryption")

ENCRYPTED_HEADER = f"{{{WSSE11_NS}}}EncryptedHeader"
STR = f"{{{WSSE_NS}}}SecurityTokenReference"
TOKEN_TYPE_EK = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"
KEY_IDENTIFIERS = ("issuer-serial", "ski", "bst", "thumbprint")
KINDS = ("content", "element", "header")
GENERIC = DECRYPTION_FAILED

_SOAP_HEADER_ATTRS = {
    SOAP11_NS: ("mustUnderstand", "actor"),
    SOAP12_NS: ("mustUnderstand", "role", "relay"),
}


@dataclass(frozen=True)
class EncryptedPart:
    """One part of a message that was encrypted, after decryption.

    ``element`` is the live node in the decrypted tree: for ``kind ==
    "content"`` the element whose content was restored (the envelope's own
    Body for ``name == "Body"``), otherwise the decrypted element itself.
    Policy checks must compare nodes (``part.element is body``), not names.
    """

    name: str
    """``"Body"`` for Body content, else the Clark QName (``{ns}local``) of
    the decrypted element (or of the content's container)."""
    kind: str
    """``"content"``, ``"element"`` or ``"header"`` (a SOAP header)."""
    element: etree._Element
    """The decrypted node (see above)."""
    algorithm: str
    """The data-encryption algorithm URI (e.g. xmlenc11#aes256-gcm)."""
    key_transport: str = ""
    """The key-transport algorithm URI of the EncryptedKey used."""
    data_id: str = ""
    """The Id the EncryptedData had."""


# ---------------------------------------------------------------- encryption


@dataclass(frozen=True)
class _Target:
    element: etree._Element
    kind: str  # content | element | header


def _resolve_qname(spec: str, root: etree._Element) -> tuple[str, str]:
    """``{ns}local`` or ``prefix:local`` (prefix as declared in the message)."""
    if spec.startswith("{"):
        end = spec.find("}")
        if end < 1 or not spec[end + 1 :]:
            raise ValueError(f"bad part {spec!r}: use Body, {{namespace}}local or prefix:local")
        return spec[1:end], spec[end + 1 :]
    if ":" in spec:
        prefix, local = spec.split(":", 1)
        uris = {el.nsmap.get(prefix) for el in root.iter(etree.Element)} - {None}
        if not uris:
            raise ValueError(f"part {spec!r}: prefix {prefix!r} is not declared in the message")
        if len(uris) > 1:
            raise ValueError(
                f"part {spec!r}: prefix {prefix!r} is bound to several namespaces; use {{ns}}local"
            )
        return uris.pop(), local
    raise ValueError(f"bad part {spec!r}: use Body, {{namespace}}local or prefix:local")


def parse_part(spec: str) -> tuple[str | None, str]:
    """Split an optional WSS4J-style ``{Content}``/``{Element}`` modifier off a
    part spec; returns ``(modifier or None, rest)``."""
    for mod in ("Content", "Element"):
        if spec.startswith("{" + mod + "}") and len(spec) > len(mod) + 2:
            return mod.lower(), spec[len(mod) + 2 :]
    return None, spec


class Encryptor:
    """Encrypts parts of SOAP messages for one recipient certificate.

    Built once (the certificate is loaded and checked here) and reused for
    every message; each message gets a fresh random session key.
    """

    def __init__(
        self,
        recipient_cert: CertSource,
        encrypt: Sequence[str] = ("Body",),
        cipher: str = "aes256-gcm",
        key_transport: str = "rsa-oaep",
        key_identifier: str = "issuer-serial",
        actor: str | None = None,
    ) -> None:
        """
        ``encrypt`` names the parts: ``"Body"`` (the Body's content), or an
        element by QName as ``"{namespace}local"`` or ``"prefix:local"`` (the
        prefix as declared in the message).  A SOAP header named this way is
        encrypted as a ``wsse11:EncryptedHeader``; any other element is
        replaced by an EncryptedData.  A WSS4J-style ``{Content}`` or
        ``{Element}`` prefix chooses content or element encryption explicitly.
        Every element matching a QName is encrypted; none matching is an error.

        ``cipher``: aes256-gcm (default), aes128-gcm, aes256-cbc, aes128-cbc,
        tripledes-cbc (aes192-gcm/-cbc for Basic192 policies).
        ``key_transport``: rsa-oaep (xmlenc#rsa-oaep-mgf1p, SHA-1) or
        rsa-oaep-sha256 (xmlenc11#rsa-oaep, SHA-256 digest and MGF1); rsa-1_5
        only for a legacy receiver whose policy demands it (that receiver is
        exposed to Bleichenbacher's attack, which apisec's Decryptor refuses).
        ``key_identifier``: how the EncryptedKey names the recipient's
        certificate: issuer-serial, ski, bst (certificate embedded as a
        BinarySecurityToken) or thumbprint.
        """
        self.cert: x509.Certificate = load_certificate(recipient_cert)
        public_key = self.cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise KeyLoadError("the recipient certificate must hold an RSA key (RSA-OAEP key transport)")
        try:  # key strength and keyUsage keyEncipherment: the shared KeyPolicy
            DEFAULT_KEY_POLICY.check_recipient(self.cert)
        except WssecError as exc:
            raise KeyLoadError(f"the recipient certificate is refused: {exc}") from None
        self._public_key = public_key
        if cipher not in alg.ENCRYPTION_CIPHERS:
            raise ValueError(f"unknown cipher {cipher!r}; choose one of {', '.join(alg.ENCRYPTION_CIPHERS)}")
        self.cipher = alg.cipher_by_name(cipher)
        self.oaep = alg.oaep_for(key_transport)
        self.key_transport = key_transport
        if key_identifier not in KEY_IDENTIFIERS:
            raise ValueError(
                f"unknown key identifier {key_identifier!r}; choose one of {', '.join(KEY_IDENTIFIERS)}"
            )
        self.key_identifier = key_identifier
        if isinstance(encrypt, str):
            encrypt = [encrypt]
        self.parts = tuple(p.strip() for p in encrypt if p.strip())
        if not self.parts:
            raise ValueError("nothing to encrypt: give at least one part (e.g. Body)")
        for spec in self.parts:
            _mod, rest = parse_part(spec)
            if rest != "Body" and not (rest.startswith("{") or ":" in rest):
                raise ValueError(f"bad part {spec!r}: use Body, {{namespace}}local or prefix:local")
        self.actor = actor

    def encrypt(self, envelope: bytes | str | etree._Element) -> bytes:
        """Encrypt the configured parts; returns the new message bytes.

        The input is not modified (bytes are parsed; an element is copied).
        """
        if isinstance(envelope, etree._Element):
            root = parse_xml(serialize(envelope), what="SOAP message")
        else:
            root = parse_xml(envelope, what="SOAP message")
        self.encrypt_tree(root)
        return serialize(root)

    def encrypt_tree(self, root: etree._Element) -> list[str]:
        """Encrypt in place; returns the Ids of the EncryptedData written."""
        version, header, body = envelope_parts(root)
        security = security_header(root, self.actor, create=True)
        targets = self._targets(root, header, body, security)
        key = os.urandom(self.cipher.key_size)
        ek_id = f"EK-{secrets.token_hex(16)}"
        ids: list[str] = []
        for target in targets:
            ed_id = f"ED-{secrets.token_hex(16)}"
            key_info = self._ek_key_info(ek_id)
            if target.kind == "content":
                core.encrypt_content(target.element, self.cipher, key, id_=ed_id, key_info=key_info)
            elif target.kind == "element":
                core.encrypt_element(target.element, self.cipher, key, id_=ed_id, key_info=key_info)
            else:
                self._encrypt_header(target.element, key, ed_id, key_info)
            ids.append(ed_id)
        bst = None
        if self.key_identifier == "bst":
            bst = tokens.make_bst(self.cert, f"X509-{secrets.token_hex(16)}")
            ref = tokens.make_str(self.cert, "bst", bst.get(f"{{{WSU_NS}}}Id"))
        else:
            ref = tokens.make_str(self.cert, self.key_identifier)
        ki = etree.Element(core.KEY_INFO, nsmap={"ds": alg.DS})
        ki.append(ref)
        ek = core.make_encrypted_key(
            self.oaep,
            alg.rsa_wrap(self._public_key, self.oaep, key),
            id_=ek_id,
            key_info=ki,
            data_references=ids,
        )
        index = self._insert_index(security, targets)
        security.insert(index, ek)
        if bst is not None:
            security.insert(index, bst)
        return ids

    # -- helpers

    def _ek_key_info(self, ek_id: str) -> etree._Element:
        """EncryptedData/KeyInfo pointing back at the EncryptedKey, as WSS4J writes it."""
        ki = etree.Element(core.KEY_INFO, nsmap={"ds": alg.DS})
        ref = etree.SubElement(ki, STR, nsmap={"wsse": WSSE_NS, "wsse11": WSSE11_NS})
        ref.set(f"{{{WSSE11_NS}}}TokenType", TOKEN_TYPE_EK)
        etree.SubElement(ref, f"{{{WSSE_NS}}}Reference").set("URI", "#" + ek_id)
        return ki

    def _targets(self, root, header, body, security) -> list[_Target]:
        targets: list[_Target] = []
        for spec in self.parts:
            mod, rest = parse_part(spec)
            if rest == "Body" or rest == f"{{{etree.QName(body).namespace}}}Body":
                if mod == "element":
                    raise ValueError("the Body element itself cannot be encrypted (SOAP needs it); use Body")
                targets.append(_Target(body, "content"))
                continue
            ns, local = _resolve_qname(rest, root)
            found = [
                el for el in root.iter(f"{{{ns}}}{local}") if self._encryptable(el, root, header, security)
            ]
            if not found:
                raise MalformedMessage(f"part {spec} to encrypt is not in the message")
            for el in found:
                if mod == "content" and header is not None and el.getparent() is header:
                    raise ValueError(
                        f"{spec}: a header is encrypted whole (wsse11:EncryptedHeader), not its content"
                    )
                if mod == "content":
                    kind = "content"
                elif header is not None and el.getparent() is header:
                    kind = "header"
                else:
                    kind = "element"
                targets.append(_Target(el, kind))
        seen: set[int] = set()
        unique = []
        for t in targets:
            if id(t.element) not in seen:
                seen.add(id(t.element))
                unique.append(t)
        for t in unique:
            for anc in t.element.iterancestors():
                if any(anc is u.element for u in unique):
                    raise ValueError(
                        "encryption parts overlap (one is inside another); name only the outer one"
                    )
        return unique

    @staticmethod
    def _encryptable(el, root, header, security) -> bool:
        if el is root or el is header or el is security:
            raise ValueError(f"{etree.QName(el).text} cannot be encrypted (the SOAP structure needs it)")
        for anc in el.iterancestors():
            if isinstance(anc.tag, str) and anc.tag.startswith(f"{{{alg.XENC}}}"):
                return False
        name = etree.QName(el).text
        if el.tag == f"{{{WSSE_NS}}}Security":
            raise ValueError(f"{name} headers cannot be encrypted (receivers must read them)")
        parent = el.getparent()
        if security is not None and any(a is security for a in el.iterancestors()) and parent is not security:
            raise ValueError(f"{name} is inside a security token; encrypt the whole token")
        if header is not None and parent is not header and any(a is header for a in el.iterancestors()):
            if parent is not security:
                raise ValueError(f"{name} is inside a SOAP header; encrypt the whole header")
        return True

    def _encrypt_header(self, el: etree._Element, key: bytes, ed_id: str, key_info) -> None:
        """WS-Security 1.1 §9.3: the header becomes wsse11:EncryptedHeader
        holding the EncryptedData, with the header's SOAP attributes copied so
        intermediaries still see mustUnderstand/actor/role/relay."""
        plaintext = core.serialize_element(el)  # before moving: only the header's own namespaces
        eh = etree.Element(ENCRYPTED_HEADER, nsmap={"wsse11": WSSE11_NS, "wsu": WSU_NS})
        eh.set(f"{{{WSU_NS}}}Id", f"EH-{secrets.token_hex(16)}")
        for soap_ns, names in _SOAP_HEADER_ATTRS.items():
            for name in names:
                value = el.get(f"{{{soap_ns}}}{name}")
                if value is not None:
                    eh.set(f"{{{soap_ns}}}{name}", value)
        eh.append(
            core.make_encrypted_data(
                self.cipher,
                alg.encrypt(self.cipher, key, plaintext),
                type_=core.TYPE_ELEMENT,
                id_=ed_id,
                key_info=key_info,
            )
        )
        eh.tail = el.tail
        el.getparent().replace(el, eh)

    @staticmethod
    def _insert_index(security: etree._Element, targets: list[_Target]) -> int:
        """Where the EncryptedKey goes: first in the Security header (before
        any Signature and every EncryptedData it covers), but after a leading
        wsu:Timestamp, which strict layouts require first."""
        children = [c for c in security if isinstance(c.tag, str)]
        if children and children[0].tag == f"{{{WSU_NS}}}Timestamp":
            if not any(t.element is children[0] for t in targets):
                return security.index(children[0]) + 1
        return 0


# ---------------------------------------------------------------- decryption


class Decryptor:
    """Decrypts WS-Security encrypted SOAP messages with one RSA private key.

    ``cert`` (optional) is the certificate of ``key``: when given, an
    EncryptedKey addressed to another certificate is not tried.
    ``ciphers`` (optional) restricts the data-encryption algorithms accepted
    (short names, e.g. ``("aes256-gcm", "aes128-gcm")`` to refuse CBC).
    """

    def __init__(
        self,
        key: KeySource,
        cert: CertSource | None = None,
        allow_rsa15: bool = False,
        *,
        password: str | bytes | None = None,
        ciphers: Collection[str] | None = None,
        actor: str | None = None,
    ) -> None:
        private_key = load_private_key(key, password)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise KeyLoadError("the decryption key must be an RSA private key (RSA-OAEP key transport)")
        self._key = private_key
        self.cert = load_certificate(cert) if cert is not None else None
        if self.cert is not None:
            if not keys_match(private_key, self.cert):
                raise KeyLoadError("the decryption certificate does not match the private key")
        self.allow_rsa15 = allow_rsa15
        if ciphers is not None:
            unknown = [c for c in ciphers if c not in alg.BLOCK_CIPHERS]
            if unknown:
                raise ValueError(f"unknown cipher(s) {', '.join(unknown)}")
            self._cipher_uris = frozenset(alg.BLOCK_CIPHERS[c].uri for c in ciphers)
        else:
            self._cipher_uris = frozenset(alg.CIPHERS_BY_URI)
        self.actor = actor

    # -- public API

    def decrypt(self, envelope: bytes | str) -> bytes:
        """Decrypt every part the Security header's EncryptedKeys and
        ReferenceLists cover; returns the decrypted message bytes.

        Raises :class:`DecryptionFailed` (one generic message) for anything
        cryptographic, :class:`MalformedMessage` for structure (nothing to
        decrypt, duplicate ids, misplaced EncryptedData) and
        :class:`PolicyViolation` for refused algorithms (rsa-1_5).
        """
        root = parse_xml(envelope, what="SOAP message")
        self.decrypt_tree(root)
        return serialize(root)

    def decrypt_tree(self, root: etree._Element) -> list[EncryptedPart]:
        """Decrypt in place, processing the Security header in document order."""
        security = security_header(root, self.actor)
        if security is None:
            raise MalformedMessage("the message has no wsse:Security header: nothing to decrypt")
        parts: list[EncryptedPart] = []
        found = False
        for child in list(security):
            if child.tag == core.ENCRYPTED_KEY:
                found = True
                parts.extend(self.process_encrypted_key(child, root))
            elif child.tag == core.REFERENCE_LIST:
                found = True
                parts.extend(self.process_reference_list(child, root))
        if not found:
            raise MalformedMessage(
                "the Security header has no xenc:EncryptedKey or ReferenceList: nothing to decrypt"
            )
        drop_key_transport(security)
        return parts

    def process_encrypted_key(self, ek: etree._Element, root: etree._Element) -> list[EncryptedPart]:
        """Decrypt, in place in ``root``, every EncryptedData listed in the
        ReferenceList of the EncryptedKey ``ek`` (the Verifier's hook while it
        walks the Security header).  An EncryptedHeader is replaced by the
        decrypted header; Body content is restored inside the Body.

        An EncryptedKey without a ReferenceList returns ``[]``; its data is
        found later through a standalone ReferenceList.
        """
        if ek.tag != core.ENCRYPTED_KEY:
            raise MalformedMessage("process_encrypted_key needs an xenc:EncryptedKey element")
        kt = self._key_transport(ek)
        refs = core.data_references(ek)
        if not refs:
            return []
        ids = id_map(root)  # one map, refreshed by each decryption's duplicate check
        self._check_recipient(ek, ids)
        session = self._unwrap(ek)
        return [self._decrypt_reference(uri, root, session, kt, ids=ids) for uri in refs]

    def process_reference_list(self, rl: etree._Element, root: etree._Element) -> list[EncryptedPart]:
        """Decrypt the EncryptedData a standalone ``xenc:ReferenceList``
        lists; each one names its key in its own KeyInfo (a
        SecurityTokenReference to an EncryptedKey in the Security header, or
        an embedded EncryptedKey)."""
        if rl.tag != core.REFERENCE_LIST:
            raise MalformedMessage("process_reference_list needs an xenc:ReferenceList element")
        parts = []
        ids = id_map(root)  # one map, refreshed by each decryption's duplicate check
        for uri in core.data_references(rl):
            ed = self._resolve_data(uri, ids)
            ek = self._ek_of(ed, root, ids)
            kt = self._key_transport(ek)
            self._check_recipient(ek, ids)
            parts.append(self._decrypt_reference(uri, root, self._unwrap(ek), kt, ed=ed, ids=ids))
        return parts

    # -- steps

    def _fail(self, reason: str) -> DecryptionFailed:
        log.debug("decryption failed: %s", reason)
        return DecryptionFailed(GENERIC)

    def _key_transport(self, ek: etree._Element) -> core.KeyTransport:
        try:
            kt = core.key_transport(ek)
        except UnsupportedAlgorithm as exc:
            raise PolicyViolation(f"EncryptedKey refused: {exc}") from None
        except CryptoFailure as exc:
            raise self._fail(str(exc)) from None
        if kt.uri == alg.RSA_1_5 and not self.allow_rsa15:
            raise PolicyViolation(
                "EncryptedKey uses rsa-1_5 key transport, refused: PKCS#1 v1.5 decryption is "
                "open to Bleichenbacher's padding-oracle attack; the sender should use RSA-OAEP "
                "(allow_rsa15=True / --allow-rsa15 accepts it for legacy peers)"
            )
        if kt.uri in alg.KEY_WRAPS:
            raise PolicyViolation("EncryptedKey uses a symmetric key wrap; this Decryptor holds an RSA key")
        return kt

    def _unwrap(self, ek: etree._Element) -> bytes | None:
        """The session key, or None when RSA decryption failed (the caller then
        uses a random key so the failure surfaces at the data, uniformly)."""
        try:
            return core.unwrap_key(ek, private_key=self._key, allow_rsa15=self.allow_rsa15)
        except (CryptoFailure, UnsupportedAlgorithm) as exc:
            log.debug("key transport failed, continuing with a random key: %s", exc)
            return None

    def _check_recipient(self, ek: etree._Element, ids: dict[str, etree._Element]) -> None:
        if self.cert is None:
            return
        ki = ek.find(core.KEY_INFO)
        ref = ki.find(STR) if ki is not None else None
        if ref is None:
            return
        verdict = _str_matches(ref, self.cert, ids)
        if verdict is False:
            raise self._fail("the EncryptedKey is addressed to another certificate")

    def _resolve_data(self, uri: str, ids: dict[str, etree._Element]) -> etree._Element:
        if not uri.startswith("#") or len(uri) < 2:
            raise MalformedMessage(
                f"DataReference {uri!r} is not a same-document #id reference (references outside the envelope are refused)"
            )
        ed = ids.get(uri[1:])
        if ed is None or ed.tag != core.ENCRYPTED_DATA:
            raise self._fail(f"DataReference {uri} does not resolve to an EncryptedData")
        return ed

    def _ek_of(
        self, ed: etree._Element, root: etree._Element, ids: dict[str, etree._Element]
    ) -> etree._Element:
        ki = ed.find(core.KEY_INFO)
        if ki is not None:
            embedded = ki.find(core.ENCRYPTED_KEY)
            if embedded is not None:
                return embedded
            ref = ki.find(STR)
            if ref is not None:
                r = ref.find(f"{{{WSSE_NS}}}Reference")
                uri = r.get("URI", "") if r is not None else ""
                if uri.startswith("#"):
                    ek = ids.get(uri[1:])
                    security = security_header(root, self.actor)
                    if ek is not None and ek.tag == core.ENCRYPTED_KEY and ek.getparent() is security:
                        return ek
        raise self._fail("EncryptedData names no EncryptedKey this Decryptor can use")

    def _classify(self, ed: etree._Element, root: etree._Element) -> tuple[str, etree._Element]:
        """``(kind, container)`` of an EncryptedData, or refuse it as misplaced.

        ``container`` is the element the plaintext goes into (content) or the
        node it replaces (the EncryptedHeader for headers, else ``ed``).
        """
        _version, header, body = envelope_parts(root)
        for anc in ed.iterancestors():
            if isinstance(anc.tag, str) and anc.tag.startswith(f"{{{alg.XENC}}}"):
                raise MalformedMessage(
                    "EncryptedData nested inside another xenc element is refused (wrapping)"
                )
        parent = ed.getparent()
        type_ = ed.get("Type")
        in_body = parent is body or any(a is body for a in parent.iterancestors())
        security = security_header(root, self.actor)
        if type_ == core.TYPE_CONTENT:
            if in_body and _only_child(parent, ed):
                return "content", parent
            raise MalformedMessage(
                "content EncryptedData must be the only content of an element in the Body "
                "(an EncryptedData beside other content, or moved into a header, is refused as wrapping)"
            )
        if type_ != core.TYPE_ELEMENT:
            raise MalformedMessage(f"EncryptedData Type {type_!r} is not Element or Content")
        if in_body:
            return "element", ed
        if header is not None and parent is header:
            return "header", ed
        if (
            parent.tag == ENCRYPTED_HEADER
            and header is not None
            and parent.getparent() is header
            and _only_child(parent, ed)
        ):
            return "header", parent
        if security is not None and parent is security:
            return "element", ed
        raise MalformedMessage(
            "EncryptedData found outside the places WS-Security puts it (moved into a wrapper?); refused"
        )

    def _decrypt_reference(
        self,
        uri: str,
        root: etree._Element,
        session: bytes | None,
        kt: core.KeyTransport,
        ed: etree._Element | None = None,
        *,
        ids: dict[str, etree._Element],
    ) -> EncryptedPart:
        """Decrypt one EncryptedData in place.  ``ids`` is the document's ID
        map; it is rebuilt here after the plaintext went in (which refuses
        duplicate ids the plaintext introduced), so the next reference
        resolves against the tree as it now is."""
        if ed is None:
            ed = self._resolve_data(uri, ids)
        data_id = uri[1:]
        kind, container = self._classify(ed, root)
        method = core.encryption_method(ed)
        algorithm = method.get("Algorithm", "") if method is not None else ""
        if algorithm not in self._cipher_uris:
            raise PolicyViolation(f"data encryption algorithm {algorithm or '(none)'} is not accepted")
        try:
            cipher = core.data_cipher(ed)
            key = session if session is not None and len(session) == cipher.key_size else None
            if key is None:
                key = os.urandom(cipher.key_size)
            plaintext = core.decrypt_bytes(ed, key)
            if kind == "content":
                core.replace_with_plaintext(ed, plaintext)
                element = container
            elif kind == "header" and container is not ed:
                element = _replace_header(container, plaintext)
            else:
                element = core.replace_with_plaintext(ed, plaintext)[0]
        except (CryptoFailure, UnsupportedAlgorithm) as exc:
            raise self._fail(f"{uri}: {exc}") from None
        if element.tag == f"{{{WSSE_NS}}}Security":
            raise MalformedMessage("a decrypted header is a wsse:Security header; refused")
        fresh = id_map(root)  # decrypted content must not introduce duplicate ids
        ids.clear()
        ids.update(fresh)
        _version, _header, body = envelope_parts(root)
        if kind == "content":
            name = "Body" if element is body else etree.QName(element).text
        else:
            name = etree.QName(element).text
        return EncryptedPart(name, kind, element, algorithm, kt.uri, data_id)


def already_decrypted(ek: etree._Element, ids: dict[str, etree._Element]) -> bool:
    """True when the EncryptedKey ``ek`` lists data references and *none* of
    them names an element of the document (``ids``, its ID map): its data
    was decrypted already.  That is what :func:`drop_key_transport` leaves
    when a signature covers the EncryptedKey (it keeps the signed element so
    the signature keeps its target).  The Verifier accepts such a key only
    when a verified signature covers it (it then decrypts nothing and
    produces no result, so a policy that requires encryption still refuses
    the message); anywhere else, and for a key with some references present
    and some missing, a reference to nothing is the generic decryption
    failure, as before."""
    refs = core.data_references(ek)
    return bool(refs) and all(len(uri) > 1 and uri[0] == "#" and uri[1:] not in ids for uri in refs)


def drop_key_transport(security: etree._Element) -> None:
    """Remove the xenc:EncryptedKey and xenc:ReferenceList elements from a
    Security header whose data has been decrypted.

    Why: the decrypted message must read as a plain signed message (the
    two-step ``decrypt`` then ``verify`` gives what ``verify --decrypt-key``
    gives); a leftover EncryptedKey would make a verifier ask for a key again
    and then fail, its EncryptedData being gone.  An element a ds:Reference
    signs (by id) is kept, so no signature loses its target.
    """
    signed = {
        (ref.get("URI") or "")[1:]
        for ref in security.getroottree().iter(f"{{{DS_NS}}}Reference")
        if (ref.get("URI") or "").startswith("#")
    }
    for el in list(security):
        if el.tag not in (core.ENCRYPTED_KEY, core.REFERENCE_LIST):
            continue
        ids = {el.get(a) for a in ID_ATTRIBUTES} - {None}
        if ids & signed:
            continue
        security.remove(el)


def _only_child(parent: etree._Element, ed: etree._Element) -> bool:
    if (parent.text or "").strip() or (ed.tail or "").strip():
        return False
    return all(child is ed for child in parent)


def _replace_header(eh: etree._Element, plaintext: bytes) -> etree._Element:
    """Swap a wsse11:EncryptedHeader for the decrypted header element."""
    wrapper = core.parse_fragment(plaintext, eh.getparent())
    element = core.single_element(wrapper)
    element.tail = eh.tail
    eh.getparent().replace(eh, element)
    return element


def _str_matches(ref: etree._Element, cert: x509.Certificate, ids: dict[str, etree._Element]) -> bool | None:
    """Does a SecurityTokenReference name ``cert``?  None when it uses a form
    we cannot compare (then the key is simply tried)."""
    xis = ref.find(f"{{{DS_NS}}}X509Data/{{{DS_NS}}}X509IssuerSerial")
    if xis is not None:
        issuer = xis.findtext(f"{{{DS_NS}}}X509IssuerName") or ""
        serial = (xis.findtext(f"{{{DS_NS}}}X509SerialNumber") or "").strip()
        try:
            return int(serial) == cert.serial_number and tokens.same_dn(issuer, cert.issuer)
        except ValueError:
            return False
    kid = ref.find(f"{{{WSSE_NS}}}KeyIdentifier")
    if kid is not None:
        value_type = kid.get("ValueType")
        try:
            value = core.b64decode(kid.text)
        except CryptoFailure:
            return False
        if value_type in (X509SKI, THUMBPRINT_SHA1):
            return tokens.find_by_identifier([cert], value_type, value) is not None
        if value_type == X509V3:
            return value == tokens.cert_der(cert)
        return None
    r = ref.find(f"{{{WSSE_NS}}}Reference")
    if r is not None and r.get("URI", "").startswith("#"):
        target = ids.get(r.get("URI")[1:])
        if target is not None and target.tag == f"{{{WSSE_NS}}}BinarySecurityToken":
            try:
                return core.b64decode(target.text) == tokens.cert_der(cert)
            except CryptoFailure:  # an unreadable token names no certificate of ours
                return False
    return None


def encrypt(envelope: bytes | str | etree._Element, recipient_cert: CertSource, **kwargs) -> bytes:
    """One-shot ``Encryptor(recipient_cert, **kwargs).encrypt(envelope)``;
    build an Encryptor to encrypt many messages (the certificate is loaded once)."""
    return Encryptor(recipient_cert, **kwargs).encrypt(envelope)


def decrypt(envelope: bytes | str, key: KeySource, **kwargs) -> bytes:
    """One-shot ``Decryptor(key, **kwargs).decrypt(envelope)``.  Decryption is
    not authentication: use ``wssec.Verifier(decrypt_key=…)`` to decrypt and
    verify the sender's signature in one pass."""
    return Decryptor(key, **kwargs).decrypt(envelope)


__all__ = [
    "KEY_IDENTIFIERS",
    "Decryptor",
    "EncryptedPart",
    "Encryptor",
    "already_decrypted",
    "decrypt",
    "drop_key_transport",
    "encrypt",
]
