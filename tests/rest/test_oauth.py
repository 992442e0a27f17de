"""OAuth checks against a real Authlib authorization server (secure and
insecure configurations, both over HTTPS with the test PKI) and against
crafted metadata documents served over HTTPS."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apisec_samples.oauth_server import serve
from apisec_samples.serving import serve_asgi
from compare.findings import Status
from rest.errors import BadInput, TargetUnreachable
from rest.jwt.forge import public_jwk
from rest.oauth import check, fetch_metadata, well_known_urls

STATIC_IDS = {
    "oauth.issuer-mismatch", "oauth.insecure-endpoint", "oauth.implicit-grant", "oauth.password-grant",
    "oauth.pkce-s256", "oauth.none-signing-alg", "oauth.client-auth-none", "oauth.weak-client-auth",
    "oauth.jwks", "oauth.iss-parameter", "oauth.par",
}  # fmt: skip
LIVE_IDS = {
    "oauth.token-client-credentials", "oauth.token-no-store", "oauth.token-jwt", "oauth.token-password-refused",
    "oauth.token-implicit-refused", "oauth.token-introspection-auth",
}  # fmt: skip


def _tls(pki):
    return (pki.service.cert_path, pki.service.key_path)


@pytest.fixture(scope="module")
def secure(pki):
    h = serve("secure", tls=_tls(pki))
    yield h
    h.stop()


@pytest.fixture(scope="module")
def insecure(pki):
    h = serve("insecure", tls=_tls(pki))
    yield h
    h.stop()


def _by_id(findings):
    out = {f.check_id: f for f in findings}
    assert len(out) == len(findings), "one finding per check id"
    return out


def _run(handle, pki, live=True):
    svc = handle.extra["service"]
    creds = {"client_id": svc.client_id, "client_secret": svc.client_secret} if live else {}
    return _by_id(check(handle.url, ca_file=str(pki.ca_path), **creds))


def test_secure_server_has_no_false_positive(secure, pki):
    by = _run(secure, pki)
    assert set(by) == STATIC_IDS | LIVE_IDS
    not_pass = {c: (f.status.value, f.evidence) for c, f in by.items() if f.status is not Status.PASS}
    # PAR is informational and Authlib has no PAR endpoint: the only non-pass
    assert not_pass == {"oauth.par": ("warn", "no pushed_authorization_request_endpoint")}
    assert by["oauth.par"].severity.value == "info"
    assert all(f.side.value == "rest" for f in by.values())
    assert by["oauth.insecure-endpoint"].dimension.value == "encryption"  # transport-encryption control
    assert by["oauth.pkce-s256"].dimension.value == "token-auth"


def test_secure_metadata_found_by_path_insertion(secure, pki):
    md = fetch_metadata(secure.url, ca_file=str(pki.ca_path))
    assert md.kind == "rfc8414"
    assert md.url.endswith("/.well-known/oauth-authorization-server/realms/secure")


def test_insecure_server_every_weakness_found(insecure, pki):
    by = _run(insecure, pki)
    failed = {c for c, f in by.items() if f.status is Status.FAIL}
    assert failed == {
        "oauth.insecure-endpoint", "oauth.implicit-grant", "oauth.password-grant",
        "oauth.none-signing-alg", "oauth.client-auth-none", "oauth.jwks", "oauth.token-no-store",
        "oauth.token-jwt", "oauth.token-password-refused", "oauth.token-implicit-refused",
        "oauth.token-introspection-auth",
    }  # fmt: skip
    warned = {c for c, f in by.items() if f.status is Status.WARN}
    # 'plain' next to S256: allowed by RFC 7636, a warning
    assert warned == {"oauth.weak-client-auth", "oauth.iss-parameter", "oauth.par", "oauth.pkce-s256"}
    assert "PRIVATE" in by["oauth.jwks"].evidence
    assert "revocation_endpoint http://" in by["oauth.insecure-endpoint"].evidence
    assert by["oauth.token-client-credentials"].status is Status.PASS


def test_insecure_metadata_found_by_openid_fallback(insecure, pki):
    md = fetch_metadata(insecure.url, ca_file=str(pki.ca_path))
    assert md.kind == "openid-configuration"
    assert md.attempts and "404" in md.attempts[0][1]


def test_no_secret_or_token_in_findings(insecure, pki):
    svc = insecure.extra["service"]
    findings = check(
        insecure.url, ca_file=str(pki.ca_path), client_id=svc.client_id, client_secret=svc.client_secret
    )
    text = json.dumps([f.to_dict() for f in findings])
    assert svc.client_secret not in text
    assert "eyJ" not in text


def test_without_credentials_only_static_checks(secure, pki):
    assert set(_run(secure, pki, live=False)) == STATIC_IDS


def test_tls_requires_the_ca(secure):
    with pytest.raises(TargetUnreachable, match="TLS"):
        check(secure.url)


def test_secure_server_private_key_jwt_really_works(secure, pki):
    """private_key_jwt is advertised, so it must work (no lying metadata)."""
    import requests
    from joserfc import jwt as jjwt
    from joserfc.jwk import RSAKey

    svc = secure.extra["service"]
    now = int(time.time())
    claims = {"iss": svc.client_id, "sub": svc.client_id, "aud": svc.issuer + "/token", "jti": uuid.uuid4().hex,
              "iat": now, "exp": now + 60}  # fmt: skip
    key = RSAKey.import_key(svc.client_key.as_dict(private=True))
    assertion = jjwt.encode({"alg": "RS256"}, claims, key)
    r = requests.post(svc.issuer + "/token", verify=str(pki.ca_path), data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    })  # fmt: skip
    assert r.status_code == 200 and r.json()["access_token"]


# ---------------------------------------------------------------- crafted documents over HTTPS


@pytest.fixture(scope="module")
def docs(pki):
    routes: dict[str, object] = {}

    async def handler(request: Request) -> Response:
        item = routes.get(request.url.path)
        if item is None:
            return Response("not found", 404)
        return JSONResponse(item(request.base_url) if callable(item) else item)

    app = Starlette(routes=[Route("/{path:path}", handler)])
    h = serve_asgi(app, tls=_tls(pki))
    base = h.url
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def md(path, **fields):
        return {"issuer": f"{base}{path}", "authorization_endpoint": f"{base}{path}/authorize",
                "token_endpoint": f"{base}{path}/token", "response_types_supported": ["code"], **fields}  # fmt: skip

    good_fields = dict(
        grant_types_supported=["authorization_code", "client_credentials"], code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["tls_client_auth", "private_key_jwt"],
        authorization_response_iss_parameter_supported=True, jwks_uri=f"{base}/keys/good",
        pushed_authorization_request_endpoint=f"{base}/good/par", require_pushed_authorization_requests=True,
    )  # fmt: skip
    routes.update({
        "/.well-known/oauth-authorization-server/mismatch": {**md("/mismatch"), "issuer": f"{base}/someone-else"},
        "/.well-known/oauth-authorization-server/slash": {**md("/slash"), "issuer": f"{base}/slash/"},
        "/tenant/.well-known/openid-configuration": md("/tenant", **good_fields),
        "/.well-known/oauth-authorization-server/minimal": md("/minimal"),
        "/.well-known/oauth-authorization-server/good": md("/good", **good_fields),
        "/.well-known/oauth-authorization-server/weakkeys": md("/weakkeys", jwks_uri=f"{base}/keys/weak"),
        "/.well-known/oauth-authorization-server/nonealg": md(
            "/nonealg", id_token_signing_alg_values_supported=["RS256", "none"]),
        "/.well-known/oauth-authorization-server/public": md(
            "/public", grant_types_supported=["authorization_code"], code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["none", "private_key_jwt"]),
        "/.well-known/oauth-authorization-server/nopkce-public": md(
            "/nopkce-public", grant_types_supported=["authorization_code"],
            token_endpoint_auth_methods_supported=["none"]),
        "/.well-known/oauth-authorization-server/s256-missing": md(
            "/s256-missing", grant_types_supported=["authorization_code"], code_challenge_methods_supported=["plain"]),
        "/.well-known/oauth-authorization-server/httpjwks": md(
            "/httpjwks", jwks_uri="http://127.0.0.1:1/jwks", userinfo_endpoint="http://127.0.0.1:1/userinfo"),
        # a token endpoint off the issuer's host must never receive the client secret
        # (.invalid never resolves; the check refuses before any connection)
        "/.well-known/oauth-authorization-server/foreign": md(
            "/foreign", token_endpoint="https://token.example.invalid/token"),
        "/keys/good": {"keys": [public_jwk(good, "g1")]},
        "/keys/weak": {"keys": [public_jwk(weak, "w1"), {"kty": "oct", "k": "c2VjcmV0", "kid": "w2"},
                                public_jwk(good, "dup"), public_jwk(good, "dup"),
                                {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}]},
    })  # fmt: skip
    h.extra["base"] = base
    yield h
    h.stop()


def _doc_check(docs, pki, path):
    return _by_id(check(docs.extra["base"] + path, ca_file=str(pki.ca_path)))


def test_issuer_mismatch(docs, pki):
    assert _doc_check(docs, pki, "/mismatch")["oauth.issuer-mismatch"].status is Status.FAIL
    f = _doc_check(docs, pki, "/slash")["oauth.issuer-mismatch"]
    assert f.status is Status.FAIL and "trailing slash" in f.evidence
    assert _doc_check(docs, pki, "/good")["oauth.issuer-mismatch"].status is Status.PASS


def test_openid_configuration_appended_for_path_issuers(docs, pki):
    md = fetch_metadata(docs.extra["base"] + "/tenant", ca_file=str(pki.ca_path))
    assert md.kind == "openid-configuration" and md.url.endswith("/tenant/.well-known/openid-configuration")
    assert [u for u, _ in md.attempts] == [well_known_urls(docs.extra["base"] + "/tenant")[0][1]]


def test_good_document_all_pass(docs, pki):
    by = _doc_check(docs, pki, "/good")
    assert {c for c, f in by.items() if f.status is not Status.PASS} == set()


def test_missing_fields_judged_by_rfc_defaults(docs, pki):
    by = _doc_check(docs, pki, "/minimal")
    assert by["oauth.implicit-grant"].status is Status.WARN  # default grant types include implicit
    assert by["oauth.pkce-s256"].status is Status.FAIL  # omitted = no PKCE
    assert (
        by["oauth.weak-client-auth"].status is Status.WARN
        and "default" in by["oauth.weak-client-auth"].evidence
    )
    assert by["oauth.client-auth-none"].status is Status.PASS  # default client_secret_basic
    assert by["oauth.password-grant"].status is Status.PASS
    assert by["oauth.jwks"].status is Status.SKIP
    assert by["oauth.iss-parameter"].status is Status.WARN
    assert by["oauth.par"].status is Status.WARN


def test_weak_jwks(docs, pki):
    f = _doc_check(docs, pki, "/weakkeys")["oauth.jwks"]
    assert f.status is Status.FAIL
    for needle in ("1024 bits", "symmetric", "'dup' used by 2 keys", "secp256k1"):
        assert needle in f.evidence


def test_none_signing_alg(docs, pki):
    f = _doc_check(docs, pki, "/nonealg")["oauth.none-signing-alg"]
    assert f.status is Status.FAIL and "id_token_signing_alg_values_supported" in f.evidence


def test_client_auth_none_with_and_without_pkce(docs, pki):
    assert _doc_check(docs, pki, "/public")["oauth.client-auth-none"].status is Status.WARN
    assert _doc_check(docs, pki, "/nopkce-public")["oauth.client-auth-none"].status is Status.FAIL


def test_pkce_plain_only(docs, pki):
    f = _doc_check(docs, pki, "/s256-missing")["oauth.pkce-s256"]
    assert f.status is Status.FAIL and "S256 not offered" in f.evidence


def test_http_endpoints_flagged(docs, pki):
    by = _doc_check(docs, pki, "/httpjwks")
    f = by["oauth.insecure-endpoint"]
    assert f.status is Status.FAIL and "jwks_uri" in f.evidence and "userinfo_endpoint" in f.evidence
    assert by["oauth.jwks"].status is Status.ERROR  # nothing listens there


def test_unreachable_and_bad_issuer(docs, pki):
    with pytest.raises(TargetUnreachable, match="no authorization-server metadata"):
        check(docs.extra["base"] + "/nothing-here", ca_file=str(pki.ca_path))
    with pytest.raises(BadInput):
        check("https://as.example/?x=1")


def test_client_secret_never_sent_off_the_issuers_host(docs, pki):
    findings = check(
        docs.extra["base"] + "/foreign", ca_file=str(pki.ca_path), client_id="c", client_secret="s3cr3t-value"
    )
    sent = [
        f
        for f in findings
        if f.check_id in ("oauth.token-client-credentials", "oauth.token-password-refused")
    ]
    assert sent and all(f.status is Status.ERROR for f in sent)
    assert all("not sending client credentials" in f.evidence for f in sent)
    assert not any("s3cr3t-value" in f.evidence for f in findings)


# ------------------------------------------------------------------ what the specs allow (issue 14)
def _md(**fields):
    from rest.oauth.metadata import Metadata

    doc = {"issuer": "https://idp.example", **fields}
    return Metadata(
        "https://idp.example", "https://idp.example/.well-known/openid-configuration", "oidc", doc
    )


@pytest.mark.parametrize(
    ("field", "status"),
    [
        ("userinfo_signing_alg_values_supported", Status.PASS),  # OIDC Discovery allows it
        ("request_object_signing_alg_values_supported", Status.PASS),
        ("id_token_signing_alg_values_supported", Status.FAIL),
        ("token_endpoint_auth_signing_alg_values_supported", Status.FAIL),  # RFC 8414 §2 MUST NOT
        ("introspection_endpoint_auth_signing_alg_values_supported", Status.FAIL),
    ],
)
def test_none_signing_alg_only_where_it_matters(field, status):
    from rest.oauth.checks import none_signing_alg

    f = none_signing_alg(_md(**{field: ["RS256", "none"]}))
    assert f.status is status, f.evidence
    assert field in f.evidence


@pytest.mark.parametrize(
    ("field", "status"),
    [
        ("revocation_endpoint_auth_methods_supported", Status.PASS),  # RFC 7009: public clients revoke
        ("introspection_endpoint_auth_methods_supported", Status.FAIL),
    ],
)
def test_client_auth_none_at_revocation_is_allowed(field, status):
    from rest.oauth.checks import client_auth_none

    pkce = _md()  # not used unless the token endpoint allows 'none'
    f = client_auth_none(
        _md(token_endpoint_auth_methods_supported=["private_key_jwt"], **{field: ["none"]}), pkce
    )
    assert f.status is status, f.evidence


def test_jwks_ecdh_keys_are_not_weak():
    from rest.oauth.checks import jwks_problems

    x = {"kty": "OKP", "crv": "X25519", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}
    assert (
        jwks_problems({"keys": [{**x, "kid": "e1", "use": "enc"}, {**x, "crv": "X448", "kid": "e2"}]}) == []
    )
    assert jwks_problems({"keys": [{**x, "kid": "e3", "alg": "ECDH-ES+A256KW"}]}) == []
    bad = jwks_problems({"keys": [{**x, "kid": "s1", "use": "sig"}]})
    assert bad and "marked for signing" in bad[0]


def test_jwks_hostile_rsa_members_are_problems_not_crashes():
    from rest.jwt.jose import b64url_encode
    from rest.oauth.checks import jwks_problems

    n = b64url_encode(b"\xc1" + bytes(255))  # 2048 bits
    assert jwks_problems({"keys": [{"kty": "RSA", "kid": "ok", "n": n, "e": "AQAB"}]}) == []
    bad = jwks_problems({"keys": [{"kty": "RSA", "kid": "h", "n": n, "e": "A"}]})  # impossible length
    assert bad and "degenerate public exponent" in bad[0]
    bad = jwks_problems({"keys": [{"kty": "RSA", "kid": "h", "n": n + "==", "e": "AQAB"}]})  # padded
    assert bad and "RSA 0 bits" in bad[0]
