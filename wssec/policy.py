"""WS-SecurityPolicy 1.1/1.2 (with WS-Policy 1.2 and 1.5) as data.

A WSDL's policy is the contract of a SOAP service: which binding
(Transport/Asymmetric/Symmetric), which algorithm suite, whether a Timestamp
is required, what must be signed and encrypted, which tokens travel.  This
module turns it into a frozen :class:`Policy` per policy alternative, so that

* a client (zeep with :class:`wssec.zeep.WsSecurity`) is configured from the
  WSDL instead of by hand (:meth:`Policy.to_settings`), and
* the static checks (:mod:`wssec.checks.static`) judge the contract itself
  (weak suites, Body not signed, no Timestamp …).

WS-Policy normalisation follows the spec: ``wsp:Policy``/``wsp:All`` are
conjunctions, ``wsp:ExactlyOne`` a choice, ``wsp:Optional="true"`` a choice
between the assertion and nothing, ``wsp:PolicyReference`` an inclusion.  A
policy with several alternatives lets the *requester* pick one, so checks
judge every alternative (a weak alternative is a weakness).  The number of
alternatives is bounded: policy documents are input, and a few nested
``ExactlyOne`` would otherwise explode combinatorially.

Every byte of XML is parsed by :func:`wssec.safexml.parse_xml`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from wssec.errors import MalformedMessage
from wssec.safexml import parse_xml

# ------------------------------------------------------------------ namespaces

SP11_NS = "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"
SP12_NS = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
SP13_NS = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200802"
SP_NAMESPACES = {SP11_NS: "1.1", SP12_NS: "1.2", SP13_NS: "1.3"}

WSP12_NS = "http://schemas.xmlsoap.org/ws/2004/09/policy"
WSP15_NS = "http://www.w3.org/ns/ws-policy"
WSP_NAMESPACES = (WSP12_NS, WSP15_NS)

WSDL11_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSA_IDENTITY_NS = "http://schemas.xmlsoap.org/ws/2006/02/addressingidentity"
# The WS-Security, WS-Addressing and XML-DSig namespaces are wssec.soap's (one spelling).
from wssec.soap import DS_NS, WSU_NS  # noqa: E402
from wssec.soap import WSA_NS as WSA10_NS  # noqa: E402

MAX_ALTERNATIVES = 64
"""Normalisation stops here: a legitimate policy has a handful of alternatives."""

# ------------------------------------------------------------------ algorithm URIs

# spelled once, in wssec.xmldsig.algorithms
from wssec.xmldsig.algorithms import (  # noqa: E402
    AES128_CBC,
    AES128_GCM,
    AES192_CBC,
    AES192_GCM,
    AES256_CBC,
    AES256_GCM,
    HMAC_SHA1,
    HMAC_SHA256,
    KW_AES128,
    KW_AES192,
    KW_AES256,
    KW_TRIPLEDES,
    RSA_1_5,
    RSA_OAEP_MGF1P,
    RSA_SHA1,
    RSA_SHA256,
    SHA1,
    SHA256,
    SHA512,
    TRIPLEDES_CBC,
)


@dataclass(frozen=True)
class AlgorithmSuite:
    """The algorithms an ``sp:AlgorithmSuite`` name stands for (WS-SP 1.2 §6.1).

    The ``*Sha256`` suites change the digest to SHA-256; apisec (like WSS4J
    and CXF) also signs with RSA-SHA256 under them, because RSA-SHA1 is the
    weakness the suite was chosen to avoid.  ``weaknesses`` lists why a suite
    is not acceptable today (SHA-1 digests, 128-bit/3DES ciphers, RSA v1.5
    key transport, which is open to Bleichenbacher-style oracles)."""

    name: str
    """The assertion's local name, e.g. ``Basic256Sha256``."""
    digest: str
    """[Dig] digest method URI."""
    encryption: str
    """[Enc] block cipher URI for EncryptedData."""
    symmetric_key_wrap: str
    """[Sym KW] key wrap URI."""
    asymmetric_key_wrap: str
    """[Asym KW] key transport URI (RSA-OAEP or RSA v1.5)."""
    asymmetric_signature: str
    """[Asym Sig] signature method URI for X.509 signatures."""
    symmetric_signature: str
    """[Sym Sig] HMAC signature method URI for symmetric bindings."""
    min_key_bits: int = 1024
    """[Min AKL]: the smallest RSA modulus the suite allows."""
    weaknesses: tuple[str, ...] = ()
    """Human-readable reasons this suite is weak; empty for a strong suite."""

    @property
    def weak(self) -> bool:
        return bool(self.weaknesses)


