"""Inbound WS-Security: process the Security header, verify signatures, and
report *exactly which nodes* were signed.

Processing follows WSS4J: the children of the ``wsse:Security`` header are
processed in document order, one processor per token type (Timestamp,
UsernameToken, BinarySecurityToken, ds:Signature, xenc:EncryptedKey,
xenc:ReferenceList, SAML Assertion), each producing a result.  Policy (which
parts must be signed, which token must be present) is checked *afterwards*,
against those results, by node identity: "the Body is signed" means the
envelope's own Body element is one of the nodes a verified Reference
resolved to.  That is what defeats signature wrapping: moving the signed
Body somewhere else and putting a new one in its place leaves a valid
signature over a node the application never reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from lxml import etree

from wssec import dsig
from wssec.errors import (
    DECRYPTION_FAILED,
    AuthenticationFailed,
    DecryptionFailed,
    Expired,
    InvalidSignature,
    MalformedMessage,
    PolicyViolation,
    ReplayDetected,
    UntrustedKey,
    WssecError,
)
from wssec.keys import CertSource, key_id, load_certificates, same_key
from wssec.replay import MemoryReplayCache, ReplayCache
from wssec.safexml import parse_xml
from wssec.soap import (
    DS_NS,
    SAML1_NS,
    SAML2_NS,
    SOAP_NAMESPACES,
    WSSE_NS,
    WSU_NS,
    XENC_NS,
    envelope_parts,
    security_header,
)
from wssec.trust import KeyPolicy, TrustStore, cert_public_key, subject_dn
from wssec.usernametoken import UsernameTokenResult, authenticate, load_users, parse_time
from wssec.xmldsig.ids import id_map
from wssec.xmldsig.keyinfo import ID_URI, KeyContext, KeyResolver, parse_bst_cached
from wssec.xmldsig.references import (
    WSS_RULES,
    WSS_STRICT_RULES,
    CheckedReference,
    check_reference,
    reference_digest,
)
from wssec.xsdtime import DEFAULT_CLOCK_SKEW

_MAX_HEADER_CHILDREN = 256
_DEFAULT = object()

_WSA = ("http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing")

# Qualified tag names, built once (the processors compare tags on every message).
_DS_CANONICALIZATIONMETHOD = f"{{{DS_NS}}}CanonicalizationMethod"
_DS_DIGESTMETHOD = f"{{{DS_NS}}}DigestMethod"
_DS_DIGESTVALUE = f"{{{DS_NS}}}DigestValue"
_DS_KEYINFO = f"{{{DS_NS}}}KeyInfo"
_DS_KEYVALUE = f"{{{DS_NS}}}KeyValue"
_DS_OBJECT = f"{{{DS_NS}}}Object"
_DS_REFERENCE = f"{{{DS_NS}}}Reference"
_DS_SIGNATURE = f"{{{DS_NS}}}Signature"
_DS_SIGNATUREMETHOD = f"{{{DS_NS}}}SignatureMethod"
_DS_SIGNATUREVALUE = f"{{{DS_NS}}}SignatureValue"
_DS_SIGNEDINFO = f"{{{DS_NS}}}SignedInfo"
_DS_TRANSFORM = f"{{{DS_NS}}}Transform"
_DS_TRANSFORMS = f"{{{DS_NS}}}Transforms"
_SAML1_ASSERTION = f"{{{SAML1_NS}}}Assertion"
_SAML2_ASSERTION = f"{{{SAML2_NS}}}Assertion"
_WSSE_BINARYSECURITYTOKEN = f"{{{WSSE_NS}}}BinarySecurityToken"
_WSSE_KEYIDENTIFIER = f"{{{WSSE_NS}}}KeyIdentifier"
_WSSE_REFERENCE = f"{{{WSSE_NS}}}Reference"
_WSSE_SECURITY = f"{{{WSSE_NS}}}Security"
_WSSE_SECURITYTOKENREFERENCE = f"{{{WSSE_NS}}}SecurityTokenReference"
_WSSE_USERNAMETOKEN = f"{{{WSSE_NS}}}UsernameToken"
_WSU_CREATED = f"{{{WSU_NS}}}Created"
_WSU_EXPIRES = f"{{{WSU_NS}}}Expires"
_WSU_ID = f"{{{WSU_NS}}}Id"
_WSU_TIMESTAMP = f"{{{WSU_NS}}}Timestamp"
_XENC_ENCRYPTEDKEY = f"{{{XENC_NS}}}EncryptedKey"
_XENC_REFERENCELIST = f"{{{XENC_NS}}}ReferenceList"
_FAULT_TAGS = {v: f"{{{ns}}}Fault" for v, ns in SOAP_NAMESPACES.items()}


class NotSigned(PolicyViolation, InvalidSignature):
    """A part the policy requires to be signed is not covered by a valid
    signature (catchable as either PolicyViolation or InvalidSignature)."""


class UnsignedFault(PolicyViolation):
    """The peer answered with a SOAP Fault that is not signed.  ``code`` and
    ``reason`` are what the (unauthenticated!) fault says."""

    def __init__(self, code: str, reason: str) -> None:
        self.code, self.reason = code, reason
        super().__init__(f"unsigned SOAP Fault received (not trusted): {code}: {reason}"[:300])


@dataclass(frozen=True)
class SignatureResult:
    """One verified ds:Signature."""

    element: etree._Element = field(repr=False)
    references: tuple[tuple[str, etree._Element], ...] = field(repr=False)
    """(id, element) of every Reference, in SignedInfo order."""
    certificate: x509.Certificate | None
    chain: tuple[x509.Certificate, ...]
    public_key: Any = field(repr=False)
    key_reference: str
    """How KeyInfo named the key: bst, ski, issuer-serial, thumbprint, x509data, saml."""
    algorithm: str
    digest_algorithms: tuple[str, ...]
    signature_value: bytes = field(repr=False)
    replay_id: str = field(default="", repr=False)
    """What makes this signature *this* signature, independent of how the
    SignatureValue is encoded: SHA-256 over the signer's public key (SPKI)
    and the canonical SignedInfo.  ECDSA's (r, s) / (r, n - s) twins and any
    other re-encoding of one signature share it (the replay-cache key)."""


@dataclass(frozen=True)
class VerifiedMessage:
    """What was verified.  Use *only* :attr:`signed_elements` (or
    :meth:`is_signed`) to decide what to trust in the message: anything else
    in :attr:`envelope` is unauthenticated."""

    envelope: etree._Element = field(repr=False)
    """The processed (decrypted) Envelope."""
    soap_version: str
    signed_elements: tuple[etree._Element, ...] = field(repr=False)
    """The exact nodes covered by verified signature References."""
    signed_parts: tuple[str, ...]
    """Names of the covered parts: Body, Timestamp, UsernameToken, … or {ns}local."""
    signer_certificate: x509.Certificate | None
    signer_chain: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    username: str | None = None
    timestamp_created: dt.datetime | None = None
    timestamp_expires: dt.datetime | None = None
    encrypted: list[Any] = field(default_factory=list)
    """Parts decrypted by :class:`wssec.encryption.Decryptor`, in processing order."""
    saml: Any = None
    """The verified SAML assertion (:class:`wssec.saml.VerifiedAssertion`), if any."""
    subject: str | None = None
    """Who is speaking: SAML subject, else authenticated username, else signer DN."""
    signatures: tuple[SignatureResult, ...] = field(default=(), repr=False)
    rewritten: bool = False
    """True when :attr:`envelope` differs from the input bytes: parts were
    decrypted, or comments the signature did not digest were removed (so a
    caller that re-reads the wire bytes must serialise :attr:`envelope`)."""

    @property
    def body(self) -> etree._Element:
        return envelope_parts(self.envelope)[2]

    def is_signed(self, element: etree._Element) -> bool:
        """True when ``element`` itself (node identity) was covered by a signature."""
        return any(e is element for e in self.signed_elements)

    def to_json(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat().replace("+00:00", "Z") if t else None

        return {
            "valid": True,
            "soap_version": self.soap_version,
            "signed_parts": list(self.signed_parts),
            "signer": self.signer_certificate.subject.rfc4514_string() if self.signer_certificate else None,
            "key_reference": [s.key_reference for s in self.signatures],
            "algorithms": sorted({s.algorithm for s in self.signatures}),
            "username": self.username,
            "timestamp_created": iso(self.timestamp_created),
            "timestamp_expires": iso(self.timestamp_expires),
            "encrypted": [str(getattr(p, "name", p)) for p in self.encrypted],
            "saml": self.saml.to_json() if hasattr(self.saml, "to_json") else None,
            "subject": self.subject,
        }


class _State:
    """Per-message processing state (results of the processors)."""

    def __init__(self, root: etree._Element, now: dt.datetime) -> None:
        self.root = root
        self.now = now
        self._ids: dict[str, etree._Element] | None = None
        self.version = 0
        self.timestamp: etree._Element | None = None
        self.created: dt.datetime | None = None
        self.expires: dt.datetime | None = None
        self.ut: UsernameTokenResult | None = None
        self.bsts: dict[str, list[x509.Certificate]] = {}
        self.signatures: list[SignatureResult] = []
        self.encrypted: list[Any] = []
        self.assertions: list[tuple[etree._Element, Any]] = []
        self.malleable_decrypted = False
        """True once a part was decrypted with a non-AEAD (CBC) cipher."""
        self.comments_not_digested: list[etree._Element] = []
        """Signed subtrees digested by a c14n *without* comments."""
        self.decrypted_keys: list[etree._Element] = []
        """EncryptedKeys whose data is gone (decrypted already): each must be signed."""

    @property
    def ids(self) -> dict[str, etree._Element]:
        if self._ids is None:
            self._ids = id_map(self.root)
        return self._ids

    def tree_changed(self) -> None:
        self._ids = None
        self.version += 1


def _one(parent: etree._Element, tag: str, what: str, required: bool = True) -> etree._Element | None:
    found = list(parent.iterchildren(tag))  # C-level, unlike findall's ElementPath
    if len(found) > 1:
        raise MalformedMessage(f"{what} appears more than once")
    if not found:
        if required:
            raise MalformedMessage(f"{what} is missing")
        return None
    return found[0]


def _under_object(el: etree._Element) -> bool:
    for anc in el.iterancestors(_DS_OBJECT):
        return anc is not None
    return False


class Verifier:
    """Verifies inbound WS-Security messages against a trust configuration.

    Build one and reuse it (trust anchors, known certificates and users are
    loaded once; the replay cache lives in the Verifier).
    """

    def __init__(
        self,
        trust: Iterable[CertSource] | TrustStore = (),
        certs: Iterable[CertSource] = (),
        *,
        require: Sequence[str] = ("Body", "Timestamp"),
        max_skew: float = DEFAULT_CLOCK_SKEW,
        users: Mapping[str, str] | str | os.PathLike | None = None,
        replay_cache: ReplayCache | None | object = _DEFAULT,
        allow_sha1: bool = False,
        decrypt_key: Any = None,
        require_encrypted: Sequence[str] = (),
        saml_trust: Any = None,
        saml_audience: str | None = None,
        actor: str | None = None,
        max_age: float = 300,
        max_references: int = 32,
        max_signatures: int = 4,
        min_rsa_bits: int = 2048,
        strict_transforms: bool = False,
        key_policy: KeyPolicy | None = None,
    ) -> None:
        """
        trust: CA (or pinned) certificates signer certificates must chain to.
        certs: certificates the receiver knows, for messages whose KeyInfo is
            an SKI, thumbprint or issuer/serial reference (they must chain to
            ``trust`` too; they are also offered as intermediates).
        require: parts that must be covered by a verified signature: Body,
            Timestamp, UsernameToken, Assertion, BinarySecurityToken, a
            WS-Addressing header by local name ("To", "Action"…) or any header
            as "{ns}local".  ``()`` accepts unsigned messages (then only
            Timestamp/UsernameToken checks apply).
        max_skew: clock skew tolerated on Created/Expires, seconds (also on
            the conditions of SAML assertions in the message); default
            :data:`wssec.xsdtime.DEFAULT_CLOCK_SKEW`.
        users: a mapping or a ``user:password`` file; when set, a valid
            UsernameToken is required.
        replay_cache: where SignatureValues and nonces are remembered
            (default: in memory; None disables replay detection).
        allow_sha1: accept rsa-sha1 / sha1 digests (legacy peers only).
        decrypt_key: private key for xenc:EncryptedKey (see wssec.encryption).
        require_encrypted: parts that must have been encrypted.
        saml_trust / saml_audience: trust and audience for SAML assertions;
            a message carrying an assertion is refused without ``saml_trust``.
        actor: the SOAP actor/role whose Security header to process.
        max_age: how old (by Created) a Timestamp or UsernameToken may be,
            whatever its Expires says (WSS4J's timeStampTTL).
        max_references / max_signatures: bounds against hostile SignedInfo.
        strict_transforms: refuse every Reference whose Transforms are not
            exactly one exc-c14n transform.  By default an enveloped-signature
            transform before exc-c14n is also accepted, as WSS4J and
            xml-crypto accept it (node-soap's WSSecurityCert sends it on every
            Reference): it is a no-op when the target does not contain the
            Signature, and is applied as XML-DSig defines when it does.  It
            never widens what is signed, so the default stays safe; the strict
            mode is for receivers that want apisec's minimal profile only
            (``apisec soap check --message`` reports such References as
            ``wssec.strict-transforms``).
        min_rsa_bits: smallest RSA signer key accepted (1024 only for legacy
            peers); shorthand for ``key_policy=KeyPolicy(min_rsa_bits=...)``.
        key_policy: what a signer's key and certificate must be (key strength,
            keyUsage, extendedKeyUsage): :class:`wssec.trust.KeyPolicy`,
            applied to every signature, holder-of-key keys and SAML
            assertions included.  See docs/wssec-signing.md "Trust policy".
        """
        self.trust = trust if isinstance(trust, TrustStore) else TrustStore(list(trust))
        self.certs: list[x509.Certificate] = load_certificates(list(certs)) if certs else []
        self.require = tuple(require)
        self.max_skew = float(max_skew)
        self.max_age = float(max_age)
        self.users = load_users(users) if users is not None else None
        self.replay_cache: ReplayCache | None = (
            MemoryReplayCache() if replay_cache is _DEFAULT else replay_cache  # type: ignore[assignment]
        )
        self.allow_sha1 = allow_sha1
        self.decrypt_key = decrypt_key
        self.require_encrypted = tuple(require_encrypted)
        self.saml_trust = saml_trust
        self.saml_audience = saml_audience
        self.actor = actor
        self.max_references = max_references
        self.max_signatures = max_signatures
        self.strict_transforms = strict_transforms
        self.key_policy = key_policy if key_policy is not None else KeyPolicy(min_rsa_bits=min_rsa_bits)
        self.min_rsa_bits = self.key_policy.min_rsa_bits
        self._decryptor: Any = None
        self._keys = KeyResolver(self.certs, self.trust.anchors)

    # -- entry point -----------------------------------------------------------

    def verify(
        self, envelope: bytes | str | etree._Element, at: dt.datetime | None = None
    ) -> VerifiedMessage:
        """Verify ``envelope`` and return what was verified, or raise.

        Raises MalformedMessage (not processable: bad XML, several Bodies or
        Security headers, duplicate ids), InvalidSignature (a digest or
        SignatureValue does not verify), NotSigned/PolicyViolation (a
        required part is not covered, a disallowed algorithm or transform),
        UntrustedKey (the signer does not chain to ``trust`` or is out of
        validity), Expired, ReplayDetected, AuthenticationFailed.

        See what is signed: read only ``result.signed_elements``; establish
        trust: the signer certificate chained to your ``trust`` anchors.
        """
        root = envelope if isinstance(envelope, etree._Element) else parse_xml(envelope, what="SOAP message")
        now = at or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        now = now.astimezone(dt.UTC)
        version, header, _body = envelope_parts(root)
        sec = security_header(root, self.actor, parts=(version, header, _body))
        state = _State(root, now)
        state.ids  # noqa: B018 - refuse duplicate ids before anything else
        try:
            if sec is not None:
                self._process_header(sec, state)
            return self._enforce_policy(state, version, (version, header, _body))
        except WssecError:
            if state.malleable_decrypted:
                # No oracle after CBC: a digest mismatch, unparsable plaintext,
                # a policy refusal — every failure that follows a CBC
                # decryption is the same DecryptionFailed, so altered
                # ciphertext teaches an attacker nothing (Jager-Somorovsky).
                raise DecryptionFailed(DECRYPTION_FAILED) from None
            raise

    # -- processors (document order) -------------------------------------------

    def _process_header(self, sec: etree._Element, state: _State) -> None:
        """Children in document order.  Decryption can replace a child with
        its plaintext in place, so after any tree change the header is
        rescanned for children not processed yet."""
        done: list[etree._Element] = []  # keeps the proxies alive, so their id()s stay unique
        done_ids: set[int] = set()
        while True:
            children = [c for c in sec.iterchildren(etree.Element) if id(c) not in done_ids]
            if not children:
                return
            if len(done) + len(children) > _MAX_HEADER_CHILDREN:
                raise MalformedMessage(f"wsse:Security header has more than {_MAX_HEADER_CHILDREN} children")
            version = state.version
            for child in children:
                done.append(child)
                done_ids.add(id(child))
                self._process_one(child, state)
                if state.version != version:
                    break  # the tree changed: rescan
            else:
                return

    def _process_one(self, el: etree._Element, state: _State) -> None:
        tag = el.tag
        if tag == _WSU_TIMESTAMP:
            self._timestamp(el, state)
        elif tag == _WSSE_USERNAMETOKEN:
            if state.ut is not None:
                raise MalformedMessage("more than one UsernameToken in the Security header")
            state.ut = authenticate(
                el,
                self.users,
                now=state.now,
                max_skew=self.max_skew,
                max_age=self.max_age,
                replay_cache=self.replay_cache,
            )
        elif tag == _WSSE_BINARYSECURITYTOKEN:
            token_id = el.get(_WSU_ID) or el.get("Id") or ""
            state.bsts[token_id] = parse_bst_cached(el)
        elif tag == _DS_SIGNATURE:
            if len(state.signatures) >= self.max_signatures:
                raise PolicyViolation(f"more than {self.max_signatures} signatures in the Security header")
            state.signatures.append(self._signature(el, state))
        elif tag == _XENC_ENCRYPTEDKEY:
            self._encrypted_key(el, state)
        elif tag == _XENC_REFERENCELIST:
            self._reference_list(el, state)
        elif tag in (_SAML2_ASSERTION, _SAML1_ASSERTION):
            self._assertion(el, state)
        # Anything else (SignatureConfirmation, unknown extensions) produces no
        # result and is therefore trusted for nothing.

    def _timestamp(self, el: etree._Element, state: _State) -> None:
        if state.timestamp is not None:
            raise MalformedMessage("more than one Timestamp in the Security header (WS-I BSP R3227)")
        created_el = _one(el, _WSU_CREATED, "Timestamp Created")
        expires_el = _one(el, _WSU_EXPIRES, "Timestamp Expires", required=False)
        created = parse_time(created_el.text, "Timestamp Created")  # type: ignore[union-attr]
        expires = parse_time(expires_el.text, "Timestamp Expires") if expires_el is not None else None
        skew = dt.timedelta(seconds=self.max_skew)
        now = state.now
        if expires is not None and expires < created:
            raise MalformedMessage("Timestamp Expires is before Created")
        if created - now > skew:
            raise Expired(f"Timestamp Created {created:%Y-%m-%dT%H:%M:%SZ} is in the future")
        if expires is not None and now - expires > skew:
            raise Expired(f"message expired at {expires:%Y-%m-%dT%H:%M:%SZ}")
        # Like WSS4J's timeStampTTL: a far-away Expires does not make an old
        # message fresh (nor keep its replay-cache entry alive for years).
        if now - created > dt.timedelta(seconds=self.max_age) + skew:
            raise Expired(
                f"message created at {created:%Y-%m-%dT%H:%M:%SZ} is older than {int(self.max_age)} s"
            )
        state.timestamp, state.created, state.expires = el, created, expires

    def _encrypted_key(self, el: etree._Element, state: _State) -> None:
        from wssec.encryption import already_decrypted  # lazy, as the Decryptor is

        if already_decrypted(el, state.ids):
            # kept by 'decrypt' because a signature covers it: nothing left to
            # decrypt, acceptable only if a verified signature does cover it
            state.decrypted_keys.append(el)
            return
        if self.decrypt_key is None:
            raise PolicyViolation("message is encrypted; pass decrypt_key")
        parts = self._get_decryptor().process_encrypted_key(el, state.root)
        self._decrypted(parts or [], state)

    def _reference_list(self, el: etree._Element, state: _State) -> None:
        if self.decrypt_key is None:
            raise PolicyViolation("message is encrypted; pass decrypt_key")
        dec = self._get_decryptor()
        proc = getattr(dec, "process_reference_list", None)
        if proc is None:
            raise PolicyViolation("standalone xenc:ReferenceList is not supported")
        self._decrypted(proc(el, state.root) or [], state)

    @staticmethod
    def _decrypted(parts: list[Any], state: _State) -> None:
        state.encrypted.extend(parts)
        if any(_malleable(getattr(p, "algorithm", "")) for p in parts):
            state.malleable_decrypted = True
        state.tree_changed()

    def _get_decryptor(self) -> Any:
        if self._decryptor is None:
            from wssec.encryption import Decryptor  # lazy: the encryption module is optional here

            self._decryptor = Decryptor(key=self.decrypt_key)
        return self._decryptor

    def _assertion(self, el: etree._Element, state: _State) -> Any:
        for done_el, result in state.assertions:
            if done_el is el:
                return result
        if self.saml_trust is None:
            raise PolicyViolation("message carries a SAML assertion but no saml_trust is configured")
        from wssec.saml import SamlTrust, verify_element  # lazy: SAML support is optional here

        # --- H3 (issue 5): SAML trust built once per Verifier (certificates loaded, chains
        # cached); the Verifier's SHA-1 policy applies to the assertion's signature too.
        trust = self.__dict__.get("_saml_trust_obj")
        if trust is None:
            trust = self._saml_trust_obj = SamlTrust.of(self.saml_trust, key_policy=self.key_policy)
        result = verify_element(
            el,
            trust=trust,
            audience=self.saml_audience,
            at=state.now,
            allow_sha1=self.allow_sha1,
            clock_skew=self.max_skew,
        )
        # --- end H3
        state.assertions.append((el, result))
        return result

    # -- ds:Signature ----------------------------------------------------------

    def _signature(self, sig: etree._Element, state: _State) -> SignatureResult:
        children = list(sig.iterchildren(etree.Element))
        if len(children) < 2 or children[0].tag != _DS_SIGNEDINFO:
            raise MalformedMessage("ds:Signature must start with SignedInfo")
        if children[1].tag != _DS_SIGNATUREVALUE:
            raise MalformedMessage("ds:Signature has no SignatureValue after SignedInfo")
        signed_info, sv_el = children[0], children[1]
        key_info = None
        for extra in children[2:]:
            if extra.tag == _DS_KEYINFO and key_info is None:
                key_info = extra
            elif extra.tag != _DS_OBJECT:
                raise MalformedMessage(f"unexpected {etree.QName(extra).localname} in ds:Signature")
        si_children = list(signed_info.iterchildren(etree.Element))
        if len(si_children) < 3:
            raise MalformedMessage("SignedInfo needs CanonicalizationMethod, SignatureMethod and a Reference")
        cm, sm, refs = si_children[0], si_children[1], si_children[2:]
        if cm.tag != _DS_CANONICALIZATIONMETHOD or sm.tag != _DS_SIGNATUREMETHOD:
            raise MalformedMessage("SignedInfo must start with CanonicalizationMethod, SignatureMethod")
        c14n_alg = cm.get("Algorithm")
        if c14n_alg not in (dsig.EXC_C14N, dsig.EXC_C14N_COMMENTS):
            raise PolicyViolation(
                f"SignedInfo canonicalization {c14n_alg} is not allowed (exc-c14n only, BSP R5404)"
            )
        sig_uri = sm.get("Algorithm") or ""
        if sig_uri not in dsig.SIGNATURE_BY_URI:
            if "hmac" in sig_uri:
                raise PolicyViolation(
                    f"HMAC signature method {sig_uri} is not supported (asymmetric signatures only)"
                )
            raise PolicyViolation(f"signature algorithm {sig_uri or '(none)'} is not allowed")
        sig_name = dsig.SIGNATURE_BY_URI[sig_uri][0]
        if sig_name in dsig.WEAK and not self.allow_sha1:
            raise PolicyViolation(f"signature algorithm {sig_name} uses SHA-1 (pass allow_sha1 to accept it)")
        if len(sm):
            raise PolicyViolation("SignatureMethod parameters (e.g. HMACOutputLength) are not allowed")
        if len(refs) > self.max_references:
            raise PolicyViolation(f"signature has {len(refs)} references (limit {self.max_references})")
        signature_value = dsig.b64decode(sv_el.text, "SignatureValue")
        # Structural checks on every Reference before any crypto: a hostile
        # SignedInfo is refused for what it is, and costs no RSA operation.
        sig_ancestors = tuple(sig.iterancestors())
        checked = [self._reference(ref, sig, sig_ancestors, state) for ref in refs]
        cert, chain_extra, public_key, how = self._keys.resolve(
            key_info, KeyContext(state.ids, state.bsts, lambda target: self._saml_key(target, state))
        )
        # Cheapest refusal first: trust (cached) and one signature check come
        # before hashing possibly large content, so an untrusted or forged
        # signature cannot make us canonicalise the message many times.
        chain: tuple[x509.Certificate, ...] = ()
        if cert is not None:
            chain = tuple(self.trust.validate(cert, chain_extra + self.certs, at=state.now))
        # Key strength and certificate purpose (keyUsage/EKU): wssec.trust.KeyPolicy,
        # the same rule for every signature apisec verifies.
        self.key_policy.check_signer(cert, public_key)
        signed_info_c14n = dsig.c14n(
            signed_info, dsig.inclusive_prefixes(cm), c14n_alg == dsig.EXC_C14N_COMMENTS
        )
        dsig.verify_bytes(public_key, sig_uri, signature_value, signed_info_c14n)
        covered: list[tuple[str, etree._Element]] = []
        digests: list[str] = []
        seen: dict[tuple, bytes] = {}
        for ref_id, target, ref in checked:
            # the enveloped transform is a no-op unless the target holds this Signature
            envelops = ref.enveloped and any(a is target for a in sig_ancestors)
            key = (id(target), tuple(ref.prefixes or ()), ref.comments, envelops, ref.hashlib_name)
            actual = seen.get(key)
            if actual is None:
                actual = seen[key] = reference_digest(ref, target, sig, envelops=envelops)
            if not hmac.compare_digest(ref.expected, actual):
                what = etree.QName(target).localname
                raise InvalidSignature(
                    f"digest of {what} (#{ref_id}) does not match: the signed content was altered"
                )
            covered.append((ref_id, target))
            digests.append(ref.digest_name)
            if not ref.comments:
                state.comments_not_digested.append(target)
        replay_id = hashlib.sha256(key_id(public_key) + signed_info_c14n).hexdigest()
        return SignatureResult(
            sig,
            tuple(covered),
            cert,
            chain,
            public_key,
            how,
            sig_name,
            tuple(digests),
            signature_value,
            replay_id,
        )

    def _reference(
        self,
        ref: etree._Element,
        sig: etree._Element,
        sig_ancestors: tuple[etree._Element, ...],
        state: _State,
    ) -> tuple[str, etree._Element, CheckedReference]:
        """Resolve one Reference's ``#id`` target and check its shape,
        transforms and digest method (:mod:`wssec.xmldsig.references`, the
        checker SAML uses too); no digest yet.  ``sig_ancestors``: the
        Signature's ancestors (computed once per Signature)."""
        if ref.tag != _DS_REFERENCE:
            raise MalformedMessage(f"unexpected {etree.QName(ref).localname} in SignedInfo")
        uri = ref.get("URI")
        if uri is None or uri == "":
            raise PolicyViolation("Reference without a '#id' URI (whole-document references are refused)")
        m = ID_URI.match(uri)
        if not m:
            raise PolicyViolation(
                f"Reference URI {uri[:80]!r} points outside the envelope (only '#id' allowed)"
            )
        target = state.ids.get(m.group(1))
        if target is None:
            raise InvalidSignature(f"Reference {uri[:80]} points at nothing in the message")
        if _under_object(target):
            raise InvalidSignature(
                f"Reference {uri[:80]} points into a ds:Object (signature wrapping refused)"
            )
        checked = check_reference(
            ref, WSS_STRICT_RULES if self.strict_transforms else WSS_RULES, allow_sha1=self.allow_sha1
        )
        contains_sig = target is sig or any(a is target for a in sig_ancestors)
        if contains_sig and not checked.enveloped:
            raise PolicyViolation(
                f"Reference {uri[:80]} covers its own Signature without the enveloped-signature transform"
            )
        if checked.enveloped and (target is sig or any(a is sig for a in target.iterancestors())):
            # The transform would remove the whole target: nothing would be signed.
            raise PolicyViolation(
                f"Reference {uri[:80]} points into its own Signature: the enveloped-signature "
                "transform leaves nothing signed"
            )
        return m.group(1), target, checked

    # -- KeyInfo (resolution itself: wssec.xmldsig.keyinfo) ----------------------

    def _saml_key(self, assertion: etree._Element, state: _State):
        result = self._assertion(assertion, state)
        if getattr(result, "confirmation", None) != "holder-of-key":
            raise PolicyViolation("only a holder-of-key SAML assertion can provide the signing key")
        cert, key = _confirmation_key(result)
        if key is None:
            raise UntrustedKey("holder-of-key assertion carries no confirmation key")
        self.key_policy.check_signer(cert, key)
        # The key is trusted because the (verified) SAML issuer vouches for it.
        return None, [], key, "saml"

    # -- policy ----------------------------------------------------------------

    def _enforce_policy(
        self, state: _State, version: str, env: tuple[str, etree._Element | None, etree._Element]
    ) -> VerifiedMessage:
        root = state.root
        # again if decryption changed the tree (a decrypted Body is a new node)
        _v, header, body = envelope_parts(root) if state.version else env
        signed: list[etree._Element] = []  # holds the proxies, so their id()s stay unique
        signed_ids: set[int] = set()
        for s in state.signatures:
            for _id, el in s.references:
                if id(el) not in signed_ids:
                    signed.append(el)
                    signed_ids.add(id(el))

        def is_signed(el: etree._Element | None) -> bool:
            return el is not None and id(el) in signed_ids

        for ek in state.decrypted_keys:
            if not is_signed(ek):  # an unsigned key naming nothing: what it always was
                if self.decrypt_key is None:
                    raise PolicyViolation("message is encrypted; pass decrypt_key")
                raise DecryptionFailed(DECRYPTION_FAILED)

        fault = self._fault(body, version)
        if fault is not None and not is_signed(body):
            raise UnsignedFault(*fault)
        if self.require and not state.signatures:
            raise NotSigned("message is not signed (no ds:Signature in the Security header)")
        parts: list[str] = []
        if is_signed(body):
            parts.append("Body")
        if is_signed(state.timestamp):
            parts.append("Timestamp")
        if state.ut is not None and is_signed(state.ut.element):
            parts.append("UsernameToken")
        for a_el, _r in state.assertions:
            if is_signed(a_el):
                parts.append("Assertion")
        for el in signed:
            if header is not None and el.getparent() is header:
                parts.append(el.tag)
        for name in self.require:
            self._check_required(name, state, header, body, is_signed)
        if self.users is not None and state.ut is None:
            raise AuthenticationFailed("a UsernameToken is required but the message has none")
        # Which signature covers the Body decides who "the signer" is.
        primary = next((s for s in state.signatures if any(e is body for _i, e in s.references)), None)
        primary = primary or (state.signatures[0] if state.signatures else None)
        saml = self._check_saml(state, primary, is_signed)
        self._check_encrypted(state, body)
        self._check_replay(state)
        subject = None
        if saml is not None:
            subject = getattr(saml, "subject", None)
        if subject is None and state.ut is not None:
            subject = state.ut.username
        if subject is None and primary is not None and primary.certificate is not None:
            subject = subject_dn(primary.certificate)
        rewritten = False
        for el in state.comments_not_digested:
            rewritten = _drop_comments(el) or rewritten
        return VerifiedMessage(
            envelope=root,
            soap_version=version,
            signed_elements=tuple(signed),
            signed_parts=tuple(dict.fromkeys(parts)),
            signer_certificate=primary.certificate if primary else None,
            signer_chain=primary.chain if primary else (),
            username=state.ut.username if state.ut else None,
            timestamp_created=state.created,
            timestamp_expires=state.expires,
            encrypted=list(state.encrypted),
            saml=saml,
            subject=subject,
            signatures=tuple(state.signatures),
            rewritten=rewritten or bool(state.version),
        )

    def _check_required(self, name, state, header, body, is_signed) -> None:
        if name == "Body":
            if not is_signed(body):
                raise NotSigned("the SOAP Body is not covered by the signature (signature wrapping refused)")
        elif name == "Timestamp":
            if state.timestamp is None:
                raise PolicyViolation("a signed Timestamp is required but the message has none")
            if not is_signed(state.timestamp):
                raise NotSigned("the Timestamp is not covered by the signature")
        elif name == "UsernameToken":
            if state.ut is None:
                raise PolicyViolation("a signed UsernameToken is required but the message has none")
            if not is_signed(state.ut.element):
                raise NotSigned("the UsernameToken is not covered by the signature")
        elif name == "Assertion":
            if not state.assertions:
                raise PolicyViolation("a signed SAML Assertion is required but the message has none")
            if not all(is_signed(a) for a, _r in state.assertions):
                raise NotSigned("the SAML Assertion is not covered by the message signature")
        elif name == "BinarySecurityToken":
            sec = security_header(state.root, self.actor)
            bsts = sec.findall(_WSSE_BINARYSECURITYTOKEN) if sec is not None else []
            if not bsts or not all(is_signed(b) for b in bsts):
                raise NotSigned("the BinarySecurityToken is not covered by the signature")
        else:
            found = self._headers(header, name)
            if not found:
                raise PolicyViolation(f"required signed header {name} is missing")
            for h in found:
                if not is_signed(h):
                    raise NotSigned(f"header {etree.QName(h).localname} is not covered by the signature")

    @staticmethod
    def _headers(header: etree._Element | None, name: str) -> list[etree._Element]:
        if header is None:
            return []
        if name.startswith("{"):
            return [h for h in header if h.tag == name]
        found = [h for h in header if isinstance(h.tag, str) and etree.QName(h).namespace in _WSA]
        found = [h for h in found if etree.QName(h).localname == name]
        if found:
            return found
        return [
            h
            for h in header
            if isinstance(h.tag, str) and etree.QName(h).localname == name and h.tag != _WSSE_SECURITY
        ]

    @staticmethod
    def _fault(body: etree._Element, version: str) -> tuple[str, str] | None:
        ns = SOAP_NAMESPACES[version]
        fault = next(body.iterchildren(_FAULT_TAGS[version]), None)
        if fault is None:
            return None
        if version == "1.1":
            code = (fault.findtext("faultcode") or "").strip()
            reason = (fault.findtext("faultstring") or "").strip()
        else:
            code = (fault.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or "").strip()
            reason = (fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or "").strip()
        return " ".join(code.split())[:100], " ".join(reason.split())[:200]

    def _check_saml(self, state: _State, primary: SignatureResult | None, is_signed) -> Any:
        if not state.assertions:
            return None
        if len(state.assertions) > 1:
            raise PolicyViolation("more than one SAML assertion in the Security header")
        el, result = state.assertions[0]
        method = getattr(result, "confirmation", "")
        if method == "sender-vouches":
            if not is_signed(el) or primary is None or primary.certificate is None:
                raise NotSigned("sender-vouches assertion must be covered by the sender's message signature")
        elif method == "holder-of-key":
            _cert, key = _confirmation_key(result)
            if key is None or primary is None or not same_key(key, primary.public_key):
                raise PolicyViolation(
                    "holder-of-key: the message is not signed with the assertion's confirmation key"
                )
        return result

    def _check_encrypted(self, state: _State, body: etree._Element) -> None:
        # --- encryption policy (H2, issue 4): "Body" means the whole Body content:
        # a content part whose element IS this Body (node identity), or every
        # element child of the Body decrypted as an element part, nothing beside.
        for name in self.require_encrypted:
            if name == "Body":
                parts = state.encrypted
                ok = any(
                    getattr(p, "kind", "") == "content" and getattr(p, "element", None) is body for p in parts
                )
                if not ok:
                    done = [getattr(p, "element", None) for p in parts if getattr(p, "kind", "") == "element"]
                    children = [c for c in body if isinstance(c.tag, str)]
                    ok = (
                        bool(children)
                        and not (body.text or "").strip()
                        and all(not (c.tail or "").strip() for c in children)
                        and all(any(c is d for d in done) for c in children)
                    )
            else:
                ok = any(getattr(p, "name", None) == name for p in state.encrypted)
            if not ok:
                raise PolicyViolation(f"{name} is required to be encrypted but was not")
        # --- end encryption policy

    def _check_replay(self, state: _State) -> None:
        if self.replay_cache is None:
            return
        horizon = (state.created or state.now) + dt.timedelta(seconds=self.max_age)
        if state.expires is not None:
            horizon = min(horizon, state.expires)
        horizon = max(horizon, state.now) + dt.timedelta(seconds=2 * self.max_skew)
        for s in state.signatures:
            # keyed on what was signed and by whom, never on the SignatureValue
            # bytes (ECDSA signatures are malleable: (r, n - s) verifies too)
            key = "sig:" + s.replay_id
            if not self.replay_cache.check_and_store(key, horizon):
                raise ReplayDetected("this signed message was already accepted (replay)")


