"""``apisec soap saml issue|verify|xsw`` through the real console script."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from cryptography.hazmat.primitives import serialization

SP = "urn:sp"


@pytest.fixture(scope="module")
def issued(pki, tmp_path_factory):
    from tests.conftest import run_apisec

    out = tmp_path_factory.mktemp("saml") / "assertion.xml"
    res = run_apisec(
        "soap", "saml", "issue", "-o", str(out),
        "--key", str(pki.service.key_path), "--cert", str(pki.service.cert_path),
        "--issuer", "https://idp.example", "--subject", "alice", "--audience", SP,
        "--attribute", "role=admin", "--attribute", "role=user", "--attribute", "mail=a@example.com",
        "--lifetime", "600",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return out


def test_issue_then_verify_json(apisec, pki, issued) -> None:
    res = apisec(
        "soap",
        "saml",
        "verify",
        str(issued),
        "--trust",
        str(pki.ca.cert_path),
        "--audience",
        SP,
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["subject"] == "alice"
    assert doc["issuer"] == "https://idp.example"
    assert doc["audience"] == SP
    assert doc["attributes"] == {"role": ["admin", "user"], "mail": ["a@example.com"]}
    assert doc["confirmation"] == "bearer"
    assert doc["not_on_or_after"].endswith("Z")


def test_verify_text(apisec, pki, issued) -> None:
    res = apisec("soap", "saml", "verify", str(issued), "--trust", str(pki.ca.cert_path), "--audience", SP)
    assert res.exit_code == 0, res.stderr
    assert "subject:         alice" in res.stdout
    # without an audience, an audience-restricted assertion is refused (fail closed)
    res = apisec("soap", "saml", "verify", str(issued), "--trust", str(pki.ca.cert_path))
    assert res.exit_code == 1 and "restricted to audience" in res.stderr
    assert "pass --audience" in res.stderr  # the flag, not the library's audience=
    res = apisec(
        "soap", "saml", "verify", str(issued), "--trust", str(pki.ca.cert_path), "--format", "json"
    )  # fmt: skip
    assert res.exit_code == 1 and res.stderr.startswith("apisec: error: ")
    doc = json.loads(res.stdout)
    assert doc == {"valid": False, "error": "PolicyViolation", "reason": doc["reason"]}
    assert "--audience" in doc["reason"]


def test_verify_with_idp_metadata(apisec, pki, issued, tmp_path) -> None:
    b64 = base64.b64encode(pki.service.cert.public_bytes(serialization.Encoding.DER)).decode()
    md = tmp_path / "idp-metadata.xml"
    md.write_text(
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )
    res = apisec("soap", "saml", "verify", str(issued), "--trust-metadata", str(md), "--audience", SP)
    assert res.exit_code == 0, res.stderr
    md.write_text(md.read_text().replace("https://idp.example", "https://other-idp"))
    res = apisec("soap", "saml", "verify", str(issued), "--trust-metadata", str(md), "--audience", SP)
    assert res.exit_code == 1 and "metadata" in res.stderr


def test_tampered_exit_1(apisec, pki, issued, tmp_path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(issued.read_bytes().replace(b">alice<", b">admin<"))
    res = apisec("soap", "saml", "verify", str(bad), "--trust", str(pki.ca.cert_path))
    assert res.exit_code == 1
    assert res.stderr.startswith("apisec: error:") and "does not verify" in res.stderr
    assert "Traceback" not in res.stderr


def test_refusals_exit_1(apisec, pki, issued) -> None:
    wrong_aud = apisec(
        "soap",
        "saml",
        "verify",
        str(issued),
        "--trust",
        str(pki.ca.cert_path),
        "--audience",
        "urn:evil",
        "--format",
        "json",
    )
    assert wrong_aud.exit_code == 1
    assert json.loads(wrong_aud.stdout) == {
        "valid": False,
        "error": "PolicyViolation",
        "reason": json.loads(wrong_aud.stdout)["reason"],
    }
    untrusted = apisec("soap", "saml", "verify", str(issued), "--trust", str(pki.rogue.cert_path))
    assert untrusted.exit_code == 1
    expired = apisec(
        "soap",
        "saml",
        "verify",
        str(issued),
        "--trust",
        str(pki.ca.cert_path),
        "--at",
        "2100-01-01T00:00:00Z",
    )
    assert expired.exit_code == 1


def test_garbage_exit_2(apisec, pki, tmp_path) -> None:
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01 not xml")
    res = apisec("soap", "saml", "verify", str(garbage), "--trust", str(pki.ca.cert_path))
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    missing = apisec("soap", "saml", "verify", str(tmp_path / "nope.xml"), "--trust", str(pki.ca.cert_path))
    assert missing.exit_code == 2
    bad_at = apisec(
        "soap", "saml", "verify", str(garbage), "--trust", str(pki.ca.cert_path), "--at", "yesterday"
    )
    assert bad_at.exit_code == 2


def test_issue_bad_input_exit_2_without_output(apisec, pki, tmp_path) -> None:
    out = tmp_path / "x.xml"
    base = ["soap", "saml", "issue", "-o", str(out), "--issuer", "urn:i", "--subject", "s"]
    res = apisec(*base, "--key", str(pki.client.key_path), "--cert", str(pki.service.cert_path))
    assert res.exit_code == 2 and "does not match" in res.stderr
    res = apisec(
        *base,
        "--key",
        str(pki.service.key_path),
        "--cert",
        str(pki.service.cert_path),
        "--attribute",
        "novalue",
    )
    assert res.exit_code == 2
    res = apisec(
        *base,
        "--key",
        str(pki.service.key_path),
        "--cert",
        str(pki.service.cert_path),
        "--confirmation",
        "holder-of-key",
    )
    assert res.exit_code == 2
    assert not out.exists()


@pytest.mark.parametrize("version", ["1.1"])  # 2.0 holder-of-key: library tests
def test_issue_holder_of_key_and_versions(apisec, pki, tmp_path, version) -> None:
    out = tmp_path / "hok.xml"
    res = apisec(
        "soap", "saml", "issue", "-o", str(out), "--key", str(pki.service.key_path), "--cert", str(pki.service.cert_path),
        "--issuer", "urn:idp", "--subject", "bob", "--audience", SP, "--confirmation", "holder-of-key",
        "--confirmation-cert", str(pki.client.cert_path), "--saml-version", version,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    res = apisec(
        "soap",
        "saml",
        "verify",
        str(out),
        "--trust",
        str(pki.ca.cert_path),
        "--audience",
        SP,
        "--format",
        "json",
    )
    doc = json.loads(res.stdout)
    assert (doc["confirmation"], doc["version"], doc["confirmation_certificate"]) == (
        "holder-of-key",
        version,
        "O=Compliance Lab,CN=client",
    )


def test_response_and_xsw_commands(apisec, pki, tmp_path) -> None:
    resp = tmp_path / "response.xml"
    res = apisec(
        "soap", "saml", "issue", "-o", str(resp), "--key", str(pki.service.key_path), "--cert", str(pki.service.cert_path),
        "--issuer", "urn:idp", "--subject", "bob", "--audience", SP, "--recipient", "https://sp/acs", "--response",
        "--in-response-to", "req-7",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    ok = apisec(
        "soap",
        "saml",
        "verify",
        str(resp),
        "--trust",
        str(pki.ca.cert_path),
        "--audience",
        SP,
        "--recipient",
        "https://sp/acs",
        "--in-response-to",
        "req-7",
    )
    assert ok.exit_code == 0, ok.stderr
    posted = tmp_path / "posted.txt"  # HTTP-POST binding form value, as copied from a browser
    posted.write_text("SAMLResponse=" + urllib.parse.quote(base64.b64encode(resp.read_bytes()).decode()))
    ok = apisec(
        "soap",
        "saml",
        "verify",
        str(posted),
        "--trust",
        str(pki.ca.cert_path),
        "--audience",
        SP,
        "--format",
        "json",
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)["subject"] == "bob", ok.stderr
    outdir = tmp_path / "xsw"
    outdir.mkdir()
    res = apisec("soap", "saml", "xsw", str(resp), "-o", str(outdir))
    assert res.exit_code == 0, res.stderr
    files = sorted(p.name for p in outdir.glob("XSW*.xml"))
    assert files == [f"XSW{i}.xml" for i in range(1, 9)]
    for name in ("XSW2.xml", "XSW7.xml"):  # the library suite covers all eight; two keep this test fast
        r = apisec(
            "soap", "saml", "verify", str(outdir / name), "--trust", str(pki.ca.cert_path), "--audience", SP
        )
        assert r.exit_code == 1 and "wrapping" in r.stderr, (name, r.stderr)