def _suite(name: str) -> AlgorithmSuite | None:
    """Build the suite for a WS-SP algorithm-suite name (None if unknown)."""
    rest = name
    sha256 = False
    rsa15 = False
    gcm = False
    if rest.endswith("Rsa15"):
        rsa15 = True
        rest = rest[: -len("Rsa15")]
    if rest.endswith("Sha256"):
        sha256 = True
        rest = rest[: -len("Sha256")]
    if rest.endswith("GCM"):
        gcm = True
        rest = rest[: -len("GCM")]
    ciphers = {
        "Basic256": (AES256_GCM if gcm else AES256_CBC, KW_AES256),
        "Basic192": (AES192_GCM if gcm else AES192_CBC, KW_AES192),
        "Basic128": (AES128_GCM if gcm else AES128_CBC, KW_AES128),
        "TripleDes": (TRIPLEDES_CBC, KW_TRIPLEDES),
    }
    if rest not in ciphers or (gcm and rest == "TripleDes"):
        return None
    enc, kw = ciphers[rest]
    weak: list[str] = []
    if not sha256:
        weak.append("SHA-1 digests and RSA-SHA1 signatures")
    if rest == "TripleDes":
        weak.append("Triple DES encryption")
    elif rest == "Basic128":
        weak.append("128-bit AES keys")
    if rsa15:
        weak.append("RSA v1.5 key transport (rsa-1_5)")
    return AlgorithmSuite(
        name=name,
        digest=SHA256 if sha256 else SHA1,
        encryption=enc,
        symmetric_key_wrap=kw,
        asymmetric_key_wrap=RSA_1_5 if rsa15 else RSA_OAEP_MGF1P,
        asymmetric_signature=RSA_SHA256 if sha256 else RSA_SHA1,
        symmetric_signature=HMAC_SHA256 if sha256 else HMAC_SHA1,
        min_key_bits=1024,
        weaknesses=tuple(weak),
    )


def algorithm_suite(name: str) -> AlgorithmSuite:
    """The :class:`AlgorithmSuite` for a WS-SP suite name; ``ValueError`` if unknown."""
    suite = _suite(name)
    if suite is None:
        raise ValueError(f"unknown WS-SecurityPolicy algorithm suite {name!r}")
    return suite


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Token:
    """A token assertion (``sp:X509Token``, ``sp:UsernameToken`` …)."""

    kind: str
    """Local name without the ``Token`` suffix: ``X509``, ``Username``,
    ``Saml``, ``Issued``, ``Https``, ``Kerberos``, ``SecureConversation``,
    ``SpnegoContext``, ``SecurityContext``, ``Rel``, ``KeyValue``."""
    include: str | None = None
    """``sp:IncludeToken`` as a short word: Never, Once, Always,
    AlwaysToRecipient, AlwaysToInitiator (None when absent = Always)."""
    options: tuple[str, ...] = ()
    """Nested assertion local names, e.g. ``WssX509V3Token10``,
    ``RequireThumbprintReference``, ``HashPassword``,
    ``RequireClientCertificate``, ``WssSamlV20Token11``."""

    @property
    def hash_password(self) -> bool:
        """A UsernameToken that sends a PasswordDigest (not the password)."""
        return "HashPassword" in self.options

    @property
    def no_password(self) -> bool:
        return "NoPassword" in self.options


@dataclass(frozen=True)
class SupportingToken:
    """A token from a ``*SupportingTokens`` assertion."""

    category: str
    """``SupportingTokens``, ``SignedSupportingTokens``,
    ``EndorsingSupportingTokens``, ``SignedEndorsingSupportingTokens``,
    ``SignedEncryptedSupportingTokens`` …"""
    token: Token


@dataclass(frozen=True)
class Parts:
    """``sp:SignedParts``/``sp:EncryptedParts``: which SOAP parts."""

    body: bool = False
    headers: tuple[tuple[str | None, str], ...] = ()
    """``(name or None for any, namespace)`` of each ``sp:Header``."""
    all_headers: bool = False
    """An empty ``sp:SignedParts`` means Body and every header (WS-SP §4.1.1)."""
    attachments: bool = False


