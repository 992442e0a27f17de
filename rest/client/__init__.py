"""Call an OAuth-protected REST API correctly: client credentials (client
secret, ``private_key_jwt``, mTLS) with token caching and renewal before
expiry, over TLS configured from the ``rest tls`` profiles.  See
``docs/rest-guard.md``."""

from __future__ import annotations

from rest.client.auth import (
    ClientCredentials,
    DPoPSession,
    async_httpx_client,
    httpx_client,
    requests_session,
)
from rest.client.tls import client_ssl_context

__all__ = [
    "ClientCredentials",
    "DPoPSession",
    "async_httpx_client",
    "client_ssl_context",
    "httpx_client",
    "requests_session",
]
