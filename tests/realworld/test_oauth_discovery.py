"""OAuth/OIDC discovery documents modelled on real identity providers, served
over HTTPS on 127.0.0.1 and audited with ``rest.oauth.check``.

Each document copies the shape and default values the product publishes
(Keycloak realm, Auth0 tenant, Okta org, Entra ID v2.0 tenant) and a FAPI 2.0
Security Profile server.  Per provider: the check ids that must fail (real
deviations from RFC 9700 / RFC 7662 / RFC 8414 that the product's defaults
advertise) and that no check flags what OpenID Connect Discovery, RFC 7009,
RFC 7636 or RFC 8037 allow: ``none`` in userinfo/request-object algorithm
lists, ``none`` at the revocation endpoint, ``plain`` next to S256, X25519
encryption keys.  The FAPI 2.0 server, a correct target, fails and warns
nothing.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from compare.findings import Status
from rest.jwt.forge import public_jwk
from rest.oauth import check

ALGS = [
    "PS384",
    "RS384",
    "EdDSA",
    "ES384",
    "HS256",
    "HS512",
    "ES256",
    "RS256",
    "HS384",
    "ES512",
    "PS256",
    "RS512",
]
CLIENT_AUTH = [
    "private_key_jwt",
    "client_secret_basic",
    "client_secret_post",
    "tls_client_auth",
    "client_secret_jwt",
]


def _x25519_jwk(kid: str) -> dict:
    raw = x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "X25519", "x": x, "kid": kid, "use": "enc", "alg": "ECDH-ES+A256KW"}


def keycloak(base: str) -> dict:
    iss = f"{base}/realms/demo"
    oidc = f"{iss}/protocol/openid-connect"
    return {
        "issuer": iss,
        "authorization_endpoint": f"{oidc}/auth",
        "token_endpoint": f"{oidc}/token",
        "introspection_endpoint": f"{oidc}/token/introspect",
        "userinfo_endpoint": f"{oidc}/userinfo",
        "end_session_endpoint": f"{oidc}/logout",
        "jwks_uri": f"{oidc}/certs",
        "check_session_iframe": f"{oidc}/login-status-iframe.html",
        "grant_types_supported": [
            "authorization_code", "implicit", "refresh_token", "password", "client_credentials",
            "urn:openid:params:grant-type:ciba", "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "response_types_supported": [
            "code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token",
        ],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ALGS,
        "id_token_encryption_alg_values_supported": ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"],
        "userinfo_signing_alg_values_supported": [*ALGS, "none"],
        "request_object_signing_alg_values_supported": [*ALGS, "none"],
        "response_modes_supported": ["query", "fragment", "form_post", "query.jwt", "fragment.jwt", "jwt"],
        "registration_endpoint": f"{iss}/clients-registrations/openid-connect",
        "token_endpoint_auth_methods_supported": CLIENT_AUTH,
        "token_endpoint_auth_signing_alg_values_supported": ALGS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH,
        "introspection_endpoint_auth_signing_alg_values_supported": ALGS,
        "authorization_signing_alg_values_supported": ALGS,
        "claims_supported": ["aud", "sub", "iss", "auth_time", "name", "email", "preferred_username"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "tls_client_certificate_bound_access_tokens": True,
        "revocation_endpoint": f"{oidc}/revoke",
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH,
        "revocation_endpoint_auth_signing_alg_values_supported": ALGS,
        "backchannel_logout_supported": True,
        "device_authorization_endpoint": f"{oidc}/auth/device",
        "pushed_authorization_request_endpoint": f"{oidc}/ext/par/request",
        "require_pushed_authorization_requests": False,
        "authorization_response_iss_parameter_supported": True,
        "mtls_endpoint_aliases": {"token_endpoint": f"{oidc}/token", "revocation_endpoint": f"{oidc}/revoke"},
    }  # fmt: skip


def auth0(base: str) -> dict:
    iss = f"{base}/"  # Auth0's issuer ends with a slash
    return {
        "issuer": iss,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "device_authorization_endpoint": f"{base}/oauth/device/code",
        "userinfo_endpoint": f"{base}/userinfo",
        "mfa_challenge_endpoint": f"{base}/mfa/challenge",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "registration_endpoint": f"{base}/oidc/register",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": ["openid", "profile", "offline_access", "email"],
        "response_types_supported": [
            "code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token",
        ],
        "code_challenge_methods_supported": ["S256", "plain"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "claims_supported": ["aud", "auth_time", "created_at", "email", "exp", "iat", "iss", "name", "sub"],
        "request_uri_parameter_supported": False,
        "request_parameter_supported": False,
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
        "end_session_endpoint": f"{base}/oidc/logout",
    }  # fmt: skip


def okta(base: str) -> dict:
    base = f"{base}/oauth2/default"  # an Okta custom authorization server
    auth = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"]
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/v1/authorize",
        "token_endpoint": f"{base}/v1/token",
        "userinfo_endpoint": f"{base}/v1/userinfo",
        "registration_endpoint": f"{base}/v1/clients",
        "jwks_uri": f"{base}/v1/keys",
        "response_types_supported": [
            "code", "id_token", "code id_token", "code token", "id_token token", "code id_token token",
        ],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": [
            "authorization_code", "implicit", "refresh_token", "password", "urn:ietf:params:oauth:grant-type:device_code",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone", "offline_access", "groups"],
        "token_endpoint_auth_methods_supported": [*auth, "none"],
        "claims_supported": ["iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce"],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": f"{base}/v1/introspect",
        "introspection_endpoint_auth_methods_supported": auth,
        "revocation_endpoint": f"{base}/v1/revoke",
        "revocation_endpoint_auth_methods_supported": [*auth, "none"],
        "end_session_endpoint": f"{base}/v1/logout",
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": [
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
        ],
        "device_authorization_endpoint": f"{base}/v1/device/authorize",
        "pushed_authorization_request_endpoint": f"{base}/v1/par",
        "dpop_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
    }  # fmt: skip


def entra(base: str) -> dict:
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    iss = f"{base}/{tenant}/v2.0"
    return {
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": iss,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "tid", "ver"],
        "kerberos_endpoint": f"{base}/{tenant}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }  # fmt: skip


def fapi2(base: str) -> dict:
    iss = f"{base}/fapi"
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize",
        "token_endpoint": f"{iss}/token",
        "pushed_authorization_request_endpoint": f"{iss}/par",
        "require_pushed_authorization_requests": True,
        "jwks_uri": f"{iss}/jwks",
        "userinfo_endpoint": f"{iss}/userinfo",
        "revocation_endpoint": f"{iss}/revoke",
        "introspection_endpoint": f"{iss}/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "jwt"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": ["PS256", "ES256", "EdDSA"],
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
        "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth", "none"],
        "id_token_signing_alg_values_supported": ["PS256", "ES256"],
        "userinfo_signing_alg_values_supported": ["PS256", "ES256", "none"],
        "request_object_signing_alg_values_supported": ["PS256", "ES256", "none"],
        "authorization_signing_alg_values_supported": ["PS256", "ES256"],
        "authorization_response_iss_parameter_supported": True,
        "tls_client_certificate_bound_access_tokens": True,
        "dpop_signing_alg_values_supported": ["ES256", "PS256", "EdDSA"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid", "accounts"],
        "mtls_endpoint_aliases": {"token_endpoint": f"{iss}/mtls/token", "pushed_authorization_request_endpoint": f"{iss}/mtls/par"},
    }  # fmt: skip


# issuer path -> (document, where it is served, where its JWKS is, the ids that must fail)
PROVIDERS = {
    # Keycloak's default realm still advertises the implicit and password grants (RFC 9700
    # §2.1.2 SHOULD NOT / §2.4 MUST NOT); 'none' in userinfo/request-object lists, 'plain'
    # next to S256 are allowed.
    "keycloak": (keycloak, "/realms/demo/.well-known/openid-configuration", "/realms/demo/protocol/openid-connect/certs", "/realms/demo",
                 {"oauth.implicit-grant", "oauth.password-grant"}),
    # Auth0 lists token response types (implicit); its issuer ends with '/'.
    "auth0": (auth0, "/.well-known/openid-configuration", "/.well-known/jwks.json", "/",
              {"oauth.implicit-grant"}),
    # An Okta custom authorization server: implicit + password listed; 'none' at the token endpoint (public
    # clients, PKCE S256 on offer: a warning) and at revocation (RFC 7009) allowed.
    "okta": (okta, "/oauth2/default/.well-known/openid-configuration", "/oauth2/default/v1/keys", "/oauth2/default",
             {"oauth.implicit-grant", "oauth.password-grant"}),
    # Entra ID v2.0: 'id_token token' listed, code_challenge_methods_supported omitted (RFC 8414
    # reads that as no PKCE, though Entra honours PKCE).
    "entra": (entra, "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0/.well-known/openid-configuration",
              "/9188040d-6c67-4c5b-b112-36a304b66dad/discovery/v2.0/keys", "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
              {"oauth.implicit-grant", "oauth.pkce-s256"}),
    "fapi2": (fapi2, "/fapi/.well-known/openid-configuration", "/fapi/jwks", "/fapi", set()),
}  # fmt: skip
#: what every provider document above is allowed to do: never a failure
ALLOWED = {"oauth.none-signing-alg", "oauth.client-auth-none", "oauth.jwks", "oauth.issuer-mismatch",
           "oauth.insecure-endpoint"}  # fmt: skip


@pytest.fixture(scope="module")
def idps(pki):
    routes: dict[str, dict] = {}
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks = {
        "keys": [
            {**public_jwk(rsa_key, "rsa-sig"), "use": "sig", "alg": "RS256"},
            {**public_jwk(rsa_key, "rsa-enc"), "use": "enc", "alg": "RSA-OAEP"},
            {**public_jwk(ec_key, "ec-sig"), "use": "sig", "alg": "ES256"},
            _x25519_jwk("x25519-enc"),
        ]
    }

    async def handler(request: Request) -> Response:
        doc = routes.get(request.url.path)
        return JSONResponse(doc) if doc is not None else Response("not found", 404)

    handle = serve_asgi(
        Starlette(routes=[Route("/{path:path}", handler)]), tls=(pki.service.cert_path, pki.service.key_path)
    )
    base = handle.url.replace("127.0.0.1", "localhost")
    for build, where, keys_at, _issuer, _fails in PROVIDERS.values():
        routes[where] = build(base)
        routes[keys_at] = jwks
    yield base
    handle.stop()


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_provider_findings(idps, pki, name):
    _build, _where, _keys, issuer_path, must_fail = PROVIDERS[name]
    issuer = idps + issuer_path
    findings = check(issuer, ca_file=str(pki.ca_path))
    by = {f.check_id: f for f in findings}
    failed = {c for c, f in by.items() if f.status is Status.FAIL}
    assert failed == must_fail, {c: by[c].evidence for c in failed}
    assert not (failed & ALLOWED)
    assert not [f for f in findings if f.status is Status.ERROR], [f.evidence for f in findings]
    assert by["oauth.jwks"].status is Status.PASS  # RSA enc key and X25519 ECDH-ES key included
    assert by["oauth.issuer-mismatch"].status is Status.PASS


def test_spec_allowances_are_named_in_the_evidence(idps, pki):
    kc = {f.check_id: f for f in check(idps + "/realms/demo", ca_file=str(pki.ca_path))}
    assert "userinfo_signing_alg_values_supported" in kc["oauth.none-signing-alg"].evidence
    assert kc["oauth.pkce-s256"].status is Status.WARN and "plain" in kc["oauth.pkce-s256"].evidence
    okta_found = {f.check_id: f for f in check(idps + "/oauth2/default", ca_file=str(pki.ca_path))}
    assert okta_found["oauth.client-auth-none"].status is Status.WARN  # public clients, PKCE S256 offered


def test_fapi2_server_is_clean(idps, pki):
    findings = check(idps + "/fapi", ca_file=str(pki.ca_path))
    assert [(f.check_id, f.status.value, f.evidence) for f in findings if f.status is not Status.PASS] == []