@dataclass(frozen=True)
class Policy:
    """One WS-SecurityPolicy alternative, after WS-Policy normalisation.

    Fields default to "not required"; an empty ``Policy`` is a service that
    asks for no message security at all."""

    version: str | None = None
    """WS-SP version of the assertions (``1.1``, ``1.2``; ``1.3`` extensions)."""
    binding: str | None = None
    """``transport``, ``asymmetric``, ``symmetric`` or None (no binding)."""
    algorithm_suite: AlgorithmSuite | None = None
    """The resolved suite; None when the binding names none (or is unknown)."""
    algorithm_suite_name: str | None = None
    """The suite name as written (kept even if not recognised)."""
    layout: str | None = None
    """``Strict``, ``Lax``, ``LaxTsFirst``, ``LaxTsLast``."""
    include_timestamp: bool = False
    encrypt_before_signing: bool = False
    encrypt_signature: bool = False
    protect_tokens: bool = False
    only_sign_entire_headers_and_body: bool = False
    transport_token: Token | None = None
    initiator_token: Token | None = None
    recipient_token: Token | None = None
    protection_token: Token | None = None
    signature_token: Token | None = None
    encryption_token: Token | None = None
    supporting_tokens: tuple[SupportingToken, ...] = ()
    signed_parts: Parts | None = None
    encrypted_parts: Parts | None = None
    signed_elements: tuple[str, ...] = ()
    encrypted_elements: tuple[str, ...] = ()
    content_encrypted_elements: tuple[str, ...] = ()
    required_elements: tuple[str, ...] = ()
    wss10: tuple[str, ...] = ()
    """Options of ``sp:Wss10`` (``MustSupportRefKeyIdentifier`` …)."""
    wss11: tuple[str, ...] = ()
    """Options of ``sp:Wss11`` (``RequireSignatureConfirmation`` …)."""
    trust: tuple[str, ...] = ()
    """Options of ``sp:Trust10``/``sp:Trust13``."""
    other: tuple[str, ...] = ()
    """Clark names of assertions this parser does not interpret (reported, so
    nothing is silently dropped)."""

    # -------------------------------------------------------------- views

    @property
    def has_security(self) -> bool:
        """True when the policy asks for any message or transport security."""
        return bool(
            self.binding
            or self.signed_parts
            or self.encrypted_parts
            or self.signed_elements
            or self.encrypted_elements
            or self.supporting_tokens
        )

    @property
    def message_security(self) -> bool:
        """Asymmetric or symmetric binding: WS-Security on the message itself."""
        return self.binding in ("asymmetric", "symmetric")

    @property
    def body_signed(self) -> bool:
        sp = self.signed_parts
        return bool(sp and (sp.body or sp.all_headers)) or any(
            _xpath_names_body(x) for x in self.signed_elements
        )

    @property
    def body_encrypted(self) -> bool:
        ep = self.encrypted_parts
        return bool(ep and ep.body) or any(
            _xpath_names_body(x) for x in (*self.encrypted_elements, *self.content_encrypted_elements)
        )

    @property
    def username_tokens(self) -> tuple[Token, ...]:
        toks = [st.token for st in self.supporting_tokens if st.token.kind == "Username"]
        for t in (self.initiator_token, self.protection_token, self.signature_token):
            if t is not None and t.kind == "Username":
                toks.append(t)
        return tuple(toks)

    @property
    def signing_token(self) -> Token | None:
        """The token whose key signs requests (initiator, signature or protection)."""
        if self.binding == "asymmetric":
            return self.initiator_token or self.signature_token
        if self.binding == "symmetric":
            return self.signature_token or self.protection_token
        return None

    def weaknesses(self) -> list[str]:
        """Why this alternative is weak (empty when it is not)."""
        out: list[str] = []
        if self.algorithm_suite is not None:
            out.extend(self.algorithm_suite.weaknesses)
        return out

    def key_identifier(self) -> str:
        """How the signing certificate should be referenced, from the token's
        options: ``thumbprint``, ``ski`` (key identifier), ``issuer-serial``
        or ``bst`` (BinarySecurityToken, the default)."""
        tok = self.signing_token
        opts = set(tok.options) if tok else set()
        wss = set(self.wss10) | set(self.wss11)
        if "RequireThumbprintReference" in opts:
            return "thumbprint"
        if "RequireKeyIdentifierReference" in opts:
            return "ski"
        if "RequireIssuerSerialReference" in opts:
            return "issuer-serial"
        if tok is not None and tok.include == "Never":
            if "MustSupportRefThumbprint" in wss:
                return "thumbprint"
            if "MustSupportRefKeyIdentifier" in wss:
                return "ski"
            return "issuer-serial"
        return "bst"

    def signed_part_names(self) -> list[str]:
        """Parts a signer must cover: ``Body``, ``Timestamp`` and header
        Clark names (``{ns}Local``)."""
        names: list[str] = []
        if self.body_signed:
            names.append("Body")
        if self.include_timestamp:
            names.append("Timestamp")
        if self.signed_parts:
            for name, ns in self.signed_parts.headers:
                if name:
                    names.append(f"{{{ns}}}{name}")
        return names

    def to_settings(self) -> PolicySettings:
        """Keyword settings for :class:`wssec.Signer`, :class:`wssec.Encryptor`
        and :class:`wssec.Verifier` that satisfy this alternative.

        The dictionaries hold plain values (URIs, part names, booleans) so
        they can be logged and compared; keys and certificates are the
        caller's business and are passed alongside::

            s = policy.to_settings()
            signer = wssec.Signer(key, cert, **s.signer)
            verifier = wssec.Verifier(trust=ca, **s.verifier)
        """
        return _settings_for(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (for ``--format json`` and reports)."""
        import dataclasses

        out = dataclasses.asdict(self)
        out["algorithm_suite"] = self.algorithm_suite.name if self.algorithm_suite else None
        return out


@dataclass(frozen=True)
class PolicySettings:
    """What :meth:`Policy.to_settings` returns."""

    signer: dict[str, Any] = field(default_factory=dict)
    """Keywords for :class:`wssec.Signer` (None when the policy asks for no signature)."""
    encryptor: dict[str, Any] | None = None
    """Keywords for :class:`wssec.Encryptor`, or None when nothing is encrypted."""
    verifier: dict[str, Any] = field(default_factory=dict)
    """Keywords for :class:`wssec.Verifier` (what inbound messages must satisfy)."""
    sign: bool = False
    """True when the policy requires requests to be signed."""
    encrypt: bool = False
    """True when the policy requires the Body to be encrypted."""
    key_identifier: str = "bst"
    """How the signing certificate is referenced (``key_identifier`` of the Signer)."""
    order: str = "sign-then-encrypt"
    """``encrypt-then-sign`` when the policy says sp:EncryptBeforeSigning
    (the value :func:`wssec.secure` takes as ``order``)."""


_SIG_NAMES = {RSA_SHA1: "rsa-sha1", RSA_SHA256: "rsa-sha256"}
_DIGEST_NAMES = {SHA1: "sha1", SHA256: "sha256", SHA512: "sha512"}
_CIPHER_NAMES = {
    AES128_CBC: "aes128-cbc",
    AES192_CBC: "aes192-cbc",
    AES256_CBC: "aes256-cbc",
    AES128_GCM: "aes128-gcm",
    AES192_GCM: "aes192-gcm",
    AES256_GCM: "aes256-gcm",
    TRIPLEDES_CBC: "tripledes-cbc",
}
_KT_NAMES = {RSA_OAEP_MGF1P: "rsa-oaep", RSA_1_5: "rsa-1_5"}
DEFAULT_TIMESTAMP_TTL = 300


def _settings_for(p: Policy) -> PolicySettings:
    suite = p.algorithm_suite or algorithm_suite("Basic256Sha256")
    sign = p.message_security and (p.body_signed or p.include_timestamp or bool(p.signed_elements))
    parts = p.signed_part_names()
    key_id = p.key_identifier()
    signer: dict[str, Any] = {}
    if sign:
        signer = {
            "signature_algorithm": _SIG_NAMES[suite.asymmetric_signature],
            "digest_algorithm": _DIGEST_NAMES[suite.digest],
            "sign": parts,
            "timestamp": DEFAULT_TIMESTAMP_TTL if p.include_timestamp else None,
            "key_identifier": key_id,
        }
    encrypt = p.message_security and p.body_encrypted
    encryptor: dict[str, Any] | None = None
    if encrypt:
        encryptor = {
            "encrypt": ["Body"],
            "cipher": _CIPHER_NAMES[suite.encryption],
            "key_transport": _KT_NAMES[suite.asymmetric_key_wrap],
        }
    verifier: dict[str, Any] = {"require": list(parts) if sign else []}
    if encrypt:
        verifier["require_encrypted"] = ["Body"]
    if suite.digest == SHA1 or suite.asymmetric_signature == RSA_SHA1:
        verifier["allow_sha1"] = True
    return PolicySettings(
        signer=signer,
        encryptor=encryptor,
        verifier=verifier,
        sign=sign,
        encrypt=encrypt,
        key_identifier=key_id,
        order="encrypt-then-sign" if p.encrypt_before_signing else "sign-then-encrypt",
    )


def _xpath_names_body(xpath: str) -> bool:
    """True when an ``sp:XPath`` plainly selects the SOAP Body."""
    x = xpath.replace(" ", "")
    return x.rstrip("/").endswith(":Body") or x.endswith("/Body") or "Body" == x.rsplit("/", 1)[-1]


# ------------------------------------------------------------------ normalisation


def _is_wsp(el: etree._Element, local: str) -> bool:
    return (
        isinstance(el.tag, str)
        and etree.QName(el).localname == local
        and (etree.QName(el).namespace in WSP_NAMESPACES)
    )


def _ns(el: etree._Element) -> str | None:
    return etree.QName(el).namespace if isinstance(el.tag, str) else None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str)]


Alternative = tuple[etree._Element, ...]


class PolicyError(MalformedMessage):
    """A policy document could not be understood (bad reference, too many
    alternatives, not a policy)."""


def _optional(el: etree._Element) -> bool:
    for ns in WSP_NAMESPACES:
        v = el.get(f"{{{ns}}}Optional")
        if v is not None:
            return v.strip().lower() in ("true", "1")
    return False


def _product(groups: Sequence[list[Alternative]]) -> list[Alternative]:
    out: list[Alternative] = [()]
    for g in groups:
        out = [a + b for a in out for b in g]
        if len(out) > MAX_ALTERNATIVES:
            raise PolicyError(f"policy has more than {MAX_ALTERNATIVES} alternatives")
    return out


def normalize(
    el: etree._Element,
    ids: Mapping[str, etree._Element],
    *,
    _seen: tuple[str, ...] = (),
) -> list[Alternative]:
    """WS-Policy normal form of an operator element: a list of alternatives,
    each a tuple of assertion elements (conjunction)."""
    if _is_wsp(el, "Policy") or _is_wsp(el, "All"):
        return _product([_normalize_item(c, ids, _seen) for c in _elements(el)])
    if _is_wsp(el, "ExactlyOne"):
        out: list[Alternative] = []
        for c in _elements(el):
            out.extend(_normalize_item(c, ids, _seen))
            if len(out) > MAX_ALTERNATIVES:
                raise PolicyError(f"policy has more than {MAX_ALTERNATIVES} alternatives")
        return out
    return _normalize_item(el, ids, _seen)


def _normalize_item(
    el: etree._Element, ids: Mapping[str, etree._Element], _seen: tuple[str, ...]
) -> list[Alternative]:
    if _is_wsp(el, "PolicyReference"):
        uri = el.get("URI", "")
        target = _resolve(uri, ids)
        if target is None:
            raise PolicyError(f"unresolved wsp:PolicyReference {uri!r}")
        if uri in _seen:
            raise PolicyError(f"circular wsp:PolicyReference {uri!r}")
        return normalize(target, ids, _seen=(*_seen, uri))
    if _is_wsp(el, "Policy") or _is_wsp(el, "All") or _is_wsp(el, "ExactlyOne"):
        return normalize(el, ids, _seen=_seen)
    if _ns(el) in WSP_NAMESPACES:
        return [()]  # other wsp:* elements (PolicyAttachment …) carry no assertion
    if _optional(el):
        return [(el,), ()]
    return [(el,)]


def _resolve(uri: str, ids: Mapping[str, etree._Element]) -> etree._Element | None:
    if uri.startswith("#"):
        return ids.get(uri[1:])
    return ids.get(uri)  # a full URI matching a policy's Name


def policy_ids(root: etree._Element) -> dict[str, etree._Element]:
    """Every ``wsp:Policy`` in a document by ``wsu:Id`` (and ``xml:id``/``Name``)."""
    ids: dict[str, etree._Element] = {}
    for el in root.iter():
        if not (isinstance(el.tag, str) and _is_wsp(el, "Policy")):
            continue
        for attr in (f"{{{WSU_NS}}}Id", "{http://www.w3.org/XML/1998/namespace}id", "Name"):
            v = el.get(attr)
            if v:
                ids[v] = el
    return ids


# ------------------------------------------------------------------ assertion → model


def _include(el: etree._Element) -> str | None:
    for ns in SP_NAMESPACES:
        v = el.get(f"{{{ns}}}IncludeToken")
        if v:
            return v.rsplit("/", 1)[-1]
    return None


def _nested_assertions(el: etree._Element) -> list[etree._Element]:
    """Assertions of an assertion's nested ``wsp:Policy`` (first alternative:
    nested policies of security assertions carry one alternative in practice)."""
    out: list[etree._Element] = []
    for child in _elements(el):
        if _is_wsp(child, "Policy"):
            for c in _elements(child):
                if _is_wsp(c, "ExactlyOne"):
                    alts = [a for a in _elements(c)]
                    if alts:
                        out.extend(_elements(alts[0]) if _is_wsp(alts[0], "All") else [alts[0]])
                elif _is_wsp(c, "All"):
                    out.extend(_elements(c))
                else:
                    out.append(c)
    return out


def _token(el: etree._Element) -> Token | None:
    """The first token assertion under a token-holder (``sp:InitiatorToken`` …)
    or the token element itself."""
    local = _local(el)
    if local.endswith("Token") and _ns(el) in SP_NAMESPACES and local not in _HOLDERS:
        opts = tuple(_local(c) for c in _nested_assertions(el))
        kind = local[: -len("Token")]
        return Token(kind=kind, include=_include(el), options=opts)
    for c in _nested_assertions(el):
        t = _token(c)
        if t is not None:
            return t
    return None


_HOLDERS = {
    "InitiatorToken",
    "RecipientToken",
    "InitiatorSignatureToken",
    "RecipientSignatureToken",
    "InitiatorEncryptionToken",
    "RecipientEncryptionToken",
    "ProtectionToken",
    "SignatureToken",
    "EncryptionToken",
    "TransportToken",
}


def _parts(el: etree._Element) -> Parts:
    body = False
    headers: list[tuple[str | None, str]] = []
    attachments = False
    for c in _elements(el):
        ln = _local(c)
        if ln == "Body":
            body = True
        elif ln == "Header":
            headers.append((c.get("Name"), c.get("Namespace", "")))
        elif ln == "Attachments":
            attachments = True
    empty = not _elements(el)
    return Parts(body=body or empty, headers=tuple(headers), all_headers=empty, attachments=attachments)


def _xpaths(el: etree._Element) -> tuple[str, ...]:
    return tuple((c.text or "").strip() for c in _elements(el) if _local(c) == "XPath")


def policy_from_assertions(assertions: Iterable[etree._Element]) -> Policy:
    """Build a :class:`Policy` from one normalised alternative."""
    kw: dict[str, Any] = {}
    versions: set[str] = set()
    supporting: list[SupportingToken] = []
    other: list[str] = []
    signed_parts: list[Parts] = []
    encrypted_parts: list[Parts] = []
    lists: dict[str, list[str]] = {
        "signed_elements": [],
        "encrypted_elements": [],
        "content_encrypted_elements": [],
        "required_elements": [],
    }

    def binding_details(b: etree._Element) -> None:
        for a in _nested_assertions(b):
            if _ns(a) not in SP_NAMESPACES:
                other.append(str(a.tag))
                continue
            ln = _local(a)
            if ln in _HOLDERS:
                attr = {
                    "InitiatorToken": "initiator_token",
                    "InitiatorSignatureToken": "initiator_token",
                    "RecipientToken": "recipient_token",
                    "RecipientEncryptionToken": "recipient_token",
                    "ProtectionToken": "protection_token",
                    "SignatureToken": "signature_token",
                    "EncryptionToken": "encryption_token",
                    "TransportToken": "transport_token",
                }.get(ln)
                if attr:
                    kw[attr] = _token(a)
            elif ln == "AlgorithmSuite":
                names = [_local(c) for c in _nested_assertions(a) if _ns(c) in SP_NAMESPACES]
                suite_names = [n for n in names if _suite(n) is not None] or names
                if suite_names:
                    kw["algorithm_suite_name"] = suite_names[0]
                    kw["algorithm_suite"] = _suite(suite_names[0])
            elif ln == "Layout":
                inner = [_local(c) for c in _nested_assertions(a)]
                kw["layout"] = inner[0] if inner else None
            elif ln == "IncludeTimestamp":
                kw["include_timestamp"] = True
            elif ln == "EncryptBeforeSigning":
                kw["encrypt_before_signing"] = True
            elif ln == "EncryptSignature":
                kw["encrypt_signature"] = True
            elif ln == "ProtectTokens":
                kw["protect_tokens"] = True
            elif ln == "OnlySignEntireHeadersAndBody":
                kw["only_sign_entire_headers_and_body"] = True
            else:
                other.append(str(a.tag))

    for a in assertions:
        ns = _ns(a)
        if ns not in SP_NAMESPACES:
            other.append(str(a.tag))
            continue
        versions.add(SP_NAMESPACES[ns])
        ln = _local(a)
        if ln in ("TransportBinding", "AsymmetricBinding", "SymmetricBinding"):
            kw["binding"] = ln[: -len("Binding")].lower()
            binding_details(a)
        elif ln == "SignedParts":
            signed_parts.append(_parts(a))
        elif ln == "EncryptedParts":
            encrypted_parts.append(_parts(a))
        elif ln == "SignedElements":
            lists["signed_elements"].extend(_xpaths(a))
        elif ln == "EncryptedElements":
            lists["encrypted_elements"].extend(_xpaths(a))
        elif ln == "ContentEncryptedElements":
            lists["content_encrypted_elements"].extend(_xpaths(a))
        elif ln == "RequiredElements":
            lists["required_elements"].extend(_xpaths(a))
        elif ln.endswith("SupportingTokens"):
            for c in _nested_assertions(a):
                t = _token(c) if _ns(c) in SP_NAMESPACES else None
                if t is not None:
                    supporting.append(SupportingToken(category=ln, token=t))
        elif ln in ("Wss10", "Wss11"):
            kw[ln.lower()] = tuple(_local(c) for c in _nested_assertions(a))
        elif ln in ("Trust10", "Trust13"):
            kw["trust"] = tuple(_local(c) for c in _nested_assertions(a))
        elif ln.endswith("Token"):
            supporting.append(SupportingToken(category="Token", token=_token(a) or Token(ln[:-5])))
        else:
            other.append(str(a.tag))

    if signed_parts:
        kw["signed_parts"] = _merge_parts(signed_parts)
    if encrypted_parts:
        kw["encrypted_parts"] = _merge_parts(encrypted_parts)
    for k, v in lists.items():
        kw[k] = tuple(v)
    if versions:
        kw["version"] = max(v for v in versions if v != "1.3") if versions - {"1.3"} else "1.3"
    return Policy(supporting_tokens=tuple(supporting), other=tuple(dict.fromkeys(other)), **kw)


def _merge_parts(parts: list[Parts]) -> Parts:
    return Parts(
        body=any(p.body for p in parts),
        headers=tuple(dict.fromkeys(h for p in parts for h in p.headers)),
        all_headers=any(p.all_headers for p in parts),
        attachments=any(p.attachments for p in parts),
    )


# ------------------------------------------------------------------ entry points


def _root(source: bytes | str | etree._Element, what: str) -> etree._Element:
    if isinstance(source, etree._Element):
        return source
    return parse_xml(source, what=what)


def parse_policy_alternatives(source: bytes | str | etree._Element) -> list[Policy]:
    """Every alternative of a standalone policy document (``wsp:Policy`` root)."""
    root = _root(source, "policy")
    if not _is_wsp(root, "Policy"):
        raise PolicyError(f"not a WS-Policy document (root is {root.tag})")
    return [policy_from_assertions(a) for a in normalize(root, policy_ids(root))] or [Policy()]


def parse_policy(source: bytes | str | etree._Element) -> Policy:
    """The first alternative of a standalone policy document.

    Use :func:`parse_policy_alternatives` to see every alternative a
    requester may choose."""
    return parse_policy_alternatives(source)[0]


# ------------------------------------------------------------------ WSDL


@dataclass(frozen=True)
class OperationPolicy:
    """The effective policy of one operation's input and output on one port."""

    service: str
    port: str
    binding: str
    operation: str
    address: str | None
    soap_version: str | None
    """``1.1`` or ``1.2`` from the binding's soap namespace."""
    soap_action: str | None
    input: tuple[Policy, ...]
    """Alternatives for the request (empty tuple: no policy attached)."""
    output: tuple[Policy, ...]
    """Alternatives for the response."""

    @property
    def input_policy(self) -> Policy:
        return self.input[0] if self.input else Policy()

    @property
    def output_policy(self) -> Policy:
        return self.output[0] if self.output else Policy()


