"""Client TLS settings from the same profiles ``apisec rest tls`` checks.

A :class:`rest.tls.profiles.Profile` says what a server may offer; a client
that holds itself to the same profile refuses what the profile forbids: the
protocol range (``minimum_version``/``maximum_version``) and, when the
profile has a closed list, the TLS 1.2 cipher suites (IANA names mapped to
OpenSSL's through sslyze's table).  Certificate and host-name verification
stay on; ``ca_file`` adds a private CA; ``client_cert`` is the mTLS identity.

Limit: Python's :mod:`ssl` cannot restrict TLS 1.3 suites, so a profile's
``tls13_ciphers`` is not applied (OpenSSL's defaults are all AEAD).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from rest.errors import BadInput
from rest.tls.profiles import DEFAULT_PROFILE, Profile, load_profile

_VERSIONS = {
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def _openssl_names(iana: frozenset[str]) -> list[str]:
    from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
    from sslyze.server_connectivity import TlsVersionEnum

    table = {
        c.name: c.openssl_name for c in CipherSuitesRepository.get_all_cipher_suites(TlsVersionEnum.TLS_1_2)
    }
    return sorted(table[n] for n in iana if n in table)


def client_ssl_context(
    profile: str | Path | Profile = DEFAULT_PROFILE,
    *,
    ca_file: str | Path | None = None,
    client_cert: tuple[str | Path, str | Path] | None = None,
) -> ssl.SSLContext:
    """A verifying client context that offers only what ``profile`` allows.

    Raises :class:`rest.errors.BadInput` for an unknown profile, a profile
    that leaves no usable protocol or cipher, or unreadable key material."""
    prof = load_profile(profile)
    versions = sorted(_VERSIONS[p] for p in prof.protocols if p in _VERSIONS)
    if not versions:
        raise BadInput(f"TLS profile {prof.name} allows no TLS version this client can speak")
    try:
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(f"CA file {ca_file} cannot be loaded ({exc.__class__.__name__})") from None
    ctx.minimum_version = versions[0]
    ctx.maximum_version = versions[-1]
    if prof.ciphers is not None and ssl.TLSVersion.TLSv1_2 in versions:
        names = _openssl_names(prof.ciphers)
        if not names:
            raise BadInput(f"TLS profile {prof.name} leaves no TLS 1.2 cipher suite OpenSSL knows")
        try:
            ctx.set_ciphers(":".join(names))
        except ssl.SSLError:
            raise BadInput(f"none of the TLS 1.2 cipher suites of {prof.name} is available here") from None
    if client_cert is not None:
        try:
            ctx.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
        except (OSError, ssl.SSLError) as exc:
            raise BadInput(f"client certificate cannot be loaded ({exc.__class__.__name__})") from None
    return ctx
