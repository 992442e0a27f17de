"""Certificate trust and host-name verification of a received chain.

sslyze validates chains against its bundled root stores and can only *add*
a custom CA (its issue #96); apisec needs ``--ca-only`` (trust a private CA
and nothing else), and it reports a wrong host name, an untrusted chain, a
certificate-profile deviation and an expired certificate as separate
findings.  So the chain is checked here with cryptography's X.509 path
validation (``cryptography.x509.verification``, the verifier sslyze 6 uses)
in three passes:

* **host name** — the leaf alone is made the trust anchor and verified for
  the requested name at a moment inside its validity, with extension
  policies relaxed: the only thing that can fail is the name match (SAN
  dNSName/iPAddress, RFC 6125 wildcards; the subject CN is ignored, as
  browsers and Python's ``ssl`` do);
* **trust** — "do mainstream clients (OpenSSL, curl, requests, Java) build a
  chain to an anchor?": the received chain is verified against the anchors
  (the Mozilla NSS root store bundled with sslyze, plus ``--ca-file``; or
  only ``--ca-file`` with ``--ca-only``) at a moment when every received
  certificate is valid, with OpenSSL's ``sslserver`` purpose rules and no
  more: signatures, issuers that are CAs (basicConstraints cA), keyUsage
  keyCertSign on issuers and a TLS usage on the leaf when keyUsage is
  present, serverAuth when extendedKeyUsage is present.  A private CA whose
  leaf lacks an Authority Key Identifier is trusted, as OpenSSL trusts it;
* **profile** — the same chain under cryptography's full Web-PKI policy
  (RFC 5280 + CA/Browser Forum Baseline Requirements: AKI/SKI, SAN present,
  no cA on an end entity, ...).  A deviation there is a lower-severity
  finding of its own (``tls.cert-profile``) naming the rule, so a correct
  private PKI is not called untrusted, and an expired or wrong-host
  certificate from a trusted CA is not *also* reported as untrusted.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from rest.errors import BadInput


@dataclass(frozen=True)
class TrustConfig:
    """Which roots a chain must lead to."""

    ca_file: Path | None = None
    """Extra PEM roots (a private CA)."""
    ca_only: bool = False
    """Trust only ``ca_file``, not the bundled Mozilla root store."""

    def describe(self) -> str:
        if self.ca_only:
            return f"only the CA file {self.ca_file}"
        if self.ca_file:
            return f"the Mozilla root store plus {self.ca_file}"
        return "the Mozilla root store"


@dataclass(frozen=True)
class ChainVerdict:
    hostname_ok: bool
    hostname_detail: str
    trusted: bool
    trust_detail: str
    profile_ok: bool = True
    """The chain meets the Web-PKI (RFC 5280 + CA/B Forum) certificate profile."""
    profile_detail: str = ""


@functools.lru_cache(maxsize=1)
def _mozilla_roots() -> tuple[x509.Certificate, ...]:
    from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository

    path = TrustStoresRepository.get_default().get_main_store().path
    with warnings.catch_warnings():  # a few roots have pre-RFC 5280 negative serials
        warnings.simplefilter("ignore")
        return tuple(x509.load_pem_x509_certificates(path.read_bytes()))


def _load_ca_file(path: str) -> tuple[x509.Certificate, ...]:
    """The CA file's certificates, parsed once per *version* of the file: the
    memo is keyed on path, inode, size and modification time, so a CA bundle
    replaced or edited in place (a rotated private CA) is read again."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise BadInput(f"cannot read CA file {path}: {exc.strerror or exc}") from None
    return _load_ca_version(path, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load_ca_version(path: str, inode: int, size: int, mtime_ns: int) -> tuple[x509.Certificate, ...]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read CA file {path}: {exc.strerror or exc}") from None
    try:
        certs = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise BadInput(f"CA file {path} holds no PEM certificate") from None
    if not certs:
        raise BadInput(f"CA file {path} holds no PEM certificate")
    return certs


def anchors(config: TrustConfig) -> tuple[x509.Certificate, ...]:
    """The trust anchors for ``config`` (loads and validates ``ca_file``)."""
    if config.ca_only and not config.ca_file:
        raise BadInput("--ca-only needs --ca-file")
    extra = _load_ca_file(str(config.ca_file)) if config.ca_file else ()
    return extra if config.ca_only else _mozilla_roots() + extra


def subject_for(name: str) -> x509.verification.Subject:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return x509.DNSName(name)


def _san_subject(leaf: x509.Certificate) -> x509.verification.Subject | None:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    for entry in san:
        if isinstance(entry, x509.DNSName):
            return x509.DNSName(entry.value.replace("*.", "wildcard.", 1))
        if isinstance(entry, x509.IPAddress):
            return entry
    return None


def _clean(err: VerificationError) -> str:
    text = str(err).removeprefix("validation failed: ")
    return text.split(" (encountered processing", 1)[0]


def _moment(chain: Sequence[x509.Certificate], now: dt.datetime) -> dt.datetime:
    """``now`` if every certificate is valid now, else a moment when all are (if any)."""
    start = max(c.not_valid_before_utc for c in chain)
    end = min(c.not_valid_after_utc for c in chain)
    if start <= now <= end or start > end:
        return now
    return start + (end - start) / 2


def names_in(leaf: x509.Certificate) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [str(e.value) for e in san if isinstance(e, (x509.DNSName, x509.IPAddress))]


def verify_chain(
    chain: Sequence[x509.Certificate],
    server_name: str,
    config: TrustConfig,
    now: dt.datetime | None = None,
) -> ChainVerdict:
    """Judge host name and trust of a received chain (leaf first), separately."""
    now = now or dt.datetime.now(dt.UTC)
    leaf, intermediates = chain[0], list(chain[1:])

    # Pass 1: the name, and only the name.
    relaxed = PolicyBuilder().store(Store([leaf])).time(_moment([leaf], now))
    relaxed = relaxed.extension_policies(
        ca_policy=ExtensionPolicy.webpki_defaults_ca(),
        ee_policy=ExtensionPolicy.permit_all().require_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        ),
    )
    try:
        relaxed.build_server_verifier(subject_for(server_name)).verify(leaf, [])
        hostname_ok, host_detail = True, f"{server_name} matches the certificate"
    except VerificationError:
        names = names_in(leaf)
        hostname_ok = False
        host_detail = (
            f"{server_name} is not among the certificate's names ({', '.join(names)})"
            if names
            else f"certificate has no subjectAltName DNS/IP entry (subject {leaf.subject.rfc4514_string()})"
        )

    # Pass 2: a path to a trust anchor, judged as OpenSSL's "sslserver" purpose judges it.
    roots = anchors(config)
    moment = _moment(chain, now)
    builder = PolicyBuilder().store(Store(list(roots))).time(moment)
    builder = builder.extension_policies(ca_policy=_CLIENT_CA_POLICY, ee_policy=_CLIENT_EE_POLICY)
    try:
        path = builder.build_client_verifier().verify(leaf, intermediates).chain
        root = path[-1].subject.rfc4514_string()
        trusted, trust_detail = True, f"chain leads to trusted root {root} ({config.describe()})"
    except VerificationError as exc:
        trusted = False
        trust_detail = _why_untrusted(chain, roots, _clean(exc), config)

    # Pass 3: the Web-PKI certificate profile, for a name the leaf does carry.  An
    # untrusted chain is judged with its own top certificate as the anchor.
    store = list(roots) if trusted else [*roots, chain[-1]]
    subject = _san_subject(leaf) or subject_for(server_name)
    webpki = PolicyBuilder().store(Store(store)).time(moment)
    try:
        webpki.build_server_verifier(subject).verify(leaf, intermediates)
        profile_ok, profile_detail = (
            True,
            "chain meets the RFC 5280 / CA/B Forum Baseline Requirements profile",
        )
    except VerificationError as exc:
        profile_ok, profile_detail = False, _profile_rule(_clean(exc))
    return ChainVerdict(hostname_ok, host_detail, trusted, trust_detail, profile_ok, profile_detail)


