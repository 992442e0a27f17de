"""Hostile tokens end in a clean refusal, never an internal error (issue 14):
NumericDates beyond a float (``exp`` = 10**400, ``1e309``, NaN) and JSON
nested thousands of levels deep, through the library and the real CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from rest.errors import TokenRejected
from rest.jwt import Validator
from rest.jwt.inspect import inspect_token

SECRET = b"hostile-token-test-secret-32-bytes!!"
HEADER = b'{"alg":"HS256","typ":"JWT"}'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: bytes, payload: bytes) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    mac = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


HOSTILE = {
    "exp-10^400": _token(HEADER, b'{"sub":"a","exp":1' + b"0" * 400 + b"}"),
    "exp-1e309": _token(HEADER, b'{"sub":"a","exp":1e309}'),
    "exp-NaN": _token(HEADER, b'{"sub":"a","exp":NaN}'),
    "nbf-minus-10^400": _token(HEADER, b'{"sub":"a","exp":2000000000,"nbf":-1' + b"0" * 400 + b"}"),
    "iat-1e309": _token(HEADER, b'{"sub":"a","exp":2000000000,"iat":1e309}'),
    "header-nested-5000": _token(b'{"alg":"HS256","x":' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"exp":2000000000}'),
    "claims-nested-5000": _token(HEADER, b'{"exp":2000000000,"a":' + b"[" * 5000 + b"]" * 5000 + b"}"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_library_rejects(name):
    with pytest.raises(TokenRejected):
        Validator(SECRET, algorithms=["HS256"], require=["exp"]).validate(HOSTILE[name])


def test_a_sane_token_is_still_accepted():
    token = _token(HEADER, b'{"sub":"a","exp":4000000000}')
    assert Validator(SECRET, algorithms=["HS256"]).validate(token)["sub"] == "a"


def test_inspect_warns_on_an_integer_beyond_a_float():
    result = inspect_token(HOSTILE["exp-10^400"])
    assert "claim 'exp' is not a NumericDate" in result.warnings
    json.loads(json.dumps(result.to_dict(), allow_nan=False))  # what --format json prints is valid JSON


@pytest.mark.parametrize("name", ["exp-1e309", "exp-NaN", "iat-1e309", "header-nested-5000"])
def test_inspect_refuses_what_no_float_holds(name):
    with pytest.raises(TokenRejected, match="not a JWT"):
        inspect_token(HOSTILE[name])


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_verify_refuses_in_one_line(apisec, name, monkeypatch):
    monkeypatch.setenv("APISEC_TEST_SECRET", SECRET.decode())
    r = apisec(
        "rest", "jwt", "verify", HOSTILE[name], "--secret-env", "APISEC_TEST_SECRET", "--algorithm", "HS256"
    )
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_inspect_never_crashes(apisec, name):
    r = apisec("rest", "jwt", "inspect", HOSTILE[name], "--format", "json")
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    if name in (
        "header-nested-5000",
        "exp-1e309",
        "exp-NaN",
        "iat-1e309",
    ):  # unreadable: input error, one line
        assert (
            r.exit_code == 2 and r.stderr.startswith("apisec: error: not a JWT") and r.stderr.count("\n") == 1
        )
    else:
        assert r.exit_code == 0, r.stderr
        json.loads(r.stdout)
