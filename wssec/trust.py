"""Certificate trust and key policy: the one place that decides whether a
certificate or key may sign (or receive a key) for apisec.

Two things live here, used by every signature path (WS-Security message
signatures, SAML Responses and Assertions, holder-of-key keys, pinned and
metadata certificates) and by the encryption recipient check:

* :class:`KeyPolicy`: what a key must be (RSA >= 2048 bits; EC only on
  P-256/P-384/P-521; Ed25519/Ed448) and what a certificate must be *for*
  (RFC 5280 section 4.2.1.3 keyUsage and 4.2.1.12 extendedKeyUsage).
* :class:`TrustStore`: path validation to trust anchors at a given time.

Path building and RFC 5280 validation are cryptography's
(``cryptography.x509.verification``), with the CA side held to the Web PKI
rules and the end-entity extensions left open: WS-Security signer
certificates from enterprise CAs routinely lack SANs or carry odd EKUs, and
a signature key is trusted because its issuer is, not because of its host
name.  A certificate listed among the anchors itself (a pinned leaf) is
trusted directly.  Validated chains are cached per certificate; the validity
windows are re-checked on every call, so the cache never extends trust in
time.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from wssec.errors import UntrustedKey, WeakKey
from wssec.keys import CertSource, load_certificates

# ------------------------------------------------------------------ key policy

#: EC curves a signer (or recipient) key may use: NIST P-256, P-384, P-521.
ALLOWED_CURVES: frozenset[str] = frozenset({"secp256r1", "secp384r1", "secp521r1"})

#: Extended key usages a *signing* certificate with an EKU extension must
#: allow one of (RFC 5280 4.2.1.12): anyExtendedKeyUsage, TLS client and
#: server authentication (WS-Security peers commonly sign with their TLS
#: certificate), e-mail protection (S/MIME-style document signing
#: certificates), RFC 9336 id-kp-documentSigning and Microsoft's document
#: signing OID.  OCSPSigning, timeStamping, codeSigning and anything else
#: are refused unless added with ``KeyPolicy(signing_ekus=...)``.
DEFAULT_SIGNING_EKUS: frozenset[ObjectIdentifier] = frozenset(
    {
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning (RFC 9336)
        ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # Microsoft document signing
    }
)

_EKU_NAMES = {
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
}


def _eku_name(oid: ObjectIdentifier) -> str:
    return _EKU_NAMES.get(oid) or oid.dotted_string


#: Purpose names :func:`eku_purpose` reads (RFC 5280 / RFC 9336 short names).
EKU_PURPOSES: dict[str, ObjectIdentifier] = {
    **{name: oid for oid, name in _EKU_NAMES.items()},
    "anyExtendedKeyUsage": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "documentSigning": ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
}


def eku_purpose(text: str) -> ObjectIdentifier:
    """An extendedKeyUsage purpose by name (``codeSigning``, ``timeStamping``,
    ``OCSPSigning``, … any key of :data:`EKU_PURPOSES`, case-insensitive) or
    dotted OID (``1.3.6.1.5.5.7.3.3``); ValueError for anything else."""
    value = text.strip()
    for name, oid in EKU_PURPOSES.items():
        if name.lower() == value.lower():
            return oid
    parts = value.split(".")
    if len(parts) >= 2 and all(p.isascii() and p.isdigit() for p in parts):
        try:
            return ObjectIdentifier(value)
        except ValueError:
            pass
    known = ", ".join(sorted(EKU_PURPOSES))
    raise ValueError(f"unknown extendedKeyUsage purpose {value[:60]!r} (a dotted OID or one of: {known})")


@dataclass(frozen=True)
class KeyPolicy:
    """What a signing (or key-transport) key and certificate must be.

    One instance is applied to every signature apisec verifies (WS-Security,
    SAML Response/Assertion, holder-of-key, pinned and metadata
    certificates); see the "Trust policy" sections of docs/wssec-signing.md
    and docs/wssec-saml.md.  Frozen and hashable, so checks of a certificate
    are cached per (policy, certificate).
    """

    min_rsa_bits: int = 2048
    """Smallest RSA modulus accepted (1024 only to read legacy test vectors)."""
    curves: frozenset[str] = ALLOWED_CURVES
    """EC curve names (cryptography's ``curve.name``) accepted."""
    allow_eddsa: bool = True
    """Accept Ed25519/Ed448 keys (for algorithms that use them)."""
    signing_ekus: frozenset[ObjectIdentifier] | None = DEFAULT_SIGNING_EKUS
    """When a signing certificate has an extendedKeyUsage extension, one of
    these purposes must be in it; ``None`` skips the EKU check (not advised)."""
    check_key_usage: bool = True
    """Enforce keyUsage (digitalSignature/nonRepudiation for signers,
    keyEncipherment for key-transport recipients) when the extension is present."""

    def check_key(self, key: Any, what: str = "signer") -> None:
        """Raise :class:`wssec.errors.WeakKey` unless ``key`` meets the policy."""
        if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
            if key.key_size < self.min_rsa_bits:
                raise WeakKey(f"{what}'s RSA key has {key.key_size} bits (need >= {self.min_rsa_bits})")
            return
        if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
            if key.curve.name not in self.curves:
                allowed = ", ".join(sorted(self.curves))
                raise WeakKey(f"{what}'s EC key is on curve {key.curve.name} (allowed: {allowed})")
            return
        eddsa = (
            ed25519.Ed25519PublicKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PublicKey,
            ed448.Ed448PrivateKey,
        )
        if isinstance(key, eddsa):
            if not self.allow_eddsa:
                raise WeakKey(f"{what}'s EdDSA key is not allowed by the key policy")
            return
        raise WeakKey(f"{what}'s key type {type(key).__name__} is not supported")

    def check_signer(self, cert: x509.Certificate | None, key: Any = None) -> None:
        """Refuse a signer whose key is weak or whose certificate is not for
        signing (keyUsage without digitalSignature/nonRepudiation, or an
        extendedKeyUsage without an accepted purpose).  ``cert`` may be None
        for a bare key (holder-of-key KeyValue)."""
        if cert is None:
            self.check_key(key)
            return
        _signer_ok(self, cert)

    def check_recipient(self, cert: x509.Certificate) -> None:
        """Refuse a key-transport recipient whose key is weak or whose
        keyUsage does not assert keyEncipherment."""
        key = cert_public_key(cert, "recipient")
        self.check_key(key, "recipient")
        ku = _key_usage(cert)
        if self.check_key_usage and ku is not None and not ku.key_encipherment:
            raise UntrustedKey(
                f"certificate {_subject(cert)} is not for key transport (keyUsage lacks keyEncipherment)"
            )


DEFAULT_KEY_POLICY = KeyPolicy()


class _CertFacts:
    """What apisec derives from one certificate, derived once: its public
    key, its subject DN and the key policies it passed as a signer.  A peer
    signs every message with the same certificate, and each of these costs
    more than a dictionary hit (a fresh key object makes OpenSSL rebuild its
    Montgomery context; cryptography rebuilds the Name on every
    ``.subject``).  Failures are never cached: they are raised again."""

    __slots__ = ("key", "signer_ok", "subject")

    def __init__(self) -> None:
        self.key: Any = None
        self.subject: str | None = None
        self.signer_ok: frozenset[KeyPolicy] = frozenset()


_FACTS_BY_DER: dict[x509.Certificate, _CertFacts] = {}
"""Certificate hashes and compares by its DER, so another object with the
same bytes finds the same facts; hashing the DER costs microseconds, so..."""
_FACTS_BY_ID: dict[int, tuple[x509.Certificate, _CertFacts]] = {}
"""...the very object a BinarySecurityToken cache hands out again is found
by identity first (the entry holds the certificate, so its id stays its own)."""
_MAX_FACTS = 256


def _facts(cert: x509.Certificate) -> _CertFacts:
    """The one per-certificate cache (bounded: cleared when full)."""
    hit = _FACTS_BY_ID.get(id(cert))
    if hit is not None and hit[0] is cert:
        return hit[1]
    facts = _FACTS_BY_DER.get(cert)
    if facts is None:
        if len(_FACTS_BY_DER) >= _MAX_FACTS:
            _FACTS_BY_DER.clear()
        facts = _FACTS_BY_DER[cert] = _CertFacts()
    if len(_FACTS_BY_ID) >= _MAX_FACTS:
        _FACTS_BY_ID.clear()
    _FACTS_BY_ID[id(cert)] = (cert, facts)
    return facts


def cert_public_key(cert: x509.Certificate, what: str = "signing") -> Any:
    """``cert.public_key()``, cached per certificate, or
    :class:`wssec.errors.WeakKey` when the certificate's public-key algorithm
    is unknown or its key unreadable (cryptography raises
    ValueError/UnsupportedAlgorithm there)."""
    facts = _facts(cert)
    key = facts.key
    if key is not None:
        return key
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise WeakKey(
            f"{what} certificate {_subject(cert)} has an unsupported public-key algorithm"
        ) from None
    facts.key = key
    return key


def subject_dn(cert: x509.Certificate) -> str | None:
    """The certificate's subject as an RFC 4514 string, formatted once per
    certificate (cryptography rebuilds the Name on every ``.subject``); None
    when it cannot be read."""
    facts = _facts(cert)
    if facts.subject is None:
        try:
            facts.subject = cert.subject.rfc4514_string()
        except (ValueError, KeyError):  # KeyError: a name attribute of an unknown ASN.1 string type
            return None
    return facts.subject


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        raise UntrustedKey(f"certificate {_subject(cert)} has unreadable extensions") from None


def _eku(cert: x509.Certificate) -> x509.ExtendedKeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        raise UntrustedKey(f"certificate {_subject(cert)} has unreadable extensions") from None


def _signer_ok(policy: KeyPolicy, cert: x509.Certificate) -> None:
    """The signer checks of :meth:`KeyPolicy.check_signer`, remembered per
    (certificate, policy) for certificates that pass."""
    facts = _facts(cert)
    if policy in facts.signer_ok:
        return
    policy.check_key(cert_public_key(cert, "signing"))
    if policy.check_key_usage:
        ku = _key_usage(cert)
        if ku is not None and not (ku.digital_signature or ku.content_commitment):
            raise UntrustedKey(
                f"certificate {_subject(cert)} is not for signing "
                "(keyUsage lacks digitalSignature and nonRepudiation)"
            )
    if policy.signing_ekus is not None:
        eku = _eku(cert)
        if eku is not None and not any(oid in policy.signing_ekus for oid in eku):
            names = ", ".join(_eku_name(o) for o in eku) or "(empty)"
            raise UntrustedKey(
                f"certificate {_subject(cert)} is not for signing: extendedKeyUsage {names} "
                "allows no accepted signing purpose"
            )
    facts.signer_ok = facts.signer_ok | {policy}


def _subject(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string() or "(empty subject)"
    except (ValueError, KeyError):  # KeyError: a name attribute of an unknown ASN.1 string type
        return "(unreadable subject)"


def check_validity(cert: x509.Certificate, at: dt.datetime) -> None:
    """Raise :class:`UntrustedKey` when ``cert`` is expired or not yet valid at ``at``."""
    if at < cert.not_valid_before_utc:
        raise UntrustedKey(
            f"certificate {_subject(cert)} is not yet valid (from {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ})"
        )
    if at > cert.not_valid_after_utc:
        raise UntrustedKey(
            f"certificate {_subject(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
        )


class TrustStore:
    """Trust anchors (CA or pinned certificates) plus a chain cache."""

    def __init__(self, anchors: Iterable[CertSource] = (), max_chain_depth: int = 8) -> None:
        self.anchors: list[x509.Certificate] = load_certificates(list(anchors)) if anchors else []
        self.max_chain_depth = max_chain_depth
        self._store = Store(self.anchors) if self.anchors else None
        self._anchor_set = set(self.anchors)  # Certificate hashes/compares by its DER
        self._cache: dict[
            tuple[x509.Certificate, ...], tuple[list[x509.Certificate], dt.datetime, dt.datetime]
        ] = {}
        self._by_id: dict[tuple[int, ...], tuple[tuple[x509.Certificate, ...], tuple]] = {}
        """The same cache found by the certificates' identities (hashing a
        Certificate hashes its DER); each entry holds its certificates, so
        their ids stay theirs."""
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.anchors)

    def validate(
        self,
        cert: x509.Certificate,
        intermediates: Sequence[x509.Certificate] = (),
        at: dt.datetime | None = None,
    ) -> list[x509.Certificate]:
        """The validated chain (leaf first) or :class:`UntrustedKey` with a reason."""
        at = at or dt.datetime.now(dt.UTC)
        key = (cert, *intermediates)
        ids = tuple(map(id, key))
        hit = self._by_id.get(ids)
        if hit is not None and all(a is b for a, b in zip(hit[0], key, strict=True)):
            cached = hit[1]
        else:
            cached = self._cache.get(key)
            if cached is not None:
                with self._lock:
                    if len(self._by_id) > 1024:
                        self._by_id.clear()
                    self._by_id[ids] = (key, cached)
        if cached is not None:
            chain, not_before, not_after = cached
            # Inside every certificate's validity window (leaf included):
            # the intersection of the windows, computed when cached.
            if not_before <= at <= not_after:
                return chain
            check_validity(cert, at)  # outside: the exact reason, leaf first
            for c in chain:
                check_validity(c, at)
            raise UntrustedKey(
                f"certificate chain of {_subject(cert)} is not valid at {at:%Y-%m-%dT%H:%M:%SZ}"
            )
        check_validity(cert, at)
        if cert in self._anchor_set:
            return [cert]
        if self._store is None:
            raise UntrustedKey(f"no trust anchors configured: cannot trust {_subject(cert)}")
        if not isinstance(cert_public_key(cert, "signing"), (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
            raise UntrustedKey(f"certificate {_subject(cert)} has an unsupported key type")
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(self.max_chain_depth)
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
            )
            .build_client_verifier()
        )
        try:
            chain = list(verifier.verify(cert, [c for c in intermediates if c != cert]).chain)
        except VerificationError as exc:
            reason = str(exc).split(" (encountered", 1)[0].removeprefix("validation failed: ")
            if "candidates exhausted" in reason:
                reason = "no path to a trust anchor"
            raise UntrustedKey(
                f"certificate {_subject(cert)} does not chain to a trusted CA ({reason})"
            ) from None
        except (ValueError, KeyError):
            # cryptography's path builder parses names and extensions lazily and
            # raises these on a malformed certificate (found by fuzzing SAML)
            raise UntrustedKey(f"certificate {_subject(cert)} is malformed") from None
        with self._lock:
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[key] = (
                chain,
                max(c.not_valid_before_utc for c in (cert, *chain)),
                min(c.not_valid_after_utc for c in (cert, *chain)),
            )
        return chain


__all__ = [
    "ALLOWED_CURVES",
    "DEFAULT_KEY_POLICY",
    "DEFAULT_SIGNING_EKUS",
    "EKU_PURPOSES",
    "KeyPolicy",
    "TrustStore",
    "cert_public_key",
    "check_validity",
    "eku_purpose",
    "subject_dn",
]
