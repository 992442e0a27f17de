"""XML-DSig interop with xmlsec1 (libxmlsec1, the C reference implementation):
``xmlsec1 --verify`` must accept apisec's WS-Security signatures (every
algorithm, key identifier and SOAP version) and refuse them when tampered or
checked with another key; and apisec must verify a signature xmlsec1 made
from a template (KeyInfo as ds:X509Data) — and refuse it tampered.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_peer
from wssec import InvalidSignature, Signer, UntrustedKey, Verifier

pytestmark = pytest.mark.interop

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
ID_ATTRS = ["--id-attr:Id", "Body", "--id-attr:Id", "Timestamp", "--id-attr:Id", "UsernameToken",
            "--id-attr:Id", "To", "--id-attr:Id", "Action"]  # fmt: skip


def envelope(soap_ns: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header>'
        f'<wsa:To xmlns:wsa="{WSA}">https://service.example/x</wsa:To>'
        f'<wsa:Action xmlns:wsa="{WSA}">urn:x</wsa:Action></soap:Header>'
        f'<soap:Body><m:getQuote xmlns:m="urn:quotes"><m:symbol>ACME</m:symbol></m:getQuote></soap:Body>'
        f"</soap:Envelope>"
    ).encode()


def xmlsec1_verify(path: Path, cert: Path) -> subprocess.CompletedProcess:
    exe = require_peer("xmlsec1", "the XML-DSig reference implementation")
    return subprocess.run(
        [exe, "--verify", "--pubkey-cert-pem", str(cert), *ID_ATTRS, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


CASES = [
    (SOAP11, "client", dict()),
    (
        SOAP11,
        "client",
        dict(key_identifier="ski", signature_algorithm="rsa-sha512", digest_algorithm="sha512"),
    ),
    (
        SOAP11,
        "client",
        dict(
            key_identifier="issuer-serial",
            username="u",
            password="p",
            sign=("Body", "Timestamp", "UsernameToken"),
        ),
    ),  # fmt: skip
    (SOAP12, "client", dict(key_identifier="thumbprint", sign=("Body", "Timestamp", "To", "Action"))),
    (SOAP12, "ec_client", dict(signature_algorithm="ecdsa-sha256")),
    (SOAP11, "client", dict(signature_algorithm="rsa-sha1", digest_algorithm="sha1")),
]


@pytest.mark.parametrize("soap_ns,who,kw", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_xmlsec1_accepts_apisec_signatures(tmp_path: Path, pki, soap_ns, who, kw) -> None:
    ident = getattr(pki, who)
    signed = Signer(ident.key_path, ident.cert_path, **kw).sign(envelope(soap_ns))
    path = tmp_path / "signed.xml"
    path.write_bytes(signed)
    proc = xmlsec1_verify(path, ident.cert_path)
    assert proc.returncode == 0 and "OK" in proc.stdout + proc.stderr, proc.stderr
    n_refs = len(kw.get("sign", ("Body", "Timestamp")))
    assert f"SignedInfo References (ok/all): {n_refs}/{n_refs}" in proc.stdout + proc.stderr


def test_xmlsec1_refuses_tampered_and_wrong_key(tmp_path: Path, pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(envelope(SOAP11))
    bad = tmp_path / "tampered.xml"
    bad.write_bytes(signed.replace(b"ACME", b"EVIL"))
    assert xmlsec1_verify(bad, pki.client.cert_path).returncode != 0
    good = tmp_path / "good.xml"
    good.write_bytes(signed)
    assert xmlsec1_verify(good, pki.rogue.cert_path).returncode != 0


TEMPLATE = """<soap:Envelope xmlns:soap="{soap}"><soap:Header><wsse:Security
 xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
 xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
 soap:mustUnderstand="1"><wsu:Timestamp wsu:Id="TS-1"><wsu:Created>{created}</wsu:Created>
<wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI="#Body-1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>
<ds:Reference URI="#TS-1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
</ds:Signature></wsse:Security></soap:Header><soap:Body
 xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
 wsu:Id="Body-1"><m:getQuote xmlns:m="urn:quotes"><m:symbol>ACME</m:symbol></m:getQuote></soap:Body></soap:Envelope>"""


@pytest.mark.parametrize("soap_ns", [SOAP11, SOAP12])
def test_apisec_verifies_xmlsec1_signature(tmp_path: Path, pki, soap_ns: str) -> None:
    exe = require_peer("xmlsec1", "the XML-DSig reference implementation")
    now = dt.datetime.now(dt.UTC)
    tpl = tmp_path / "tpl.xml"
    tpl.write_text(
        TEMPLATE.format(
            soap=soap_ns,
            created=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            expires=(now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )
    out = tmp_path / "signed.xml"
    subprocess.run(
        [exe, "--sign", "--privkey-pem", f"{pki.client.key_path},{pki.client.cert_path}",
         *ID_ATTRS, "--output", str(out), str(tpl)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    signed = out.read_bytes()
    result = Verifier(trust=[pki.ca.cert_path]).verify(signed)
    assert result.signed_parts == ("Body", "Timestamp")
    assert result.signatures[0].key_reference == "x509data"
    with pytest.raises(InvalidSignature):
        Verifier(trust=[pki.ca.cert_path]).verify(signed.replace(b"ACME", b"EVIL"))
    with pytest.raises(UntrustedKey):
        Verifier(trust=[pki.rogue.cert_path]).verify(signed)