def _malleable(cipher_uri: str) -> bool:
    """True unless ``cipher_uri`` is a known AEAD (GCM) cipher: CBC and
    anything unknown count as malleable (fail closed)."""
    from wssec.xmlenc.algorithms import CIPHERS_BY_URI  # lazy, as the Decryptor is

    cipher = CIPHERS_BY_URI.get(cipher_uri)
    return cipher is None or not cipher.aead


def _drop_comments(element: etree._Element) -> bool:
    """Remove the comments from a signed subtree whose digest did not cover
    them, keeping the text around each (lxml moves an element's tail with
    it).  What the caller then reads (``.text``, ``itertext()``, the
    serialised envelope) is exactly what was digested: ``acct-victim<!---->
    .attacker`` reads ``acct-victim.attacker``, never ``acct-victim``.
    Processing instructions are digested by exc-c14n and stay.  True when
    any comment was removed."""
    comments = list(element.iter(etree.Comment))
    for comment in comments:
        parent = comment.getparent()
        if parent is None:
            continue
        tail = comment.tail
        if tail:
            prev = comment.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
        parent.remove(comment)
    return bool(comments)


def _confirmation_key(result: Any) -> tuple[x509.Certificate | None, Any]:
    """A holder-of-key assertion's confirmation certificate (or None) and
    public key (None when it names none): the key from the certificate
    (cached per certificate, :func:`wssec.trust.cert_public_key`), else the
    bare key it carries."""
    cert = getattr(result, "confirmation_certificate", None)
    key = cert_public_key(cert) if cert is not None else getattr(result, "confirmation_key", None)
    return cert, key


def verify(
    envelope: bytes | str | etree._Element, at: dt.datetime | None = None, **kwargs: Any
) -> VerifiedMessage:
    """One-shot ``Verifier(**kwargs).verify(envelope, at)``; build a Verifier to
    verify many (and to keep its replay cache)."""
    return Verifier(**kwargs).verify(envelope, at=at)


__all__ = ["NotSigned", "SignatureResult", "UnsignedFault", "VerifiedMessage", "Verifier", "verify"]