@dataclass(frozen=True)
class WsdlPolicy:
    """Everything WS-SecurityPolicy-related a WSDL 1.1 document says."""

    target_namespace: str | None
    operations: tuple[OperationPolicy, ...]
    addresses: tuple[str, ...]
    """Every ``soap:address``/``soap12:address`` location."""
    policies: int
    """Number of ``wsp:Policy`` elements in the document."""
    service_certificates: tuple[bytes, ...] = ()
    """DER certificates published as the port's WS-Addressing identity
    (``wsa:EndpointReference/wsid:Identity/ds:KeyInfo``), as WCF does: the
    key a client encrypts requests to."""

    def policy_for(self, operation: str | None = None) -> Policy:
        """The first input alternative of ``operation`` (or of the first operation)."""
        for op in self.operations:
            if operation is None or op.operation == operation:
                return op.input_policy
        if operation is not None:
            raise KeyError(f"no operation {operation!r} in the WSDL")
        return Policy()


def _attached(el: etree._Element | None) -> list[etree._Element]:
    """Policy operators attached to a WSDL element: child Policy/PolicyReference
    elements and ``wsp:PolicyURIs`` attributes."""
    if el is None:
        return []
    out = [c for c in _elements(el) if _is_wsp(c, "Policy") or _is_wsp(c, "PolicyReference")]
    for ns in WSP_NAMESPACES:
        uris = el.get(f"{{{ns}}}PolicyURIs")
        if uris:
            for u in uris.split():
                ref = etree.Element(f"{{{ns}}}PolicyReference", URI=u)
                out.append(ref)
    return out


