"""Live probes against real servers on 127.0.0.1.

Services (each a real threaded WSGI server, all but ``legacy`` over TLS so
that each has exactly the flaw it is named after):

* ``secure``  — the sample's secure configuration: no probe may fail;
* ``legacy``  — the sample's legacy configuration: no message security;
* ``zeepish`` — verifies with zeep's own ``zeep.wsse.signature.verify_envelope``
  (the real library): signature maths right, but no Timestamp check, no
  replay cache, and it then reads "the" Body — wrapping works;
* ``dtd``     — wssec's Verifier, but the request is parsed first by a
  permissive lxml parser that loads DTDs and expands entities (test code
  only: the flaw under test);
* ``leaky``   — wssec's Verifier, but refusals carry the Python traceback.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import pytest
from lxml import etree

from apisec_samples.soap_service import request_xml, serve
from apisec_samples.soap_service.quote import quote_body, response_envelope
from apisec_samples.soap_service.server import start_wsgi
from wssec.checks import probe_service
from wssec.checks.live import BaselineRefused
from wssec.faults import build_fault
from wssec.safexml import parse_xml
from wssec.soap import envelope_parts

EXPECTED_FAILS = {
    "secure": set(),
    "legacy": {
        "wssec.unsigned-accepted",
        "wssec.untrusted-accepted",
        "wssec.tampered-accepted",
        "wssec.xsw-accepted",
        "wssec.replay-accepted",
        "wssec.expired-accepted",
        "wssec.plain-http",
    },
    "zeepish": {"wssec.xsw-accepted", "wssec.replay-accepted", "wssec.expired-accepted"},
    "dtd": {"wssec.dtd-accepted"},
    "leaky": {"wssec.fault-leak"},
}


def _reply(start_response, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _answer(start_response, body_el: etree._Element) -> list[bytes]:
    try:
        symbol, price = quote_body(body_el)
    except KeyError:
        return _reply(
            start_response, "500 Internal Server Error", build_fault("1.1", None, reason="Unknown symbol")
        )
    return _reply(start_response, "200 OK", response_envelope("1.1", symbol, price))


def zeepish_app(cert_path: str):
    from zeep.wsse.signature import verify_envelope

    def app(environ: dict[str, Any], start_response) -> list[bytes]:
        data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            root = parse_xml(data)
            verify_envelope(root, cert_path)  # zeep: digests and SignatureValue, nothing more
            _v, _h, body = envelope_parts(root)
        except Exception:  # noqa: BLE001 - a generic fault, like a careful service
            return _reply(
                start_response, "500 Internal Server Error", build_fault("1.1", None, reason="Refused")
            )
        return _answer(start_response, body)

    return app


def dtd_app(pki):
    from wssec import Verifier

    verifier = Verifier(trust=[pki.ca.cert])

    def app(environ: dict[str, Any], start_response) -> list[bytes]:
        data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            # THE FLAW UNDER TEST: a permissive parser (DTDs loaded, entities expanded).
            parser = etree.XMLParser(load_dtd=True, resolve_entities=True, no_network=True)
            root = etree.fromstring(data, parser)  # noqa: S320 - deliberately unsafe test service
            result = verifier.verify(root)
        except Exception:  # noqa: BLE001
            return _reply(
                start_response, "500 Internal Server Error", build_fault("1.1", None, reason="Refused")
            )
        return _answer(start_response, result.body)

    return app


def leaky_app(pki):
    from wssec import Verifier

    verifier = Verifier(trust=[pki.ca.cert])

    def app(environ: dict[str, Any], start_response) -> list[bytes]:
        data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            result = verifier.verify(data)
            return _answer(start_response, result.body)
        except Exception:  # noqa: BLE001 - THE FLAW UNDER TEST: the traceback goes to the client
            return _reply(
                start_response,
                "500 Internal Server Error",
                build_fault("1.1", None, reason=traceback.format_exc()),
            )

    return app


@pytest.fixture(scope="module")
def services(pki):
    """Every service, started once for the module."""
    tls = {"tls_cert": str(pki.service.cert_path), "tls_key": str(pki.service.key_path)}
    handles = {
        "secure": serve("secure", pki=pki),
        "legacy": serve("legacy", pki=pki),
        "zeepish": start_wsgi(zeepish_app(str(pki.client.cert_path)), path="/quote", **tls),
        "dtd": start_wsgi(dtd_app(pki), path="/quote", **tls),
        "leaky": start_wsgi(leaky_app(pki), path="/quote", **tls),
    }
    yield handles
    for h in handles.values():
        h.stop()


@pytest.fixture(scope="module")
def probed(services, pki) -> dict[str, list]:
    """probe_service run once against each service."""
    return {
        name: probe_service(
            h.url, request_xml(), pki.client.key_path, pki.client.cert_path, trust=pki.ca.cert_path
        )
        for name, h in services.items()
    }


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILS))
def test_each_flaw_found_and_nothing_else(probed, name: str) -> None:
    findings = probed[name]
    fails = {f.check_id for f in findings if f.status.value == "fail"}
    assert fails == EXPECTED_FAILS[name], {f.check_id: f.evidence for f in findings}
    errors = [f for f in findings if f.status.value == "error"]
    assert not errors, [(f.check_id, f.evidence) for f in errors]
    for f in findings:
        assert f.side.value == "soap" and f.duration_ms is not None and f.evidence


def test_every_probe_passes_somewhere_and_fails_somewhere(probed) -> None:
    ids = {f.check_id for fs in probed.values() for f in fs}
    for cid in ids - {"wssec.audit-events"}:
        seen = {f.status.value for fs in probed.values() for f in fs if f.check_id == cid}
        assert {"pass", "fail"} <= seen, (cid, seen)


def test_secure_sample_details(probed) -> None:
    by = {f.check_id: f for f in probed["secure"]}
    assert "4" in by["wssec.xsw-accepted"].evidence and by["wssec.xsw-accepted"].status.value == "pass"
    assert "wsse:MessageExpired" in by["wssec.expired-accepted"].evidence
    assert by["wssec.audit-events"].status.value == "pass"  # fault carries an event id
    assert by["wssec.fault-leak"].status.value == "pass"
    assert by["wssec.unsigned-accepted"].dimension.value == "access-control"
    assert by["wssec.dtd-accepted"].dimension.value == "resilience"
    assert by["wssec.plain-http"].dimension.value == "encryption"  # transport-encryption control
    assert by["wssec.audit-events"].dimension.value == "observability"


def test_zeepish_wrapping_variants(probed) -> None:
    xsw = next(f for f in probed["zeepish"] if f.check_id == "wssec.xsw-accepted")
    assert "header-wrapper" in xsw.evidence and "security-wrapper" in xsw.evidence
    assert {f.check_id: f.status.value for f in probed["zeepish"]}["wssec.tampered-accepted"] == "pass"
    assert {f.check_id: f.status.value for f in probed["legacy"]}["wssec.audit-events"] == "skip"
    leaky = next(f for f in probed["leaky"] if f.check_id == "wssec.fault-leak")
    assert "Python traceback" in leaky.evidence


def test_baseline_refused_is_exit_2(services, pki) -> None:
    # the secure service does not trust the rogue signer: nothing can be probed
    with pytest.raises(BaselineRefused, match="baseline refused") as exc:
        probe_service(
            services["secure"].url,
            request_xml(),
            pki.rogue.key_path,
            pki.rogue.cert_path,
            trust=pki.ca.cert_path,
        )
    assert exc.value.exit_code == 2
    with pytest.raises(BaselineRefused, match="cannot reach"):
        probe_service(
            "http://127.0.0.1:9/quote", request_xml(), pki.client.key_path, pki.client.cert_path, timeout=2
        )


def test_record_raw_is_redacted(services, pki) -> None:
    fs = probe_service(
        services["legacy"].url,
        request_xml(),
        pki.client.key,
        [pki.client.cert],
        record_raw=True,
        only=["wssec.unsigned-accepted"],
    )
    assert [f.check_id for f in fs] == ["wssec.unsigned-accepted"]
    raw = fs[0].raw
    assert raw and raw[0]["status"] == 200 and "GetQuote" in raw[0]["request"]


def test_cli_url(apisec, services, pki) -> None:
    common = [
        "--sample",
        str(request_xml_path()),
        "--key",
        str(pki.client.key_path),
        "--cert",
        str(pki.client.cert_path),
    ]
    r = apisec(
        "soap",
        "check",
        "--url",
        services["secure"].url,
        *common,
        "--trust",
        str(pki.ca.cert_path),
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["targets"] == [services["secure"].url]
    assert {f["status"] for f in doc["findings"]} <= {"pass", "skip", "warn"}
    r = apisec("soap", "check", "--url", services["legacy"].url, *common)
    assert r.exit_code == 1 and "wssec.xsw-accepted" in r.stdout
    bad = [
        "--sample",
        str(request_xml_path()),
        "--key",
        str(pki.rogue.key_path),
        "--cert",
        str(pki.rogue.cert_path),
    ]
    r = apisec("soap", "check", "--url", services["secure"].url, *bad, "--trust", str(pki.ca.cert_path))
    assert (
        r.exit_code == 2
        and r.stderr.startswith("apisec: error: baseline refused")
        and r.stderr.count("\n") == 1
    )
    r = apisec("soap", "check", "--url", services["secure"].url, "--sample", str(request_xml_path()))
    assert r.exit_code == 2 and "--url needs --key, --cert" in r.stderr


def request_xml_path():
    from importlib import resources

    return resources.files("apisec_samples.soap_service").joinpath("request.xml")


def test_wsdl_of_running_services(apisec, services, pki) -> None:
    from wssec.checks import check_wsdl
    from wssec.checks.fetch import FetchError

    secure = {
        f.check_id: f.status.value
        for f in check_wsdl(services["secure"].wsdl_url, verify=str(pki.ca.cert_path))
    }
    assert "fail" not in secure.values() and secure["wssec.http-endpoint"] == "pass"
    legacy = {f.check_id: f.status.value for f in check_wsdl(services["legacy"].wsdl_url)}
    assert legacy["wssec.http-endpoint"] == "fail" and legacy["wssec.weak-algorithm-suite"] == "fail"
    with pytest.raises(FetchError, match="SSLError"):  # a private CA must be named
        check_wsdl(services["secure"].wsdl_url)
    r = apisec("soap", "check", "--wsdl", services["secure"].wsdl_url, "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 0, r.stdout + r.stderr


SOAP12_SAMPLE = b"""<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:q="urn:apisec:samples:quote">
<env:Body><q:GetQuote><q:Symbol>ACME</q:Symbol></q:GetQuote></env:Body></env:Envelope>"""


def test_soap12_service_no_false_positive(pki) -> None:
    """The probes speak SOAP 1.2 when the sample does (application/soap+xml,
    env:Sender faults with HTTP 400): a middleware-protected 1.2 service fails nothing."""
    from apisec_samples.soap_service.quote import make_quote_app
    from wssec import Verifier
    from wssec.wsgi import SecurityMiddleware

    app = SecurityMiddleware(make_quote_app(lambda _e: b""), verifier=Verifier(trust=[pki.ca.cert]))
    h = start_wsgi(app, path="/quote", tls_cert=str(pki.service.cert_path), tls_key=str(pki.service.key_path))
    try:
        fs = probe_service(
            h.url, SOAP12_SAMPLE, pki.client.key_path, pki.client.cert_path, trust=pki.ca.cert_path
        )
    finally:
        h.stop()
    st = {f.check_id: f.status.value for f in fs}
    assert "fail" not in st.values() and "error" not in st.values(), st
    unsigned = next(f for f in fs if f.check_id == "wssec.unsigned-accepted")
    assert "HTTP 400" in unsigned.evidence and "wsse:FailedCheck" in unsigned.evidence


def test_service_that_also_authenticates_users(apisec, pki, tmp_path) -> None:
    """Signer *and* UsernameToken required: without credentials the baseline is
    refused (exit 2); with them every probe runs and nothing fails."""
    from apisec_samples.soap_service.quote import make_quote_app
    from wssec import Verifier
    from wssec.wsgi import SecurityMiddleware

    verifier = Verifier(
        trust=[pki.ca.cert], users={"alice": "correct horse"}, require=("Body", "Timestamp", "UsernameToken")
    )
    app = SecurityMiddleware(make_quote_app(lambda _e: b""), verifier=verifier)
    h = start_wsgi(app, path="/quote", tls_cert=str(pki.service.cert_path), tls_key=str(pki.service.key_path))
    try:
        args = (h.url, request_xml(), pki.client.key_path, pki.client.cert_path)
        with pytest.raises(BaselineRefused):
            probe_service(*args, trust=pki.ca.cert_path)
        fs = probe_service(
            *args, trust=pki.ca.cert_path, username="alice", password="correct horse", record_raw=True
        )
        st = {f.check_id: f.status.value for f in fs}
        assert "fail" not in st.values() and "error" not in st.values(), st
        assert "correct horse" not in json.dumps([f.to_dict() for f in fs])
        pw = tmp_path / "pw"
        pw.write_text("correct horse\n")
        common = [
            "--sample",
            str(request_xml_path()),
            "--key",
            str(pki.client.key_path),
            "--cert",
            str(pki.client.cert_path),
        ]
        r = apisec(
            "soap",
            "check",
            "--url",
            h.url,
            *common,
            "--trust",
            str(pki.ca.cert_path),
            "--username",
            "alice",
            "--password-file",
            str(pw),
        )
        assert r.exit_code == 0, r.stdout + r.stderr
        r = apisec(
            "soap", "check", "--url", h.url, *common, "--trust", str(pki.ca.cert_path), "--username", "alice"
        )
        assert r.exit_code == 2 and "APISEC_SOAP_PASSWORD" in r.stderr
    finally:
        h.stop()
