"""Live checks against the test API: every flaw is found under its id on its
route, and the correct route gets no fail/warn/error."""

from __future__ import annotations

import pytest

from apisec_samples.rest_service import OPENAPI, serve
from compare.findings import Status
from rest.http import check
from tests.rest.http_targets import flawed_api


@pytest.fixture(scope="module")
def api(pki):
    handle = serve("secure", pki=pki, app=flawed_api)
    yield handle
    handle.stop()


def run(api, mount: str, **kw):
    kw.setdefault("token", api.mint("alice"))
    kw.setdefault("rate_limit_probe", 0)
    return check(f"{api.url}/{mount}/api/orders", ca_file=api.ca_file, **kw)


def by_id(findings, check_id):
    return [f for f in findings if f.check_id == check_id]


def status_of(findings, check_id):
    matches = by_id(findings, check_id)
    assert matches, f"no {check_id} finding"
    return matches[0].status


def test_correct_route_has_no_finding_at_all(api):
    findings = run(api, "correct", openapi=OPENAPI, rate_limit_probe=60)
    bad = [(f.check_id, f.status.value, f.evidence) for f in findings if f.status is not Status.PASS]
    assert bad == []
    ids = {f.check_id for f in findings}
    assert {
        "http.auth-not-enforced",
        "http.cors",
        "http.security-headers",
        "http.error-leak",
        "http.server-banner",
        "http.dangerous-methods",
        "http.plain-http",
        "http.basic-over-http",
        "http.apikey-in-query",
        "http.rate-limit",
    } <= ids
    assert all(f.side.value == "rest" for f in findings)
    # evidence is precise: the count names exactly the responses whose codes it lists
    import re

    leak = by_id(findings, "http.error-leak")[0].evidence
    m = re.match(r"(\d+) error response\(s\) \(([^)]*)\) disclose nothing", leak)
    assert m, leak
    listed = sum(int(p.split("×")[0]) if "×" in p else 1 for p in m.group(2).split(", "))
    assert listed == int(m.group(1)), leak
    burst = by_id(findings, "http.rate-limit")[0].evidence
    assert " in 0.0s" not in burst, burst


def test_auth_not_enforced(api):
    findings = run(api, "noauth", openapi=OPENAPI)
    top = by_id(findings, "http.auth-not-enforced")[0]
    assert top.status is Status.FAIL and top.severity.value == "critical"
    assert "no credentials" in top.evidence
    per_op = {
        f.target.split("/noauth")[0].split()[0] + f.target.split("/noauth")[1]: f
        for f in by_id(findings, "http.auth-not-enforced")[1:]
    }
    assert len(per_op) == 6  # every declared-protected operation of the contract, none of the public one
    assert per_op["GET/api/orders"].status is Status.FAIL
    assert per_op["GET/api/reports"].status is Status.FAIL
    # the handler refused on its own (no owner / no admin role): not a pass of authentication, not a fail
    assert per_op["DELETE/api/orders/{orderId}"].status is Status.WARN
    assert "404" in per_op["DELETE/api/orders/{orderId}"].evidence


def test_cors_reflection_with_credentials(api):
    findings = run(api, "cors")
    f = by_id(findings, "http.cors")[0]
    assert f.status is Status.FAIL and "Allow-Credentials: true" in f.evidence
    assert status_of(findings, "http.security-headers") is Status.PASS


def test_cors_lookalike_origin_of_own_host(api):
    """A prefix-checked allow-list trusts https://127.0.0.1.apisec-probe.invalid."""
    f = by_id(run(api, "corsprefix"), "http.cors")[0]
    assert f.status is Status.FAIL and "https://127.0.0.1.apisec-probe.invalid" in f.evidence


def test_cors_wildcard_without_credentials_is_info(api):
    f = by_id(run(api, "corsany"), "http.cors")[0]
    assert f.status is Status.WARN and f.severity.value == "info" and "*" in f.evidence


def test_missing_headers_and_no_rate_limit(api):
    findings = run(api, "headers", rate_limit_probe=50)
    f = by_id(findings, "http.security-headers")[0]
    assert f.status is Status.FAIL
    for name in ("nosniff", "no-store", "frame-ancestors", "Strict-Transport-Security"):
        assert name in f.evidence
    rl = by_id(findings, "http.rate-limit")[0]
    assert rl.status is Status.FAIL and "50 requests" in rl.evidence


def test_leaky_errors(api):
    f = by_id(run(api, "errors"), "http.error-leak")[0]
    assert f.status is Status.FAIL and f.severity.value == "high"
    assert "stack trace" in f.evidence and "file path" in f.evidence and "framework version" in f.evidence


def test_server_banner(api):
    findings = run(api, "banner")
    f = by_id(findings, "http.server-banner")[0]
    assert f.status is Status.WARN and "nginx/1.14.0" in f.evidence and "PHP/7.2.1" in f.evidence
    assert status_of(run(api, "correct"), "http.server-banner") is Status.PASS


def test_trace_enabled(api):
    f = by_id(run(api, "trace"), "http.dangerous-methods")[0]
    assert f.status is Status.FAIL and "echoes the request headers" in f.evidence


def test_token_accepted_in_query(api):
    token = api.mint("alice")
    f = by_id(run(api, "apikey", token=token), "http.apikey-in-query")[0]
    assert f.status is Status.FAIL and "access_token" in f.evidence
    assert token not in f.evidence


