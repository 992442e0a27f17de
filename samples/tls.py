"""TLS settings of the sample services: what a secure service should offer.

The sample services are what ``apisec demo`` measures, so their "secure"
configuration must pass the Mozilla *intermediate* profile for real: TLS 1.2
and 1.3 only, ECDHE with AEAD ciphers only, and a key-exchange group the
profile allows (Python's default context also offers CBC-SHA2 suites and the
X448/secp521r1 groups, which that profile does not).
"""

from __future__ import annotations

import ssl

AEAD_ECDHE_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
"""TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are all AEAD)."""
GROUP = "prime256v1"
"""One group every client supports and every profile allows."""


def harden(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Restrict a server context, in place, to what the Mozilla intermediate profile allows."""
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(AEAD_ECDHE_CIPHERS)
    ctx.set_ecdh_curve(GROUP)  # OpenSSL 3: sets the group list, TLS 1.3 included
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return ctx


def server_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A hardened server context for ``cert_path``/``key_path``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return harden(ctx)
