"""``inspect_token``: decode without trusting, and warn about what RFC 8725 /
RFC 9068 hygiene would flag (each warning has a token that triggers it and
one that does not)."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from rest.errors import TokenRejected
from rest.jwt import inspect_token
from rest.jwt.forge import attacker_key

NOW = 1_700_000_000


def _rs(claims, **headers):
    return pyjwt.encode(claims, attacker_key("RSA"), algorithm="RS256", headers=headers or None)


GOOD = {"iss": "https://i", "aud": "https://a", "sub": "s", "iat": NOW, "exp": NOW + 300}


def test_clean_token_has_no_warning():
    r = inspect_token(_rs(GOOD), now=NOW)
    assert r.warnings == [] and r.to_dict()["verified"] is False
    assert r.times["exp"] == "2023-11-14T22:18:20Z"


@pytest.mark.parametrize(
    ("claims", "headers", "needle"),
    [
        ({**GOOD, "exp": NOW + 7 * 86400}, {}, "long lifetime"),
        ({k: v for k, v in GOOD.items() if k != "exp"}, {}, "never expires"),
        ({k: v for k, v in GOOD.items() if k != "aud"}, {}, "no 'aud'"),
        ({**GOOD, "exp": NOW - 1}, {}, "expired"),
        ({**GOOD, "nbf": NOW + 60}, {}, "not valid yet"),
        ({**GOOD, "api_key": "x"}, {}, "looks sensitive"),
        ({**GOOD, "exp": "soon"}, {}, "NumericDate"),
        (GOOD, {"jku": "https://evil/jwks"}, "'jku'"),
        (GOOD, {"kid": "../../etc/passwd"}, "metacharacters"),
    ],
)
def test_warnings(claims, headers, needle):
    warnings = " | ".join(inspect_token(_rs(claims, **headers), now=NOW).warnings)
    assert needle in warnings


def test_alg_none_and_hs_flagged():
    assert any(
        "unsigned" in w for w in inspect_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", now=NOW).warnings
    )
    hs = pyjwt.encode({**GOOD, "exp": int(time.time()) + 60}, b"k" * 32, algorithm="HS256")
    assert any("shared-secret" in w for w in inspect_token(hs).warnings)


def test_sensitive_values_redacted_in_json_form():
    doc = inspect_token(_rs({**GOOD, "password": "hunter2"}), now=NOW).to_dict()
    assert doc["claims"]["password"] == "[REDACTED]" and doc["claims"]["sub"] == "s"


def test_not_a_jwt():
    with pytest.raises(TokenRejected):
        inspect_token("nodots")
    with pytest.raises(TokenRejected):
        inspect_token("%%%.%%%")
