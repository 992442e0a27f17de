"""What rest.client's TLS context enforces of a profile's TLS 1.3 suites:
Python's ssl cannot leave a TLS 1.3 suite out of the offer, so a server
(real ``openssl s_server``) that picks one the profile does not list is
refused right after the handshake; one the profile lists is used."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
import requests

from rest.client import client_ssl_context
from rest.client.auth import _ContextAdapter
from rest.client.tls import ProfileViolation
from tests.conftest import require_peer
from tests.rest.tls_servers import issue_cert, start_server


@pytest.fixture(scope="module")
def servers(pki, tmp_path_factory):
    require_peer("openssl", "TLS 1.3 servers with one cipher suite")
    work = tmp_path_factory.mktemp("tls13")
    cert, key = issue_cert(pki, work, "tls13", days=200)
    running = {
        suite: start_server(f"tls13-{suite}", cert, key, ["-tls1_3", "-ciphersuites", suite], workdir=work)
        for suite in ("TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
    }
    yield running
    for s in running.values():
        s.proc.terminate()
        s.proc.wait(timeout=10)


def _handshake(ctx, port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version(), tls.cipher()[0]


def test_a_suite_outside_the_profile_is_refused(servers, pki):
    chacha = servers["TLS_CHACHA20_POLY1305_SHA256"].port
    nist = client_ssl_context("nist-800-52r2", ca_file=pki.ca_path)  # AES-GCM/CCM only
    with pytest.raises(ProfileViolation, match="TLS_CHACHA20_POLY1305_SHA256.*nist-800-52r2"):
        _handshake(nist, chacha)
    # the same server is fine for a profile that lists ChaCha20
    assert _handshake(client_ssl_context("mozilla-intermediate", ca_file=pki.ca_path), chacha) == (
        "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"
    )  # fmt: skip
    # and a listed suite is fine for nist
    assert _handshake(nist, servers["TLS_AES_128_GCM_SHA256"].port) == ("TLSv1.3", "TLS_AES_128_GCM_SHA256")


def test_requests_through_the_profile_context_refuse_it_too(servers, pki):
    s = requests.Session()
    s.trust_env = False
    s.mount("https://", _ContextAdapter(client_ssl_context("nist-800-52r2", ca_file=pki.ca_path)))
    with pytest.raises(requests.exceptions.SSLError):
        s.get(f"https://127.0.0.1:{servers['TLS_CHACHA20_POLY1305_SHA256'].port}/", timeout=5)
    r = s.get(f"https://127.0.0.1:{servers['TLS_AES_128_GCM_SHA256'].port}/", timeout=5)
    assert r.status_code == 200


def test_asyncio_connections_refuse_it_too(servers, pki):
    nist = client_ssl_context("nist-800-52r2", ca_file=pki.ca_path)

    async def connect(port):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=nist, server_hostname="127.0.0.1"
        )
        suite = writer.get_extra_info("cipher")[0]
        writer.close()
        return suite

    with pytest.raises(ssl.SSLError, match="does not allow"):
        asyncio.run(connect(servers["TLS_CHACHA20_POLY1305_SHA256"].port))
    assert asyncio.run(connect(servers["TLS_AES_128_GCM_SHA256"].port)) == "TLS_AES_128_GCM_SHA256"
