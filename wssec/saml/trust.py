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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec.errors import MalformedMessage, UntrustedKey, WssecError
from wssec.keys import CertSource, load_certificates
from wssec.safexml import parse_xml
from wssec.saml.times import parse_instant
from wssec.soap import DS_NS
from wssec.trust import DEFAULT_KEY_POLICY, KeyPolicy, TrustStore, _subject


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
        key_policy: KeyPolicy = DEFAULT_KEY_POLICY,
        entities: Mapping[str, Sequence[x509.Certificate]] | None = None,
        valid_until: Mapping[str, dt.datetime] | None = None,
    ) -> None:
        """``anchors``: CA and/or pinned signer certificates.  ``entities``
        (what :meth:`from_metadata` builds): entityID -> that entity's signing
        certificates; then the assertion's Issuer selects the entity and only
        its keys verify (``anchors`` is ignored).  ``valid_until``: entityID ->
        the metadata's validUntil for that entity."""
        if entities is not None:
            anchors = [c for certs in entities.values() for c in certs]
            issuers = list(entities)
        if not anchors:
            raise UntrustedKey("no trust anchors given (need CA or pinned signer certificates)")
        self.anchors: tuple[x509.Certificate, ...] = tuple(anchors)
        self.check_pinned_dates = check_pinned_dates
        self.issuers: frozenset[str] | None = frozenset(issuers) if issuers is not None else None
        """When set, the assertion's Issuer must be one of these entity ids
        (metadata binds keys to an entity, not to anyone who holds them)."""
        self.entities: dict[str, tuple[x509.Certificate, ...]] | None = (
            {e: tuple(c) for e, c in entities.items()} if entities is not None else None
        )
        """entityID -> signing certificates, when trust is bound to entities."""
        self.valid_until: dict[str, dt.datetime] = dict(valid_until or {})
        self.key_policy = key_policy
        """Key strength and certificate purpose every signer must meet
        (:class:`wssec.trust.KeyPolicy`, shared with the WS-Security Verifier)."""
        self._pinned = {_der(c) for c in self.anchors}
        cas = [c for c in self.anchors if _is_ca(c)] if entities is None else []
        # Path validation is wssec.trust's (shared with the WS-Security Verifier).
        self._store = TrustStore(cas) if cas else None
        self._by_entity: dict[str, SamlTrust] = {}

    @classmethod
    def of(
        cls,
        trust: SamlTrust | TrustStore | CertSource | Iterable[CertSource],
        *,
        check_pinned_dates: bool = True,
        key_policy: KeyPolicy | None = None,
    ) -> SamlTrust:
        """Build from a :class:`SamlTrust`, a :class:`wssec.trust.TrustStore`, a
        certificate, a path/PEM bundle, or a list of them.  A SamlTrust is
        returned as is (its own settings win) unless ``key_policy`` is given."""
        policy = key_policy if key_policy is not None else DEFAULT_KEY_POLICY
        if isinstance(trust, SamlTrust):
            return trust if key_policy is None else trust.with_key_policy(key_policy)
        if isinstance(trust, TrustStore):
            return cls(trust.anchors, check_pinned_dates=check_pinned_dates, key_policy=policy)
        return cls(load_certificates(trust), check_pinned_dates=check_pinned_dates, key_policy=policy)  # type: ignore[arg-type]

    def with_key_policy(self, key_policy: KeyPolicy) -> SamlTrust:
        """The same anchors and entities under another key policy."""
        if key_policy == self.key_policy:
            return self
        return SamlTrust(
            self.anchors,
            check_pinned_dates=self.check_pinned_dates,
            issuers=self.issuers,
            key_policy=key_policy,
            entities=self.entities,
            valid_until=self.valid_until,
        )

    @classmethod
    def merge(cls, trusts: Sequence[SamlTrust]) -> SamlTrust:
        """Several metadata trusts as one, entities kept apart: an entityID
        present in several keeps the union of *its own* keys (key rollover),
        never another entity's.  Every part must be entity-bound."""
        if not trusts:
            raise UntrustedKey("no trust given")
        if len(trusts) == 1:
            return trusts[0]
        entities: dict[str, list[x509.Certificate]] = {}
        valid_until: dict[str, dt.datetime] = {}
        for t in trusts:
            if t.entities is None:
                raise UntrustedKey("only metadata (entity-bound) trusts can be merged")
            for entity, certs in t.entities.items():
                entities.setdefault(entity, []).extend(c for c in certs if c not in entities[entity])
                if entity in t.valid_until:
                    until = t.valid_until[entity]
                    valid_until[entity] = min(until, valid_until.get(entity, until))
        first = trusts[0]
        return cls(
            (),
            check_pinned_dates=first.check_pinned_dates,
            key_policy=first.key_policy,
            entities=entities,
            valid_until=valid_until,
        )

    def for_issuer(self, issuer: str) -> SamlTrust:
        """The trust that may verify a signature by ``issuer``: for
        entity-bound (metadata) trust, only that entity's signing keys (an
        unknown entity is UntrustedKey); otherwise this trust itself."""
        if self.entities is None:
            return self
        sub = self._by_entity.get(issuer)
        if sub is None:
            certs = self.entities.get(issuer)
            if not certs:
                raise UntrustedKey(f"issuer {issuer[:200]!r} is not an entity this trust (metadata) covers")
            sub = SamlTrust(
                certs,
                check_pinned_dates=self.check_pinned_dates,
                issuers=[issuer],
                key_policy=self.key_policy,
                valid_until={issuer: self.valid_until[issuer]} if issuer in self.valid_until else None,
            )
            self._by_entity[issuer] = sub
        return sub

    @classmethod
    def from_metadata(
        cls,
        metadata: bytes | str,
        *,
        check_pinned_dates: bool = True,
        key_policy: KeyPolicy = DEFAULT_KEY_POLICY,
    ) -> SamlTrust:
        """Trust IdPs by their SAML 2.0 metadata, each entity with its own keys.

        The signing certificates of an entity's IDPSSODescriptor/KeyDescriptor
        (``use="signing"`` or no ``use``) are pinned *for that entity*: the
        Issuer of an assertion selects the entity, and only its keys verify
        (IdP A's key never verifies an assertion whose Issuer is IdP B).  An
        EntitiesDescriptor contributes every IdP entity in it; several
        metadata files combine with :meth:`merge`.  ``validUntil`` on an
        EntityDescriptor or an enclosing EntitiesDescriptor is kept per entity
        and refused once the verification instant is past it.

        Metadata is parsed with the hardened parser; its own signature is not
        checked here (obtain it over a trusted channel or verify it first).
        """
        root = parse_xml(metadata, what="SAML metadata")
        entities = [root] if root.tag == _q("EntityDescriptor") else list(root.iter(_q("EntityDescriptor")))
        if not entities:
            raise MalformedMessage("not SAML metadata: no md:EntityDescriptor")
        by_entity: dict[str, list[x509.Certificate]] = {}
        valid_until: dict[str, dt.datetime] = {}
        for entity in entities:
            certs: list[x509.Certificate] = []
            for kd in entity.iterfind(f"{_q('IDPSSODescriptor')}/{_q('KeyDescriptor')}"):
                if kd.get("use") not in (None, "signing"):
                    continue
                for el in kd.iterfind(f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"):
                    text = "".join("".join(el.itertext()).split())
                    try:
                        certs.append(x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
                    except (binascii.Error, ValueError):
                        raise MalformedMessage("metadata holds an unreadable X509Certificate") from None
            entity_id = entity.get("entityID") or ""
            if not certs or not entity_id:
                continue
            by_entity.setdefault(entity_id, []).extend(certs)
            for holder in (entity, *entity.iterancestors(_q("EntitiesDescriptor"))):
                until = _valid_until(holder)
                if until is not None:
                    valid_until[entity_id] = min(until, valid_until.get(entity_id, until))
        if not by_entity:
            raise UntrustedKey("metadata names no IdP signing certificate")
        return cls(
            (),
            check_pinned_dates=check_pinned_dates,
            key_policy=key_policy,
            entities=by_entity,
            valid_until=valid_until,
        )

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
        if self.entities is not None:
            # fail closed: entity-bound trust decides only through for_issuer()
            raise UntrustedKey("metadata trust needs the Issuer to select the entity's keys")
        for entity, until in self.valid_until.items():
            if at > until:
                raise UntrustedKey(
                    f"metadata for {entity[:200]!r} expired (validUntil {until:%Y-%m-%dT%H:%M:%SZ})"
                )
        if _der(leaf) in self._pinned:
            if self.check_pinned_dates and not (leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc):
                raise UntrustedKey(
                    f"pinned signing certificate {_subject(leaf)} is not valid at "
                    f"{at.isoformat()} (valid {leaf.not_valid_before_utc.isoformat()} to "
                    f"{leaf.not_valid_after_utc.isoformat()})"
                )
            self.key_policy.check_signer(leaf)
            return TrustDecision(leaf, True, (leaf,))
        if self._store is None:
            raise UntrustedKey(f"signing certificate {_subject(leaf)} is not one of the pinned certificates")
        chain = tuple(self._store.validate(leaf, others, at))
        self.key_policy.check_signer(leaf)
        return TrustDecision(leaf, False, chain)


MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def _q(local: str) -> str:
    return f"{{{MD_NS}}}{local}"


def _valid_until(el: etree._Element) -> dt.datetime | None:
    value = el.get("validUntil")
    if value is None:
        return None
    try:
        return parse_instant(value, "metadata validUntil")
    except WssecError:
        raise MalformedMessage(f"metadata validUntil {value[:60]!r} is not an xsd:dateTime") from None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


__all__ = ["SamlTrust", "TrustDecision"]
