"""Client TLS settings from the same profiles ``apisec rest tls`` checks.

A :class:`rest.tls.profiles.Profile` says what a server may offer; a client
that holds itself to the same profile refuses what the profile forbids.
Exactly what is enforced, and how:

* **Protocol range** (``minimum_version``/``maximum_version``): in the
  ClientHello; nothing outside the profile's versions is offered.
* **TLS 1.2 (and older) cipher suites**, when the profile has a closed list
  (``ciphers``): ``set_ciphers`` with the IANA names mapped to OpenSSL's
  through sslyze's table; nothing else is offered.
* **TLS 1.3 cipher suites** (``tls13_ciphers``): Python's :mod:`ssl` has no
  ``SSL_CTX_set_ciphersuites``, so the ClientHello still *offers* OpenSSL's
  default TLS 1.3 suites (``TLS_AES_256_GCM_SHA384``,
  ``TLS_CHACHA20_POLY1305_SHA256``, ``TLS_AES_128_GCM_SHA256``).  What the
  client enforces is the *outcome*: when the server picks a TLS 1.3 suite
  the profile does not list (``nist-800-52r2`` has no ChaCha20), the
  connection is refused right after the handshake, before any request byte
  is sent (:class:`ssl.SSLError`, ``requests``' ``SSLError``, the client's
  :class:`rest.errors.TargetUnreachable`).  A profile's CCM suites, which
  OpenSSL does not offer by default, are never negotiated.
* Certificate and host-name verification stay on; ``ca_file`` adds a private
  CA; ``client_cert`` is the mTLS identity.
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


class ProfileViolation(ssl.SSLError):
    """The server negotiated something the profile forbids (a TLS 1.3 suite
    the client could not leave out of its offer)."""


def _check_negotiated(conn: ssl.SSLSocket | ssl.SSLObject) -> None:
    allowed: frozenset[str] | None = getattr(conn.context, "apisec_tls13_ciphers", None)
    if allowed is None:
        return
    suite = conn.cipher()
    if suite is not None and suite[1] == "TLSv1.3" and suite[0] not in allowed:
        raise ProfileViolation(
            f"server chose the TLS 1.3 suite {suite[0]}, which the profile "
            f"{getattr(conn.context, 'apisec_profile', '?')} does not allow"
        )


class _ProfileSocket(ssl.SSLSocket):
    """An SSLSocket that checks the negotiated suite once the handshake is done
    (urllib3/requests and httpx's sync transport wrap sockets)."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        try:
            _check_negotiated(self)
        except ProfileViolation:
            self.close()
            raise


class _ProfileObject(ssl.SSLObject):
    """The same for SSLObject (asyncio and anyio: httpx's async transport)."""

    def do_handshake(self) -> None:
        super().do_handshake()  # raises SSLWantReadError until the handshake is done
        _check_negotiated(self)


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
    """A verifying client context that offers only what ``profile`` allows
    (TLS 1.3 suites: refuses a connection on which the server chose one the
    profile does not list; see the module docstring).

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
    if prof.tls13_ciphers is not None and ssl.TLSVersion.TLSv1_3 in versions:
        # cannot be left out of the offer (see the module docstring): refused when chosen
        ctx.apisec_tls13_ciphers = frozenset(prof.tls13_ciphers)  # type: ignore[attr-defined]
        ctx.apisec_profile = prof.name  # type: ignore[attr-defined]
        ctx.sslsocket_class = _ProfileSocket
        ctx.sslobject_class = _ProfileObject
    if client_cert is not None:
        try:
            ctx.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
        except (OSError, ssl.SSLError) as exc:
            raise BadInput(f"client certificate cannot be loaded ({exc.__class__.__name__})") from None
    return ctx
