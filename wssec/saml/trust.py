"""Who may sign SAML: trust anchors that are CAs *or* pinned signer certificates.

SAML federations mostly trust an IdP by its certificate taken from metadata
(often self-signed); enterprise deployments trust a CA.  A :class:`SamlTrust`
accepts both: a signing certificate is trusted when it *is* one of the
anchors (pinned, compared by DER bytes, never by name) or when a path from it
to one of the anchors validates (RFC 5280 via ``cryptography.x509.verification``,
at the instant given, by :class:`wssec.trust.TrustStore`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from wssec.errors import MalformedMessage, UntrustedKey
from wssec.keys import CertSource, load_certificates
from wssec.safexml import parse_xml
from wssec.soap import DS_NS
from wssec.trust import TrustStore


@dataclass(frozen=True)
class TrustDecision:
    """Why a signing certificate was accepted."""

    certificate: x509.Certificate
    """The signer's certificate (whose key verified the signature)."""
    pinned: bool
    """True when the certificate itself is an anchor (SAML metadata style)."""
    chain: tuple[x509.Certificate, ...]
    """The validated path, leaf first (just the leaf when pinned)."""


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


class SamlTrust:
    """A set of anchors: CA certificates and/or pinned signer certificates.

    ``check_pinned_dates`` (default True) also requires a *pinned*
    certificate to be within its validity period at the verification
    instant.  The SAML V2.0 Metadata Interoperability Profile says a key from
    metadata is trusted whatever its certificate's dates say, and many IdPs
    keep signing with long-expired self-signed certificates; pass False to
    follow that profile.  CA-issued certificates are always date-checked.
    """

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        *,
        check_pinned_dates: bool = True,
        issuers: Iterable[str] | None = None,
    ) -> None:
        if not anchors:
            raise UntrustedKey("no trust anchors given (need CA or pinned signer certificates)")
        self.anchors: tuple[x509.Certificate, ...] = tuple(anchors)
        self.check_pinned_dates = check_pinned_dates
        self.issuers: frozenset[str] | None = frozenset(issuers) if issuers is not None else None
        """When set, the assertion's Issuer must be one of these entity ids
        (metadata binds keys to an entity, not to anyone who holds them)."""
        self._pinned = {_der(c) for c in self.anchors}
        cas = [c for c in self.anchors if _is_ca(c)]
        # Path validation is wssec.trust's (shared with the WS-Security Verifier).
        self._store = TrustStore(cas) if cas else None

    @classmethod
    def of(
        cls, trust: SamlTrust | TrustStore | CertSource | Iterable[CertSource], **kwargs: bool
    ) -> SamlTrust:
        """Build from a :class:`SamlTrust`, a :class:`wssec.trust.TrustStore`, a
        certificate, a path/PEM bundle, or a list of them."""
        if isinstance(trust, SamlTrust):
            return trust
        if isinstance(trust, TrustStore):
            return cls(trust.anchors, **kwargs)
        return cls(load_certificates(trust), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_metadata(cls, metadata: bytes | str, *, check_pinned_dates: bool = True) -> SamlTrust:
        """Trust an IdP by its SAML 2.0 metadata: the signing certificates of
        its IDPSSODescriptor/KeyDescriptor (``use="signing"`` or no ``use``)
        are pinned, and assertions must name its ``entityID`` as Issuer.

        Metadata is parsed with the hardened parser; its own signature is not
        checked here (obtain it over a trusted channel or verify it first).
        An EntitiesDescriptor contributes every IdP entity in it.
        """
        root = parse_xml(metadata, what="SAML metadata")
        entities = [root] if root.tag == _q("EntityDescriptor") else list(root.iter(_q("EntityDescriptor")))
        if not entities:
            raise MalformedMessage("not SAML metadata: no md:EntityDescriptor")
        certs: list[x509.Certificate] = []
        issuers: list[str] = []
        for entity in entities:
            found = False
            for kd in entity.iterfind(f"{_q('IDPSSODescriptor')}/{_q('KeyDescriptor')}"):
                if kd.get("use") not in (None, "signing"):
                    continue
                for el in kd.iterfind(f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"):
                    text = "".join("".join(el.itertext()).split())
                    try:
                        certs.append(x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
                    except (binascii.Error, ValueError):
                        raise MalformedMessage("metadata holds an unreadable X509Certificate") from None
                    found = True
            if found and entity.get("entityID"):
                issuers.append(entity.get("entityID"))  # type: ignore[arg-type]
        if not certs:
            raise UntrustedKey("metadata names no IdP signing certificate")
        return cls(certs, check_pinned_dates=check_pinned_dates, issuers=issuers)

    def check_issuer(self, issuer: str) -> None:
        """Raise UntrustedKey when trust is bound to entities and ``issuer`` is not one."""
        if self.issuers is not None and issuer not in self.issuers:
            raise UntrustedKey(f"issuer {issuer!r} is not an entity this trust (metadata) covers")

    def pinned_certificates(self) -> tuple[x509.Certificate, ...]:
        """Anchors usable as a direct signing key (when KeyInfo carries no certificate)."""
        return self.anchors

    def decide(
        self, leaf: x509.Certificate, others: Sequence[x509.Certificate], at: dt.datetime
    ) -> TrustDecision:
        """Accept ``leaf`` (with ``others`` as candidate intermediates) or raise UntrustedKey."""
        at = _utc(at)
        if _der(leaf) in self._pinned:
            if self.check_pinned_dates and not (leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc):
                raise UntrustedKey(
                    f"pinned signing certificate {leaf.subject.rfc4514_string()} is not valid at "
                    f"{at.isoformat()} (valid {leaf.not_valid_before_utc.isoformat()} to "
                    f"{leaf.not_valid_after_utc.isoformat()})"
                )
            return TrustDecision(leaf, True, (leaf,))
        if self._store is None:
            raise UntrustedKey(
                f"signing certificate {leaf.subject.rfc4514_string()} is not one of the pinned certificates"
            )
        return TrustDecision(leaf, False, tuple(self._store.validate(leaf, others, at)))


MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def _q(local: str) -> str:
    return f"{{{MD_NS}}}{local}"


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


__all__ = ["SamlTrust", "TrustDecision"]
