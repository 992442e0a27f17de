"""Static OpenAPI audit: each weakness of a deliberately bad contract is
flagged under its id, a careful contract yields only passes, and unusable
documents are refused (BadInput, exit 2) rather than half-audited."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from apisec_samples.rest_service import OPENAPI
from compare.findings import Status
from rest.errors import BadInput
from rest.openapi import audit, load_spec
from rest.openapi import registry as ids

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad-openapi.yaml"
GOOD = DATA / "good-openapi.json"


def failing(findings):
    out: dict[str, list] = {}
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN):
            out.setdefault(f.check_id, []).append(f)
    return out


def test_bad_contract_flags_every_weakness():
    found = failing(audit(BAD))
    assert set(found) == set(ids.ALL)
    assert found[ids.NO_SECURITY][0].target.endswith("bad-openapi.yaml#/paths/~1pets/get")
    unprotected = {f.target.split("#")[1] for f in found[ids.UNPROTECTED_OPERATION]}
    assert unprotected == {"/paths/~1pets~1{petId}/delete"}  # optional auth ({}) on a DELETE
    # POST /pets opts out with 'security: []' on the operation: intentional, a low warning
    (public,) = found[ids.PUBLIC_OPERATION]
    assert public.target.endswith("#/paths/~1pets/post") and public.status is Status.WARN
    assert public.severity.value == "low" and "on purpose" in public.evidence
    assert found[ids.BASIC_AUTH][0].target.endswith("/components/securitySchemes/basicAuth")
    assert "api_key" in found[ids.APIKEY_IN_QUERY][0].evidence
    # the oauth2 scheme sits behind a $ref: resolved, not missed
    assert found[ids.OAUTH2_IMPLICIT][0].target.endswith("/securitySchemes/legacyOAuth")
    assert found[ids.OAUTH2_PASSWORD][0].severity.value == "high"
    http = sorted(f.evidence for f in found[ids.HTTP_SERVER])
    assert http == [
        "http://api.weak.example.test/v1 is plain HTTP",
        "http://login.weak.example.test/token is plain HTTP",
    ]
    rl = found[ids.NO_RATE_LIMIT_DOC][0]
    assert rl.status is Status.WARN and rl.severity.value == "info"
    assert all(f.side.value == "rest" for f in audit(BAD))


@pytest.mark.parametrize("spec", [GOOD, OPENAPI], ids=["good-3.0-json", "sample-3.1-yaml"])
def test_good_contract_yields_only_passes(spec):
    findings = audit(spec)
    assert [(f.check_id, f.evidence) for f in findings if f.status is not Status.PASS] == []
    assert {f.check_id for f in findings} == set(ids.ALL)


def _good() -> dict:
    return json.loads(GOOD.read_text())


def test_contract_without_any_security():
    spec = _good()
    del spec["security"]
    del spec["components"]["securitySchemes"]
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                op.pop("security", None)
    evidence = " | ".join(f.evidence for f in failing(audit(spec))[ids.NO_SECURITY])
    assert "securitySchemes is missing" in evidence and "every operation is public" in evidence


def test_global_empty_security_makes_writes_public():
    spec = _good()
    spec["security"] = []
    spec["paths"]["/pets"]["post"].pop("security")
    found = failing(audit(spec))
    assert [f.evidence for f in found[ids.UNPROTECTED_OPERATION]] == [
        "POST /pets changes state but is public: security: [] inherited from the top level"
    ]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_public_put_patch_delete_stay_unprotected_even_on_purpose(method):
    spec = _good()
    spec["paths"]["/pets"][method] = {"security": [], "responses": {"204": {"description": "ok"}}}
    found = failing(audit(spec))
    assert ids.PUBLIC_OPERATION not in found
    (f,) = found[ids.UNPROTECTED_OPERATION]
    assert f.severity.value == "high" and f"{method.upper()} /pets" in f.evidence


def test_login_register_reset_declared_public_are_not_high():
    spec = _good()
    for path in ("/login", "/register", "/password-reset"):
        spec["paths"][path] = {"post": {"security": [], "responses": {"200": {"description": "ok"}}}}
    found = failing(audit(spec))
    assert ids.UNPROTECTED_OPERATION not in found and ids.NO_SECURITY not in found
    assert sorted(f.evidence.split(" is public")[0] for f in found[ids.PUBLIC_OPERATION]) == [
        "POST /login",
        "POST /password-reset",
        "POST /register",
    ]
    assert all(f.status is Status.WARN and f.severity.value == "low" for f in found[ids.PUBLIC_OPERATION])


def test_undefined_scheme_name_is_flagged():
    spec = _good()
    spec["paths"]["/pets"]["get"]["security"] = [{"nonexistent": []}]
    assert any("undefined schemes: nonexistent" in f.evidence for f in failing(audit(spec))[ids.NO_SECURITY])


def test_loopback_http_server_is_low_severity():
    spec = _good()
    spec["servers"].append({"url": "http://localhost:8080/v1"})
    (f,) = failing(audit(spec))[ids.HTTP_SERVER]
    assert f.severity.value == "low" and "loopback" in f.evidence


def test_partial_429_documentation_lists_the_gaps():
    spec = _good()
    del spec["paths"]["/pets"]["post"]["responses"]["429"]
    (f,) = failing(audit(spec))[ids.NO_RATE_LIMIT_DOC]
    assert "1 of 4 operations" in f.evidence and "POST /pets" in f.evidence


def test_loader_resolves_refs_and_effective_security():
    doc = load_spec(OPENAPI)
    ops = {(o.method, o.path): o for o in doc.operations}
    assert ops[("get", "/api/health")].public
    assert not ops[("delete", "/api/orders/{orderId}")].public
    assert ops[("delete", "/api/orders/{orderId}")].security_declared_on_operation
    get_order = ops[("get", "/api/orders/{orderId}")]
    assert get_order.parameters[0].example == 1 and get_order.security == doc.security
    assert "429" in get_order.responses


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.update(openapi="2.9.0"), "unsupported OpenAPI version"),
        (lambda s: s.pop("openapi"), "no 'openapi' version"),
        (lambda s: s["paths"]["/pets"]["get"].update(security="oauth"), "invalid OpenAPI 3.0.3 document"),
        (
            lambda s: s["paths"].update({"/remote": {"$ref": "http://169.254.169.254/latest/meta-data"}}),
            "unresolvable",
        ),
    ],
)
def test_unusable_documents_are_refused(mutate, message):
    spec = copy.deepcopy(_good())
    mutate(spec)
    with pytest.raises(BadInput, match=message) as err:
        audit(spec)
    assert err.value.exit_code == 2


def test_local_refs_stay_inside_the_spec_folder(tmp_path):
    inside = tmp_path / "specs"
    inside.mkdir()
    (inside / "schemes.yaml").write_text(yaml.safe_dump({"type": "http", "scheme": "basic"}))
    spec = _good()
    spec["components"]["securitySchemes"]["basicAuth"] = {"$ref": "schemes.yaml"}
    (inside / "api.json").write_text(json.dumps(spec))
    assert failing(audit(inside / "api.json"))[ids.BASIC_AUTH][0].target.endswith(
        "/securitySchemes/basicAuth"
    )
    (tmp_path / "secret.yaml").write_text("type: http\nscheme: basic\n")
    spec["components"]["securitySchemes"]["basicAuth"] = {"$ref": "../secret.yaml"}
    (inside / "api.json").write_text(json.dumps(spec))
    with pytest.raises(BadInput, match="outside the spec's folder|unresolvable"):
        audit(inside / "api.json")


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ["openapi: 3.0.3", "info: {title: bomb, version: '1'}", "x-a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for i in range(30):
        lines.append(
            f"x-{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]"
        )
        prev = f"l{i}"
    lines.append("paths: {}")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines))
    with pytest.raises(BadInput, match="aliases"):
        audit(bomb)


def test_not_yaml_at_all(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("openapi: [unclosed\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        audit(p)
    p.write_text('{"openapi": ')
    with pytest.raises(BadInput, match="not valid JSON"):
        audit(p)


def test_yaml_quirks_are_read_as_json_data(tmp_path):
    """Unquoted response codes and dates are common in hand-written YAML."""
    p = tmp_path / "quirks.yaml"
    p.write_text(
        "openapi: 3.0.3\n"
        "info: {title: quirks, version: 2024-01-01}\n"
        "security: [{k: []}]\n"
        "paths:\n  /x:\n    get:\n      responses:\n        200: {description: ok}\n        429: {description: slow down}\n"
        "components:\n  securitySchemes:\n    k: {type: apiKey, in: header, name: X-Key}\n"
    )
    findings = audit(p)
    assert [f.check_id for f in findings if f.status is not Status.PASS] == []
    assert load_spec(p).operations[0].responses == ("200", "429")
