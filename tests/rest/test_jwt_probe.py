"""Probes against the real flawed API (uvicorn on 127.0.0.1): each flaw is
found on its route, nothing fails on the correct route."""

from __future__ import annotations

import json

import pytest

from apisec_samples.jwt_api import serve
from compare.findings import Status
from rest.errors import BadInput
from rest.jwt import probe

WHITE_BOX = {"jwt.expired", "jwt.not-yet-valid", "jwt.wrong-audience", "jwt.wrong-issuer", "jwt.missing-exp"}

# route -> the checks that must fail there (and, where the flaw is narrow, the only ones)
EXPECTED = {
    "/flaw/none-alg": {"jwt.none-alg"},
    "/flaw/key-confusion": {"jwt.key-confusion"},
    "/flaw/claims-ignored": {"jwt.expired", "jwt.wrong-audience", "jwt.wrong-issuer", "jwt.missing-exp"},
    "/flaw/embedded-jwk": {"jwt.embedded-jwk"},
    "/flaw/jku": {"jwt.jku-injection"},
    "/flaw/kid": {"jwt.kid-injection"},
    "/flaw/weak-secret": {"jwt.weak-secret"},
    "/flaw/psychic": {"jwt.psychic-signature"},
}
SIGNATURE_IGNORED = {"jwt.unsigned", "jwt.tampered-payload", "jwt.none-alg", "jwt.psychic-signature"}


@pytest.fixture(scope="module")
def api():
    handle = serve()
    yield handle
    handle.stop()


def _run(api, route, **kw):
    a = api.extra["api"]
    kw.setdefault("public_key", a.public_pem)
    if route not in ("/flaw/weak-secret", "/flaw/kid", "/flaw/psychic"):
        kw.setdefault("signing_key", a.private_pem)
    return probe(api.url + route, a.token_for(route), **kw)


def _failed(findings):
    return {f.check_id for f in findings if f.status is Status.FAIL}


def test_correct_route_has_no_failure(api):
    findings = _run(api, "/secure")
    by = {f.check_id: f for f in findings}
    assert _failed(findings) == set()
    # every probe really ran (pass), except weak-secret which needs an HS token
    assert {c for c, f in by.items() if f.status is Status.PASS} == set(by) - {"jwt.weak-secret"}
    assert by["jwt.weak-secret"].status is Status.SKIP
    assert len(by) == 14
    assert all(f.side.value == "rest" and f.dimension.value == "token-auth" for f in findings)


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_each_flaw_found_on_its_route(api, route):
    failed = _failed(_run(api, route))
    assert failed == EXPECTED[route]


def test_signature_not_checked_fails_everything_signature_related(api):
    failed = _failed(_run(api, "/flaw/unsigned"))
    assert SIGNATURE_IGNORED | {"jwt.key-confusion", "jwt.embedded-jwk", "jwt.kid-injection"} <= failed


def test_jku_fetch_is_visible_in_evidence(api):
    f = next(f for f in _run(api, "/flaw/jku") if f.check_id == "jwt.jku-injection")
    assert "fetched the attacker jku/x5u URL 2x" in f.evidence
    assert "header jku to attacker JWKS" in f.evidence and "header x5u to attacker certificate" in f.evidence


def test_x5c_variant_accepted_by_the_embedded_key_flaw(api):
    f = next(f for f in _run(api, "/flaw/embedded-jwk") if f.check_id == "jwt.embedded-jwk")
    accepted = f.evidence.split("|")[0]
    assert "header x5c, self-signed certificate" in accepted and "header jwk" in accepted


def test_evidence_never_holds_tokens(api):
    a = api.extra["api"]
    token = a.token_for("/flaw/none-alg")
    findings = probe(api.url + "/flaw/none-alg", token, public_key=a.public_pem, signing_key=a.private_pem)
    text = json.dumps([f.to_dict() for f in findings])
    assert token.split(".")[1] not in text and token.split(".")[2] not in text
    assert "eyJ" not in text