def test_bola_and_bfla_from_roles_matrix(api):
    def matrix(mount):
        return {
            "base_url": f"{api.url}/{mount}",
            "roles": {n: {"token": "${" + n.upper() + "_TOKEN}"} for n in ("alice", "bob", "admin")},
            "requests": [
                {
                    "path": "/api/orders/1",
                    "check": "bola",
                    "allow": ["alice", "admin"],
                    "deny": ["bob", "anonymous"],
                },
                {"path": "/api/admin/users", "check": "bfla", "allow": ["admin"], "deny": ["alice", "bob"]},
            ],
        }

    env = {f"{n.upper()}_TOKEN": api.mint(n) for n in ("alice", "bob", "admin")}
    results = {}
    for mount in ("bola", "bfla", "correct"):
        findings = run(api, mount, roles=matrix(mount), env=env)
        results[mount] = {f.check_id: f for f in findings if f.check_id.startswith("authz.")}
    assert results["bola"]["authz.bola"].status is Status.FAIL
    assert "bob got 200" in results["bola"]["authz.bola"].evidence
    assert results["bola"]["authz.bfla"].status is Status.PASS
    assert results["bfla"]["authz.bfla"].status is Status.FAIL
    assert results["bfla"]["authz.bola"].status is Status.PASS
    assert results["correct"]["authz.bola"].status is Status.PASS
    assert results["correct"]["authz.bfla"].status is Status.PASS
    for found in results.values():
        for f in found.values():
            assert not any(tok in f.evidence for tok in env.values())


def test_rate_limit_429_without_headers_is_a_warn(api):
    f = by_id(run(api, "bare429", rate_limit_probe=50), "http.rate-limit")
    # the other probes may already have spent the quota (then they back off), the burst still sees 429
    assert f[0].status is Status.WARN and "without Retry-After" in f[0].evidence


def test_429_during_probes_backs_off_instead_of_deciding(api):
    """Right after a burst exhausted /correct's quota, a second full run must
    still reach the same verdicts: probes wait for Retry-After and retry."""
    first = run(api, "correct", rate_limit_probe=60)
    assert status_of(first, "http.rate-limit") is Status.PASS
    second = run(api, "correct", record_raw=True)
    assert [f for f in second if f.status not in (Status.PASS, Status.SKIP)] == []
    retried = [r for f in second for r in f.raw if r.get("retries_after_429")]
    assert retried, "the second run never met a 429, so the test proved nothing"


def test_garbage_tokens_are_refused_on_the_correct_route(api):
    f = by_id(run(api, "correct"), "http.auth-not-enforced")[0]
    assert f.status is Status.PASS
    assert "tampered signature → 401" in f.evidence and "alg 'none' → 401" in f.evidence


API_KEY = "sample-key-alice-3f9c2a7d51e8"


def test_api_key_header_refused_in_query(api):
    findings = run(api, "keys", token=None, headers={"X-Api-Key": API_KEY})
    f = by_id(findings, "http.apikey-in-query")[0]
    assert f.status is Status.PASS and "'api_key' → 401" in f.evidence
    auth = by_id(findings, "http.auth-not-enforced")[0]
    assert auth.status is Status.PASS and "a random value → 401" in auth.evidence


def test_api_key_accepted_in_query(api):
    findings = run(api, "keysinquery", token=None, headers={"X-Api-Key": API_KEY}, record_raw=True)
    f = by_id(findings, "http.apikey-in-query")[0]
    assert f.status is Status.FAIL and "'api_key'" in f.evidence
    import json

    assert API_KEY not in json.dumps([x.to_dict() for x in findings])


def test_limiter_above_the_burst_passes_when_it_counts(api):
    f = by_id(run(api, "highlimit", rate_limit_probe=20), "http.rate-limit")[0]
    assert f.status is Status.PASS and "a limiter is counting" in f.evidence


def test_without_credentials(api):
    """No credentials: a refused URL passes auth; a public URL is a warn (we
    cannot know it should be protected), and header checks need a 2xx."""
    refused = run(api, "correct", token=None)
    assert by_id(refused, "http.auth-not-enforced")[0].status is Status.PASS
    assert by_id(refused, "http.security-headers")[0].status is Status.SKIP
    assert by_id(refused, "http.apikey-in-query")[0].status is Status.SKIP
    public = check(f"{api.url}/public/api/reports", ca_file=api.ca_file, rate_limit_probe=0)
    assert by_id(public, "http.auth-not-enforced")[0].status is Status.WARN
    assert by_id(public, "http.security-headers")[0].status is Status.PASS


def test_session_cookies_never_ride_along(api):
    """The mount sets a session cookie on authenticated responses and accepts
    it as a credential: the no-credential probes must not replay it."""
    findings = run(api, "cookie", record_raw=True)
    f = by_id(findings, "http.auth-not-enforced")[0]
    assert f.status is Status.PASS, f.evidence
    assert any("set-cookie" in {k.lower() for k in r["response"]["headers"]} for r in f.raw)
    assert all("Cookie" not in r["request"]["headers"] for x in findings for r in x.raw)


def test_public_operation_by_contract_is_not_a_finding(api):
    """/api/health is 'security: []' in the contract: answering without
    credentials is what it should do."""
    url = f"{api.url}/correct/api/health"
    with_spec = check(url, token=api.mint("alice"), ca_file=api.ca_file, rate_limit_probe=0, openapi=OPENAPI)
    f = by_id(with_spec, "http.auth-not-enforced")[0]
    assert f.status is Status.PASS and "as the contract declares" in f.evidence
    without = check(url, token=api.mint("alice"), ca_file=api.ca_file, rate_limit_probe=0)
    assert by_id(without, "http.auth-not-enforced")[0].status is Status.FAIL
