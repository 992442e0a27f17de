"""Certificate trust: build and validate a path from a signer's certificate
to configured trust anchors, at a given time.

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

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from wssec.errors import UntrustedKey
from wssec.keys import CertSource, load_certificates


def _subject(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string() or "(empty subject)"
    except ValueError:
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
        cached = self._cache.get(key)
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
        if not isinstance(cert.public_key(), (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
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
        with self._lock:
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[key] = (
                chain,
                max(c.not_valid_before_utc for c in (cert, *chain)),
                min(c.not_valid_after_utc for c in (cert, *chain)),
            )
        return chain


__all__ = ["TrustStore", "check_validity"]