def test_key_confusion_skipped_without_public_key(api):
    a = api.extra["api"]
    findings = probe(api.url + "/flaw/key-confusion", a.token_for("/flaw/key-confusion"))
    by = {f.check_id: f.status for f in findings}
    assert by["jwt.key-confusion"] is Status.SKIP
    assert all(by[c] is Status.SKIP for c in WHITE_BOX)


def test_wrong_signing_key_is_an_error_not_a_verdict(api):
    from apisec_samples.jwt_api.app import JwtApi

    a = api.extra["api"]
    other = JwtApi(rsa_key=__import__("rest.jwt.forge", fromlist=["x"]).attacker_key("RSA"))
    findings = probe(api.url + "/secure", a.token_for("/secure"), signing_key=other.private_pem)
    assert {f.status for f in findings if f.check_id in WHITE_BOX} == {Status.ERROR}


def test_baseline_rules(api):
    a = api.extra["api"]
    with pytest.raises(BadInput, match="valid token is answered HTTP 401"):
        probe(api.url + "/secure", a.token_for("/flaw/weak-secret"))
    with pytest.raises(BadInput, match="not a compact JWS"):
        probe(api.url + "/secure", "not-a-token")


def test_package_probe_stays_a_function():
    import importlib

    import rest.jwt

    importlib.import_module("rest.jwt.probe")
    import rest.jwt.cli  # noqa: F401  (imports the submodule too)

    assert callable(rest.jwt.probe) and rest.jwt.probe.__module__ == "rest.jwt.probe"


def test_server_errors_are_inconclusive_not_refusals(api):
    """/fragile is correct but answers 500 to any alg other than RS256: those
    checks must be 'error' (inconclusive), never a false 'pass'."""
    by = {f.check_id: f for f in _run(api, "/fragile")}
    assert _failed(by.values()) == set()
    for c in ("jwt.none-alg", "jwt.key-confusion", "jwt.kid-injection", "jwt.psychic-signature"):
        assert by[c].status is Status.ERROR and "HTTP 500 server error" in by[c].evidence
    for c in ("jwt.unsigned", "jwt.tampered-payload", "jwt.embedded-jwk", "jwt.jku-injection", "jwt.expired"):
        assert by[c].status is Status.PASS


class _Throttling:
    """A real HTTP front on 127.0.0.1 that answers every other request 429
    (``Retry-After: 0``, or never anything but 429 with ``always``) and
    forwards the rest to the sample API's correct route."""

    def __init__(self, upstream: str, always: bool = False) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        state = {"n": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                with lock:
                    state["n"] += 1
                    throttle = always or state["n"] % 2 == 1
                if throttle:
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                auth = self.headers.get("Authorization")
                r = requests.get(upstream, headers={"Authorization": auth} if auth else {}, timeout=10)
                self.send_response(r.status_code)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_rate_limited_api_slows_the_probe_down_instead_of_erroring(api):
    """A 429 is not a verdict: the probe waits as Retry-After says and asks
    again, so a throttling but correct API gets verdicts, not errors."""
    front = _Throttling(api.url + "/secure")
    try:
        a = api.extra["api"]
        findings = probe(
            front.url, a.token_for("/secure"), public_key=a.public_pem, signing_key=a.private_pem
        )
    finally:
        front.close()
    by = {f.check_id: f for f in findings}
    assert {c for c, f in by.items() if f.status is not Status.PASS} == {"jwt.weak-secret"}, {
        c: f.evidence for c, f in by.items() if f.status is Status.ERROR
    }


def test_api_that_only_answers_429_is_inconclusive(api):
    """Nothing but 429: the probe cannot even confirm the valid token; an
    input error, never a pass."""
    front = _Throttling(api.url + "/secure", always=True)
    try:
        with pytest.raises(BadInput, match="429"):
            probe(front.url, api.extra["api"].token_for("/secure"))
    finally:
        front.close()
