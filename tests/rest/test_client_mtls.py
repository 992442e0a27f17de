"""OAuth ``tls_client_auth`` (RFC 8705 §2.1.2) for real: the sample Authlib
authorization server behind Debian's nginx, which terminates TLS, verifies
client certificates against the test CA and forwards the verified
certificate; the AS authenticates the client by the certificate's subject.

(uvicorn does not give an app the peer certificate, so a TLS-terminating
proxy is how this AS, like most deployed ones, sees it.)"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

import pytest
import requests

from apisec_samples.oauth_server import SECURE as AS_SECURE
from apisec_samples.oauth_server import serve as serve_as
from rest.client import ClientCredentials, requests_session
from rest.errors import TargetUnreachable, TokenRequestFailed
from tests.realworld.nginx import Leaf, Site, nginx

MTLS_AS = dataclasses.replace(
    AS_SECURE, name="mtls", token_auth_methods=("client_secret_basic", "private_key_jwt", "tls_client_auth")
)


@pytest.fixture(scope="module")
def mtls_as(pki, tmp_path_factory):
    backend = serve_as(MTLS_AS)  # plain http on 127.0.0.1, reachable through nginx only in the tests
    svc = backend.extra["service"]
    svc.store.clients[svc.client_id].tls_client_auth_subject_dn = pki.client.cert.subject.rfc4514_string()
    port = backend.url.split(":")[2].split("/")[0]
    directives = f"""
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate {pki.ca.cert_path};
    ssl_verify_client optional;
    ssl_verify_depth 2;
    location /realms/ {{
        proxy_pass http://127.0.0.1:{port};
        proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
        proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    }}"""
    site = Site("mtls_as", [Leaf(pki.service.cert_path, pki.service.key_path)], directives)
    try:
        with nginx(tmp_path_factory.mktemp("nginx-mtls"), [site]) as sites:
            token_url = f"https://127.0.0.1:{sites['mtls_as'].port}/realms/secure/token"
            yield token_url, svc
    finally:
        backend.stop()


def test_the_certificate_authenticates_the_client(mtls_as, pki):
    token_url, svc = mtls_as
    creds = ClientCredentials(
        token_url, svc.client_id, client_cert=(pki.client.cert_path, pki.client.key_path)
    )
    assert creds.auth_method == "tls_client_auth"
    n = len(svc.store.tokens)
    with requests_session(creds, ca_file=pki.ca.cert_path) as session:
        assert session.token["token_type"].lower() == "bearer"
    assert len(svc.store.tokens) == n + 1
    issued = list(svc.store.tokens.values())[-1]
    assert issued.client_id == svc.client_id


def test_another_certificate_of_the_same_ca_is_refused(mtls_as, pki):
    token_url, svc = mtls_as
    creds = ClientCredentials(
        token_url, svc.client_id, client_cert=(pki.ec_client.cert_path, pki.ec_client.key_path)
    )
    with pytest.raises(TokenRequestFailed, match="invalid_client"):
        requests_session(creds, ca_file=pki.ca.cert_path)


def test_a_certificate_of_another_ca_is_refused(mtls_as, pki):
    token_url, svc = mtls_as
    creds = ClientCredentials(token_url, svc.client_id, client_cert=(pki.rogue.cert_path, pki.rogue.key_path))
    with pytest.raises(TargetUnreachable):  # nginx answers 400 "SSL certificate error" (HTML)
        requests_session(creds, ca_file=pki.ca.cert_path)


def test_forged_proxy_headers_without_a_certificate_are_refused(mtls_as, pki):
    token_url, svc = mtls_as
    forged = quote(pki.client.cert_path.read_text())
    r = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "client_id": svc.client_id},
        headers={"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Cert": forged},
        verify=str(pki.ca.cert_path),
        timeout=10,
    )
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client"


def test_a_client_secret_still_works_beside_it(mtls_as, pki):
    token_url, svc = mtls_as
    creds = ClientCredentials(token_url, svc.client_id, client_secret=svc.client_secret)
    with requests_session(creds, ca_file=pki.ca.cert_path) as session:
        assert session.token["access_token"]
