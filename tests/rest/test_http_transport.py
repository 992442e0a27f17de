"""Transport-level probes and the prober's own guarantees, against real
servers: plain HTTP, Basic over HTTP, an HTTPS redirect, TLS trust, an
unreachable host, 429 back-off and redaction of secrets."""

from __future__ import annotations

import json

import pytest

from apisec_samples.rest_service import LEGACY, SECURE, serve
from compare.findings import Status
from rest.errors import BadInput, TargetUnreachable
from rest.http import Prober, Throttled, check
from rest.http.probes import Redactor, parse_retry_after, retry_delay
from tests.rest.http_targets import flawed_api, redirect_app


@pytest.fixture(scope="module")
def https_api(pki):
    handle = serve("secure", pki=pki, app=flawed_api)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def plain_legacy():
    """The legacy service on a cleartext listener (Basic accepted there)."""
    handle = serve(LEGACY, tls=False)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def plain_secure():
    handle = serve(SECURE, tls=False)
    yield handle
    handle.stop()


def one(findings, check_id):
    return next(f for f in findings if f.check_id == check_id)


def test_https_service_passes_plain_http_checks(https_api):
    findings = check(
        https_api.url + "/correct/api/orders",
        token=https_api.mint("alice"),
        ca_file=https_api.ca_file,
        rate_limit_probe=0,
    )
    assert one(findings, "http.plain-http").status is Status.PASS
    assert one(findings, "http.basic-over-http").status is Status.PASS


def test_plain_http_with_basic_accepted(plain_legacy):
    findings = check(
        plain_legacy.url + "/api/orders",
        headers={"Authorization": "Basic YWxpY2U6YWxpY2Utc2FtcGxlLXB3"},  # alice:alice-sample-pw
        rate_limit_probe=0,
    )
    assert one(findings, "http.plain-http").status is Status.FAIL
    basic = one(findings, "http.basic-over-http")
    assert basic.status is Status.FAIL and basic.severity.value == "critical"
    assert "YWxpY2U6" not in json.dumps([f.to_dict() for f in findings])
    assert (
        Prober(credentials={"Authorization": "Basic YWxpY2U6YWxpY2Utc2FtcGxlLXB3"}).redactor(
            "login alice:alice-sample-pw failed, password alice-sample-pw"
        )
        == "login [REDACTED] failed, password [REDACTED]"
    )


def test_plain_http_basic_challenge_only(plain_legacy):
    findings = check(plain_legacy.url + "/api/orders", token=plain_legacy.mint("alice"), rate_limit_probe=0)
    basic = one(findings, "http.basic-over-http")
    assert basic.status is Status.FAIL and "challenges for Basic" in basic.evidence


def test_plain_http_without_basic(plain_secure):
    findings = check(plain_secure.url + "/api/orders", token=plain_secure.mint("alice"), rate_limit_probe=0)
    assert one(findings, "http.plain-http").status is Status.FAIL
    assert one(findings, "http.basic-over-http").status is Status.PASS
    # HSTS is only demanded over HTTPS
    assert one(findings, "http.security-headers").status is Status.PASS


def test_http_that_redirects_to_https_passes(https_api):
    redirector = serve("secure", tls=False, app=redirect_app(https_api.url))
    try:
        findings = check(
            redirector.url + "/correct/api/orders",
            token=https_api.mint("alice"),
            ca_file=https_api.ca_file,
            rate_limit_probe=0,
        )
    finally:
        redirector.stop()
    plain = [f for f in findings if f.check_id == "http.plain-http"]
    assert plain[0].status is Status.PASS and "308 redirect to https://" in plain[0].evidence
    assert all(f.status is Status.PASS for f in plain)
    assert one(findings, "http.security-headers").target.startswith("https://")


def test_untrusted_certificate_is_refused(https_api, pki):
    with pytest.raises(TargetUnreachable, match="TLS|certificate"):
        check(
            https_api.url + "/correct/api/orders", token=https_api.mint("alice"), ca_file=pki.rogue.cert_path
        )


def test_unreachable_host_is_an_input_error():
    with pytest.raises(TargetUnreachable) as err:
        check("https://127.0.0.1:1/api", token="x" * 20, rate_limit_probe=0)
    assert err.value.exit_code == 2


def test_baseline_must_be_2xx_with_credentials(https_api):
    with pytest.raises(BadInput, match="answered 401"):
        check(https_api.url + "/correct/api/orders", token="not-a-valid-token", ca_file=https_api.ca_file)


def test_throttled_service_yields_no_verdict(https_api):
    """A quota of 3 per 30 s: the prober gives up with Throttled, and check()
    reports 'error' for the affected checks, never pass or fail."""
    url = https_api.url + "/tight/api/orders"
    token = https_api.mint("alice")
    prober = Prober(
        credentials={"Authorization": f"Bearer {token}"},
        verify=str(https_api.ca_file),
        max_retries=1,
        max_wait=0.2,
    )
    try:
        for _ in range(3):
            prober.send("GET", url, backoff=False)
        with pytest.raises(Throttled, match="429"):
            prober.send("GET", url)
    finally:
        prober.close()


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_retry_delay_follows_retry_after_else_backs_off_capped():
    assert retry_delay("3", 0, 10.0) == 3.0  # the service's word first
    assert retry_delay("600", 0, 10.0) == 10.0  # but never past the cap
    assert [retry_delay("", r, 10.0) for r in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert retry_delay("soon", 1, 10.0) == 1.0  # unparsable: back off as if absent


def test_redactor_hides_header_values_and_url_encoded_forms():
    r = Redactor(["s3cr3t/key+value"])
    assert "s3cr3t" not in r("GET /x?api_key=s3cr3t%2Fkey%2Bvalue and s3cr3t/key+value")
    assert r.headers({"X-Api-Key": "s3cr3t/key+value", "Authorization": "Bearer abc.def.ghi"}) == {
        "X-Api-Key": "[REDACTED]",
        "Authorization": "Bearer [REDACTED]",
    }


def test_raw_exchanges_are_recorded_and_redacted(https_api):
    token = https_api.mint("alice")
    findings = check(
        https_api.url + "/apikey/api/orders",
        token=token,
        ca_file=https_api.ca_file,
        rate_limit_probe=5,
        record_raw=True,
    )
    text = json.dumps([f.to_dict() for f in findings])
    assert token not in text
    for part in token.split("."):
        assert (
            part not in text or len(part) < 30
        )  # the JWT header part alone may remain, payload/signature never
    q = one(findings, "http.apikey-in-query")
    assert q.raw and any(
        "access_token=%5BREDACTED%5D" in r["request"]["url"] or "[REDACTED]" in r["request"]["url"]
        for r in q.raw
    )
    assert all(
        r["request"]["headers"].get("Authorization", "Bearer [REDACTED]").endswith("[REDACTED]")
        for f in findings
        for r in f.raw
    )
    assert (
        check(
            https_api.url + "/correct/api/orders", token=token, ca_file=https_api.ca_file, rate_limit_probe=0
        )[0].raw
        == ()
    )
