"""``apisec rest jwt verify|inspect|probe`` through the real console script."""

from __future__ import annotations

import json
import os
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apisec_samples.jwt_api import serve


@pytest.fixture(scope="module")
def keyfiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwtcli")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = d / "pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    jwks = d / "jwks.json"
    from rest.jwt.forge import public_jwk

    jwks.write_text(json.dumps({"keys": [public_jwk(key, "k1")]}))
    return key, pub, jwks


def _tok(key, **kw):
    now = int(time.time())
    claims = {"iss": "https://iss", "aud": "https://api", "sub": "alice", "exp": now + 300, "iat": now, **kw}
    return pyjwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1", "typ": "at+jwt"})


def test_verify_valid_refused_and_input_error(keyfiles, apisec):
    key, pub, jwks = keyfiles
    ok = apisec("rest", "jwt", "verify", _tok(key), "--public-key", str(pub), "--audience", "https://api",
                "--issuer", "https://iss", "--typ", "at+jwt", "--format", "json")  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["claims"]["sub"] == "alice"
    bad = apisec("rest", "jwt", "verify", _tok(key), "--jwks", str(jwks), "--audience", "https://other")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "apisec: error: audience does not match"
    expired = apisec("rest", "jwt", "verify", _tok(key), "--public-key", str(pub), "--audience", "https://api",
                     "--at", "2999-01-01T00:00:00Z", "--format", "json")  # fmt: skip
    assert expired.exit_code == 1 and "expired" in json.loads(expired.stdout)["reason"]
    # the one refusal shape shared with soap verify and saml verify, plus the stderr line
    assert json.loads(expired.stdout) == {"valid": False, "error": "TokenRejected",
                                          "reason": json.loads(expired.stdout)["reason"]}  # fmt: skip
    assert expired.stderr.startswith("apisec: error: ") and "expired" in expired.stderr
    missing = apisec("rest", "jwt", "verify", _tok(key), "--public-key", "/nonexistent.pem")
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr
    both = apisec("rest", "jwt", "verify", _tok(key))
    assert both.exit_code == 2


def test_verify_secret_from_env_never_argv(apisec, monkeypatch):
    secret = os.urandom(32).hex()
    tok = pyjwt.encode({"sub": "a", "exp": int(time.time()) + 60}, secret.encode(), algorithm="HS256")
    monkeypatch.setenv("APISEC_TEST_SECRET", secret)
    ok = apisec("rest", "jwt", "verify", tok, "--secret-env", "APISEC_TEST_SECRET")
    assert ok.exit_code == 0, ok.stderr
    assert secret not in ok.stdout + ok.stderr
    monkeypatch.setenv("APISEC_TEST_SECRET", "x" * 40)
    refused = apisec("rest", "jwt", "verify", tok, "--secret-env", "APISEC_TEST_SECRET")
    assert refused.exit_code == 1 and "signature" in refused.stderr
    unset = apisec("rest", "jwt", "verify", tok, "--secret-env", "APISEC_UNSET_VAR_XYZ")
    assert unset.exit_code == 2


def test_inspect_says_unverified_and_warns(apisec):
    tok = pyjwt.encode({"sub": "a", "password": "hunter2"}, b"k" * 32, algorithm="HS256")
    r = apisec("rest", "jwt", "inspect", tok, "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["verified"] is False
    assert "hunter2" not in r.stdout
    text = " ".join(doc["warnings"])
    assert "never expires" in text and "no 'aud'" in text and "password" in text and "HS256" in text
    none_tok = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."
    r = apisec("rest", "jwt", "inspect", none_tok)
    assert r.exit_code == 0 and "NOT verified" in r.stdout and "unsigned" in r.stdout
    assert apisec("rest", "jwt", "inspect", "garbage").exit_code == 2


def test_probe_cli_exit_codes_and_json(apisec, tmp_path):
    with serve() as h:
        a = h.extra["api"]
        pub = tmp_path / "api.pem"
        pub.write_bytes(a.public_pem)
        tok = a.token_for("/flaw/none-alg")
        r = apisec("rest", "jwt", "probe", h.url + "/flaw/none-alg", "--token", tok, "--public-key", str(pub),
                   "--format", "json")  # fmt: skip
        assert r.exit_code == 1, r.stderr
        doc = json.loads(r.stdout)
        failed = {f["check_id"] for f in doc["findings"] if f["status"] == "fail"}
        assert failed == {"jwt.none-alg"}
        assert tok.split(".")[1] not in r.stdout
        only = apisec("rest", "jwt", "probe", h.url + "/flaw/none-alg", "--token", tok, "--only",
                      "jwt.none-alg,jwt.unsigned", "--format", "json")  # fmt: skip
        assert only.exit_code == 1
        assert [f["check_id"] for f in json.loads(only.stdout)["findings"]] == [
            "jwt.none-alg",
            "jwt.unsigned",
        ]
        typo = apisec("rest", "jwt", "probe", h.url + "/secure", "--token", tok, "--only", "jwt.nonealg")
        assert typo.exit_code == 2 and "unknown check id" in typo.stderr
        ok = apisec("rest", "jwt", "probe", h.url + "/secure", "--token", a.token_for("/secure"))
        assert ok.exit_code == 0, ok.stdout + ok.stderr
        bad = apisec("rest", "jwt", "probe", h.url + "/secure", "--token", "x.y.z")
        assert bad.exit_code == 2 and bad.stderr.startswith("apisec: error:")