def _qname_local(value: str | None) -> str:
    return (value or "").split(":")[-1]


def parse_wsdl_policy(source: bytes | str | etree._Element) -> WsdlPolicy:
    """Effective per-operation policies of a WSDL 1.1 document.

    Attachment points (WS-PolicyAttachment §4.1): service port, binding and
    portType (endpoint subject); binding/portType operation (operation
    subject); binding/portType input/output and the ``wsdl:message`` (message
    subject).  Their policies merge as a conjunction."""
    root = _root(source, "WSDL")
    if etree.QName(root).localname != "definitions" or etree.QName(root).namespace != WSDL11_NS:
        raise PolicyError(f"not a WSDL 1.1 document (root is {root.tag})")
    ids = policy_ids(root)
    w = f"{{{WSDL11_NS}}}"

    def by_name(tag: str) -> dict[str, etree._Element]:
        return {e.get("name", ""): e for e in root.iter(w + tag)}

    messages = by_name("message")
    port_types = by_name("portType")
    bindings = by_name("binding")

    ops: list[OperationPolicy] = []
    addresses: list[str] = []
    certs: list[bytes] = []
    ports: list[tuple[str, etree._Element]] = []
    for svc in root.iter(w + "service"):
        for port in svc.iter(w + "port"):
            ports.append((svc.get("name", ""), port))
    if not ports:  # a binding-only WSDL still has policies worth checking
        for b in bindings.values():
            fake = etree.Element(w + "port", name="", binding=b.get("name", ""))
            ports.append(("", fake))

    for svc_name, port in ports:
        address = None
        soap_version = None
        for c in _elements(port):
            if _local(c) == "address" and _ns(c) in (WSDL_SOAP11_NS, WSDL_SOAP12_NS):
                address = c.get("location")
                if address:
                    addresses.append(address)
        certs.extend(_identity_certs(port))
        binding = bindings.get(_qname_local(port.get("binding")))
        if binding is None:
            continue
        for c in _elements(binding):
            if _local(c) == "binding" and _ns(c) == WSDL_SOAP11_NS:
                soap_version = "1.1"
            elif _local(c) == "binding" and _ns(c) == WSDL_SOAP12_NS:
                soap_version = "1.2"
        port_type = port_types.get(_qname_local(binding.get("type")))
        endpoint = _attached(port) + _attached(binding) + _attached(port_type)
        pt_ops = {o.get("name"): o for o in port_type.iter(w + "operation")} if port_type is not None else {}
        for bop in binding.iter(w + "operation"):
            name = bop.get("name", "")
            ptop = pt_ops.get(name)
            soap_action = None
            for c in _elements(bop):
                if _local(c) == "operation" and _ns(c) in (WSDL_SOAP11_NS, WSDL_SOAP12_NS):
                    soap_action = c.get("soapAction")
            operation_level = _attached(bop) + _attached(ptop)
            per_dir: dict[str, tuple[Policy, ...]] = {}
            for direction in ("input", "output"):
                b_msg = bop.find(w + direction)
                p_msg = ptop.find(w + direction) if ptop is not None else None
                msg_el = messages.get(_qname_local(p_msg.get("message"))) if p_msg is not None else None
                attached = endpoint + operation_level + _attached(b_msg) + _attached(p_msg)
                attached += _attached(msg_el)
                per_dir[direction] = _effective(attached, ids)
            ops.append(
                OperationPolicy(
                    service=svc_name,
                    port=port.get("name", ""),
                    binding=binding.get("name", ""),
                    operation=name,
                    address=address,
                    soap_version=soap_version,
                    soap_action=soap_action,
                    input=per_dir["input"],
                    output=per_dir["output"],
                )
            )
    return WsdlPolicy(
        target_namespace=root.get("targetNamespace"),
        operations=tuple(ops),
        addresses=tuple(dict.fromkeys(addresses)),
        policies=sum(1 for el in root.iter() if isinstance(el.tag, str) and _is_wsp(el, "Policy")),
        service_certificates=tuple(dict.fromkeys(certs)),
    )


def _effective(attached: list[etree._Element], ids: Mapping[str, etree._Element]) -> tuple[Policy, ...]:
    if not attached:
        return ()
    groups = [normalize(el, ids) for el in attached]
    alts = _product(groups)
    policies = [policy_from_assertions(a) for a in alts]
    return tuple(dict.fromkeys(policies)) or (Policy(),)


def _identity_certs(port: etree._Element) -> list[bytes]:
    import base64

    out: list[bytes] = []
    for epr in port.iter(f"{{{WSA10_NS}}}EndpointReference"):
        for c in epr.iter(f"{{{DS_NS}}}X509Certificate"):
            text = "".join((c.text or "").split())
            try:
                out.append(base64.b64decode(text, validate=True))
            except ValueError:
                continue
    return out


__all__ = [
    "AlgorithmSuite",
    "OperationPolicy",
    "Parts",
    "Policy",
    "PolicyError",
    "PolicySettings",
    "SP11_NS",
    "SP12_NS",
    "SupportingToken",
    "Token",
    "WsdlPolicy",
    "algorithm_suite",
    "normalize",
    "parse_policy",
    "parse_policy_alternatives",
    "parse_wsdl_policy",
    "policy_from_assertions",
]
