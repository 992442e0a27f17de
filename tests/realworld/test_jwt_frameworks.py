"""apisec's JWT probes against PyJWT routes in real Flask and FastAPI apps.

Per route: the check ids that must fail, and that nothing else fails.  The
correct route fails nothing.  Key confusion is probed with the certificate
*file* (``--public-key idp-signing.crt``) as a user passes it.
"""

from __future__ import annotations

import pytest

from compare.findings import Status
from rest.jwt import probe
from tests.realworld import jwt_apps
from tests.realworld.servers import asgi_server, wsgi_server

SIGNATURE = {"jwt.none-alg", "jwt.unsigned", "jwt.tampered-payload", "jwt.psychic-signature",
             "jwt.key-confusion", "jwt.embedded-jwk", "jwt.kid-injection"}  # fmt: skip
EXPECTED = {
    "/correct": set(),
    "/no-exp": {"jwt.expired", "jwt.missing-exp"},
    "/no-aud": {"jwt.wrong-audience"},
    "/hs-rs": {"jwt.key-confusion"},
    "/kid-path": {"jwt.kid-injection"},
    "/kid-sql": {"jwt.kid-injection"},
    "/jku": {"jwt.jku-injection"},
}
WHITE_BOX_ROUTES = {"/correct", "/no-exp", "/no-aud"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return jwt_apps.make_keys(tmp_path_factory.mktemp("realworld-jwt"))


@pytest.fixture(scope="module", params=["flask", "fastapi"])
def app_url(request, keys):
    if request.param == "flask":
        with wsgi_server(jwt_apps.flask_app(keys)) as url:
            yield url
    else:
        with asgi_server(jwt_apps.fastapi_app(keys)) as url:
            yield url


def _probe(url, keys, route, **kw):
    kw.setdefault("public_key", keys.cert_path.read_bytes())
    if route in WHITE_BOX_ROUTES:
        kw.setdefault("signing_key", keys.private_pem)
    return probe(url + route, jwt_apps.token_for(keys, route), **kw)


def _failed(findings):
    return {f.check_id for f in findings if f.status is Status.FAIL}


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_each_mistake_found_and_nothing_else(app_url, keys, route):
    findings = _probe(app_url, keys, route)
    assert _failed(findings) == EXPECTED[route], [
        (f.check_id, f.evidence) for f in findings if f.status is Status.FAIL
    ]
    assert not [f for f in findings if f.status is Status.ERROR]


def test_correct_route_ran_every_probe(app_url, keys):
    by = {f.check_id: f for f in _probe(app_url, keys, "/correct")}
    assert {c for c, f in by.items() if f.status is not Status.PASS} == {"jwt.weak-secret"}  # RS256 baseline


def test_signature_not_verified(app_url, keys):
    assert SIGNATURE - {"jwt.key-confusion"} <= _failed(_probe(app_url, keys, "/no-verify"))


def test_key_confusion_needs_the_exact_certificate_bytes(app_url, keys):
    """The re-serialised key alone (what the probe used to try) misses this server;
    the certificate file's own bytes find it."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(keys.cert_path.read_bytes())
    only = ["jwt.key-confusion"]
    assert _failed(_probe(app_url, keys, "/hs-rs", public_key=cert.public_key(), only=only)) == set()
    f = next(iter(_probe(app_url, keys, "/hs-rs", only=only)))
    assert f.status is Status.FAIL and "exact bytes of the given file" in f.evidence


def test_kid_path_hits_a_predictable_file(app_url, keys):
    f = next(iter(_probe(app_url, keys, "/kid-path", only=["jwt.kid-injection"])))
    assert f.status is Status.FAIL and "/proc/sys/kernel/ostype" in f.evidence


def test_kid_sql_hits_the_union(app_url, keys):
    f = next(iter(_probe(app_url, keys, "/kid-sql", only=["jwt.kid-injection"])))
    assert f.status is Status.FAIL and "SQL injection" in f.evidence