def _server_auth_eku(_policy: object, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    if eku is not None and ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        raise ValueError(f"{cert.subject.rfc4514_string()}: extendedKeyUsage lacks serverAuth")


def _issuer_is_ca(_policy: object, cert: x509.Certificate, bc: x509.BasicConstraints) -> None:
    if not bc.ca:
        raise ValueError(f"issuer {cert.subject.rfc4514_string()} is not a CA (basicConstraints cA false)")


def _issuer_key_usage(_policy: object, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:
        raise ValueError(f"issuer {cert.subject.rfc4514_string()}: keyUsage lacks keyCertSign")


def _leaf_key_usage(_policy: object, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not (ku.digital_signature or ku.key_encipherment or ku.key_agreement):
        raise ValueError("leaf keyUsage allows no TLS use (digitalSignature/keyEncipherment/keyAgreement)")


_AGNOSTIC = Criticality.AGNOSTIC
# OpenSSL's X509_PURPOSE_SSL_SERVER checks (crypto/x509/v3_purp.c), nothing more.
_CLIENT_CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, _AGNOSTIC, _issuer_is_ca)
    .may_be_present(x509.KeyUsage, _AGNOSTIC, _issuer_key_usage)
    .may_be_present(x509.ExtendedKeyUsage, _AGNOSTIC, _server_auth_eku)
)
_CLIENT_EE_POLICY = (
    ExtensionPolicy.permit_all()
    .may_be_present(x509.KeyUsage, _AGNOSTIC, _leaf_key_usage)
    .may_be_present(x509.ExtendedKeyUsage, _AGNOSTIC, _server_auth_eku)
)
_RULES = (
    ("2.5.29.35", "Authority Key Identifier missing (RFC 5280 §4.2.1.1, CA/B Forum BR §7.1.2)"),
    ("2.5.29.14", "Subject Key Identifier missing on a CA (RFC 5280 §4.2.1.2)"),
    (
        "subjectAltName",
        "no subjectAltName: a CN-only certificate (CA/B Forum BR §7.1.2.7.12, RFC 9525 §6.4.4)",
    ),
    (
        "cA must not be asserted",
        "end-entity certificate asserts basicConstraints cA=TRUE (CA/B Forum BR §7.1.2.7.8)",
    ),
    ("EKU", "extendedKeyUsage serverAuth required (CA/B Forum BR §7.1.2.7.10)"),
)


def _profile_rule(reason: str) -> str:
    """Name the RFC 5280 / Baseline Requirements rule behind a Web-PKI verifier message."""
    for needle, rule in _RULES:
        if needle in reason:
            return f"{rule}: {reason}"
    return f"Web-PKI profile (RFC 5280 + CA/B Forum Baseline Requirements): {reason}"


def _why_untrusted(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], reason: str, config: TrustConfig
) -> str:
    leaf, top = chain[0], chain[-1]
    root_names = {r.subject for r in roots}
    if len(chain) == 1 and leaf.issuer == leaf.subject:
        kind = "self-signed certificate"
    elif top.issuer == top.subject and top.subject not in root_names:
        kind = f"unknown root {top.subject.rfc4514_string()}"
    elif top.issuer not in root_names:
        kind = (
            f"incomplete chain or unknown root: issuer {top.issuer.rfc4514_string()} "
            "was neither sent nor trusted"
        )
    else:
        kind = "chain does not validate"
    return f"{kind} (checked against {config.describe()}): {reason}"
