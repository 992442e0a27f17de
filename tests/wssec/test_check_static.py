"""Static WSDL checks: each check passes on a sound contract and fails on a
weak one (WSS4J's WSDLs, the sample's secure and legacy WSDLs, hand-made
policies), and WSDLs fetched from a URL are bounded and hardened."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apisec_samples.soap_service import render_wsdl, wsdl_template
from tests.conftest import VECTORS
from wssec.checks import check_wsdl
from wssec.checks.fetch import FetchError
from wssec.errors import MalformedMessage, UnsafeXml

WSDL = VECTORS / "wss4j-policy" / "wsdl"


def statuses(findings) -> dict[str, str]:
    return {f.check_id: f.status.value for f in findings}


@pytest.fixture(scope="module")
def sample_wsdls(tmp_path_factory, pki) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("wsdl")
    out = {}
    for cfg, addr in (("secure", "https://quotes.example/quote"), ("legacy", "http://quotes.example/quote")):
        p = d / f"{cfg}.wsdl"
        p.write_bytes(render_wsdl(cfg, addr, pki.service.cert))
        out[cfg] = p
    return out


def test_secure_sample_wsdl_passes_everything(sample_wsdls) -> None:
    st = statuses(check_wsdl(sample_wsdls["secure"]))
    assert st == {
        "wssec.no-security-policy": "pass",
        "wssec.weak-algorithm-suite": "pass",
        "wssec.no-timestamp": "pass",
        "wssec.body-not-signed": "pass",
        "wssec.body-not-encrypted": "pass",
        "wssec.plaintext-password": "skip",
        "wssec.http-endpoint": "pass",
    }


def test_legacy_sample_wsdl_fails_everything(sample_wsdls) -> None:
    fs = check_wsdl(sample_wsdls["legacy"])
    st = statuses(fs)
    assert st == {
        "wssec.no-security-policy": "pass",  # it has a policy; the policy is what is weak
        "wssec.weak-algorithm-suite": "fail",
        "wssec.no-timestamp": "fail",
        "wssec.body-not-signed": "fail",
        "wssec.body-not-encrypted": "fail",
        "wssec.plaintext-password": "fail",
        "wssec.http-endpoint": "fail",
    }
    weak = next(f for f in fs if f.check_id == "wssec.weak-algorithm-suite")
    assert "TripleDesRsa15" in weak.evidence and "RSA v1.5" in weak.evidence
    assert weak.side.value == "soap" and weak.dimension.value == "protocols"
    assert all(f.side.value == "soap" and f.references for f in fs)


def test_wss4j_wsdls() -> None:
    st = statuses(check_wsdl(WSDL / "actionSpoofing.wsdl"))
    assert st["wssec.no-security-policy"] == "fail"  # emptyPolicyOperation
    assert st["wssec.weak-algorithm-suite"] == "fail"  # Basic256 = SHA-1
    assert st["wssec.body-not-encrypted"] == "fail"  # EncryptedParts commented out
    assert st["wssec.no-timestamp"] == "pass" and st["wssec.body-not-signed"] == "pass"
    assert st["wssec.http-endpoint"] == "fail"
    st = statuses(check_wsdl(WSDL / "wsdl-template.wsdl"))
    assert st["wssec.no-security-policy"] == "fail" and st["wssec.no-timestamp"] == "skip"
    st = statuses(check_wsdl(WSDL / "StockQuote.wsdl"))
    assert st["wssec.no-security-policy"] == "pass" and st["wssec.http-endpoint"] == "skip"
    assert st["wssec.body-not-encrypted"] == "pass"


def _wsdl_with(policy: str, address: str = "https://x.example/s") -> bytes:
    text = wsdl_template("legacy")
    start = text.index('  <wsp:Policy wsu:Id="QuoteEndpointPolicy">')
    end = text.index("  <wsdl:types>")
    body = f'  <wsp:Policy wsu:Id="QuoteEndpointPolicy" xmlns:sp="http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702">{policy}</wsp:Policy>\n'
    return (text[:start] + body + text[end:]).replace("{{ADDRESS}}", address).encode()


TRANSPORT = """<sp:TransportBinding><wsp:Policy><sp:TransportToken><wsp:Policy><sp:HttpsToken/></wsp:Policy></sp:TransportToken>
<sp:AlgorithmSuite><wsp:Policy><sp:Basic256Sha256/></wsp:Policy></sp:AlgorithmSuite><sp:IncludeTimestamp/></wsp:Policy></sp:TransportBinding>"""
UT_TEXT = """<sp:SignedSupportingTokens><wsp:Policy><sp:UsernameToken><wsp:Policy><sp:WssUsernameToken11/></wsp:Policy></sp:UsernameToken></wsp:Policy></sp:SignedSupportingTokens>"""
UT_HASH = UT_TEXT.replace("<sp:WssUsernameToken11/>", "<sp:HashPassword/>")
ASYM = """<sp:AsymmetricBinding><wsp:Policy><sp:AlgorithmSuite><wsp:Policy><sp:Basic256Sha256/></wsp:Policy></sp:AlgorithmSuite><sp:IncludeTimestamp/></wsp:Policy></sp:AsymmetricBinding>
<sp:SignedParts><sp:Body/></sp:SignedParts>"""


@pytest.mark.parametrize(
    "policy,address,expected",
    [
        # UsernameToken text password: fine under TLS, a failure without it
        (
            TRANSPORT + UT_TEXT,
            "https://x.example/s",
            {"wssec.plaintext-password": "pass", "wssec.body-not-signed": "pass"},
        ),
        (
            TRANSPORT + UT_TEXT,
            "http://x.example/s",
            {"wssec.plaintext-password": "fail", "wssec.body-not-signed": "fail"},
        ),
        (
            ASYM + UT_TEXT,
            "https://x.example/s",
            {"wssec.plaintext-password": "fail", "wssec.body-not-encrypted": "fail"},
        ),
        (
            ASYM + UT_HASH,
            "https://x.example/s",
            {"wssec.plaintext-password": "pass", "wssec.body-not-signed": "pass"},
        ),
        (ASYM.replace("<sp:IncludeTimestamp/>", ""), "https://x.example/s", {"wssec.no-timestamp": "fail"}),
        (
            ASYM.replace("<sp:Body/>", '<sp:Header Namespace="urn:x"/>'),
            "https://x.example/s",
            {"wssec.body-not-signed": "fail"},
        ),
        (
            ASYM.replace("Basic256Sha256", "Basic256Sha256Rsa15"),
            "https://x.example/s",
            {"wssec.weak-algorithm-suite": "fail"},
        ),
        (
            ASYM.replace("Basic256Sha256", "Basic999"),
            "https://x.example/s",
            {"wssec.weak-algorithm-suite": "warn"},
        ),
        (
            f"<wsp:ExactlyOne><wsp:All>{ASYM}</wsp:All><wsp:All/></wsp:ExactlyOne>",
            "https://x.example/s",
            {"wssec.no-security-policy": "fail"},  # an empty alternative lets clients opt out
        ),
    ],
)
def test_policy_variants(tmp_path: Path, policy: str, address: str, expected: dict[str, str]) -> None:
    p = tmp_path / "s.wsdl"
    p.write_bytes(_wsdl_with(policy, address))
    st = statuses(check_wsdl(p))
    assert {k: st[k] for k in expected} == expected


class _Docs(BaseHTTPRequestHandler):
    docs: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        body = self.docs.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        if self.path != "/chunked":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def doc_server(sample_wsdls):
    _Docs.docs = {
        "/legacy.wsdl": sample_wsdls["legacy"].read_bytes(),
        "/big.wsdl": b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>",
        "/chunked": b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>",
        "/dtd.wsdl": b'<!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>',
    }
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Docs)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_wsdl_from_url(doc_server) -> None:
    st = statuses(check_wsdl(doc_server + "/legacy.wsdl"))
    assert st["wssec.weak-algorithm-suite"] == "fail"
    with pytest.raises(FetchError, match="larger than"):
        check_wsdl(doc_server + "/big.wsdl")
    with pytest.raises(FetchError, match="larger than"):
        check_wsdl(doc_server + "/chunked")  # no Content-Length: counted while reading
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        check_wsdl(doc_server + "/dtd.wsdl")
    with pytest.raises(FetchError, match="HTTP 404"):
        check_wsdl(doc_server + "/missing.wsdl")


def test_cli_wsdl(apisec, sample_wsdls, doc_server, tmp_path) -> None:
    r = apisec("soap", "check", "--wsdl", str(sample_wsdls["secure"]))
    assert r.exit_code == 0, r.stderr
    assert "wssec.body-not-signed" in r.stdout
    out = tmp_path / "f.json"
    r = apisec("soap", "check", "--wsdl", str(sample_wsdls["legacy"]), "--format", "json", "-o", str(out))
    assert r.exit_code == 1
    import json

    doc = json.loads(r.stdout)
    assert doc["tool"] == "apisec" and json.loads(out.read_text())["findings"] == doc["findings"]
    r = apisec("soap", "check", "--wsdl", doc_server + "/big.wsdl")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "larger than" in r.stderr
    r = apisec("soap", "check", "--wsdl", str(tmp_path / "missing.wsdl"))
    assert r.exit_code == 2 and "not found" in r.stderr
    r = apisec("soap", "check", "--wsdl", str(sample_wsdls["secure"]), "--key", "k.pem")
    assert r.exit_code == 2 and "only apply to --url" in r.stderr
    r = apisec("soap", "check", "--wsdl", str(VECTORS / "wss4j-policy" / "policy" / "policy1.xml"))
    assert r.exit_code == 2 and "not a WSDL" in r.stderr


def test_not_a_wsdl_is_input_error(tmp_path: Path) -> None:
    p = tmp_path / "x.wsdl"
    p.write_bytes(b"<x/>")
    with pytest.raises(MalformedMessage, match="not a WSDL"):
        check_wsdl(p)
