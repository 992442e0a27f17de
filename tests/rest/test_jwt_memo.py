"""Validator's memo of verified signatures keeps every rule: claims are
checked on each call, header policy too, failures are never remembered, the
memo is bounded and a caller cannot edit it."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from rest.errors import BadInput, TokenRejected
from rest.jwt import Validator
from rest.jwt.jose import b64url_encode


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key, **claims):
    now = int(time.time())
    body = {"sub": "alice", "iat": now, "exp": now + 60, **claims}
    return pyjwt.encode(body, key, algorithm="RS256", headers={"kid": "k1", "typ": "at+jwt"})


def test_claims_are_checked_on_every_call(key):
    v = Validator(keys=key.public_key())
    tok = _token(key)
    assert v.validate(tok)["sub"] == "alice"
    assert len(v._verified) == 1
    with pytest.raises(TokenRejected, match="expired"):
        v.validate(tok, at=time.time() + 3600)
    assert v.validate(tok)["sub"] == "alice"


def test_header_policy_is_checked_on_every_call(key):
    v = Validator(keys=key.public_key())
    tok = _token(key)
    v.validate(tok)
    v.typ = "jwt"  # a stricter policy applies to the remembered token too
    with pytest.raises(TokenRejected, match="typ"):
        v.validate(tok)
    v.typ = None
    v.algorithms = ("PS256",)
    with pytest.raises(TokenRejected, match="not allowed"):
        v.validate(tok)


def test_failures_are_not_remembered(key):
    v = Validator(keys=key.public_key())
    h, p, s = _token(key).split(".")
    body = b64url_encode(b'{"sub":"root","exp":9999999999}')
    forged = f"{h}.{body}.{s}"
    for _ in range(2):
        with pytest.raises(TokenRejected, match="signature"):
            v.validate(forged)
    assert v._verified == {}


def test_memo_is_bounded_and_results_are_copies(key):
    v = Validator(keys=key.public_key(), cache_size=2)
    tokens = [_token(key, n=i) for i in range(5)]
    for t in tokens:
        v.validate(t)
        assert len(v._verified) <= 2
    first = v.verify_jws(tokens[-1])
    first.header["alg"] = "none"
    assert v.verify_jws(tokens[-1]).header["alg"] == "RS256"


def test_memo_off(key):
    v = Validator(keys=key.public_key(), cache_size=0)
    v.validate(_token(key))
    assert v._verified == {}
    with pytest.raises(BadInput):
        Validator(keys=key.public_key(), cache_size=-1)


def test_another_key_never_hits_the_memo(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    v = Validator(keys=key.public_key())
    tok = _token(key)
    v.validate(tok)
    with pytest.raises(TokenRejected, match="signature"):
        Validator(keys=other.public_key()).validate(tok)
