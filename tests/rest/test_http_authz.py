"""The roles matrix loader: a wrong matrix is refused with one line (exit 2),
never run half-understood; credentials come from the environment."""

from __future__ import annotations

import base64

import pytest

from apisec_samples.rest_service import ROLES
from rest.errors import BadInput
from rest.http import load_roles

ENV = {"ALICE_TOKEN": "tok-alice-123456", "BOB_TOKEN": "tok-bob-123456", "ADMIN_TOKEN": "tok-admin-123456"}


def test_sample_roles_file_loads_with_env():
    m = load_roles(ROLES, ENV)
    assert m.roles["alice"] == {"Authorization": "Bearer tok-alice-123456"}
    assert m.roles["anonymous"] == {}
    assert {r.check_id for r in m.requests} == {"authz.bola", "authz.bfla"}
    assert m.base_url is None


def test_credential_kinds():
    m = load_roles(
        {
            "base_url": "https://api.example.test/v1",
            "roles": {
                "ops": {"basic": {"username": "ops", "password": "${OPS_PW}"}},
                "svc": {"headers": {"X-Api-Key": "${KEY}"}},
            },
            "requests": [{"path": "/admin", "check": "bfla", "allow": ["ops"], "deny": ["svc", "anonymous"]}],
        },
        {"OPS_PW": "pw-1234", "KEY": "k-5678"},
    )
    assert m.roles["ops"]["Authorization"] == "Basic " + base64.b64encode(b"ops:pw-1234").decode()
    assert m.roles["svc"] == {"X-Api-Key": "k-5678"}
    assert m.base_url == "https://api.example.test/v1"


def _matrix(**request):
    req = {"path": "/x", "check": "bola", "allow": ["alice"], "deny": ["bob"]}
    req.update(request)
    return {"roles": {"alice": {"token": "a"}, "bob": {"token": "b"}}, "requests": [req]}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"roles": {}}, "at least one role"),
        ({"roles": ["alice"]}, "needs a 'roles' mapping and a 'requests' list"),
        ({"roles": {"a": {"token": "x"}}, "requests": []}, "non-empty 'requests'"),
        (_matrix(check="idor"), "must be 'bola' (object) or 'bfla' (function)"),
        (_matrix(path=None), "path is required"),
        (_matrix(deny=[]), "denies nobody"),
        (_matrix(deny=["mallory"]), "undefined role 'mallory'"),
        (_matrix(allow=["alice"], deny=["alice"]), "both allows and denies"),
        (
            {"roles": {"alice": {}}, "requests": [{"path": "/x", "check": "bola", "deny": ["alice"]}]},
            "no credentials",
        ),
        (
            {
                "roles": {"alice": {"tokn": "x"}},
                "requests": [{"path": "/", "check": "bola", "deny": ["alice"]}],
            },
            "unknown keys",
        ),
        (
            {
                "roles": {"anonymous": {"token": "x"}},
                "requests": [{"path": "/", "check": "bola", "deny": ["anonymous"]}],
            },
            "built in",
        ),
        (
            {
                "roles": {"alice": {"token": "${NOPE_UNSET}"}},
                "requests": [{"path": "/", "check": "bola", "deny": ["alice"]}],
            },
            "NOPE_UNSET is not set",
        ),
    ],
)
def test_bad_matrices_are_refused(data, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        load_roles(data, {})
    assert err.value.exit_code == 2


def test_missing_file():
    with pytest.raises(BadInput, match="roles file not found"):
        load_roles("/nonexistent/roles.yaml")
