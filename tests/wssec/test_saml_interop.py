"""Assertions apisec issues are accepted by real peers: ``xmlsec1 --verify``
(Debian xmlsec1, trusting the CA) and pysaml2's SP response processing
(which shells out to xmlsec1 and checks audience, destination, conditions).
Tampering makes both peers refuse, so the tests can fail."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import require_peer
from wssec.saml import Issuer

SP = "https://sp.example/metadata"
ACS = "https://sp.example/acs"
IDP = "https://idp.example/metadata"
ID_ATTRS = {
    "assertion2": "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
    "assertion1": "urn:oasis:names:tc:SAML:1.0:assertion:Assertion",
    "response": "urn:oasis:names:tc:SAML:2.0:protocol:Response",
}


def _xmlsec1(path: Path, ca: Path, *id_attrs: str) -> subprocess.CompletedProcess:
    exe = require_peer("xmlsec1", "SAML interop is proved with xmlsec1 --verify")
    args = [exe, "--verify"]
    for spec in id_attrs:
        args += [f"--id-attr:{'AssertionID' if 'SAML:1.0' in spec else 'ID'}", spec]
    return subprocess.run(
        [*args, "--trusted-pem", str(ca), str(path)], capture_output=True, text=True, timeout=30
    )


@pytest.fixture(scope="module")
def idp(pki) -> Issuer:
    return Issuer(pki.service.key, pki.service.cert, IDP)


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        ("assertion2", {}),
        ("assertion2", {"confirmation": "holder-of-key"}),
        ("assertion1", {"saml_version": "1.1"}),
        ("assertion1", {"saml_version": "1.1", "confirmation": "sender-vouches"}),
        ("response", {}),
    ],
)
def test_xmlsec1_verifies_issued_tokens(idp, pki, tmp_path, kind, kwargs) -> None:
    if kwargs.get("confirmation") == "holder-of-key":
        kwargs = {**kwargs, "confirmation_cert": pki.client.cert}
    if kind == "response":
        data = idp.issue_response("alice", audience=SP, destination=ACS, sign_assertion=False)
    else:
        data = idp.issue("alice", audience=SP, attributes={"role": "user"}, **kwargs)
    good = tmp_path / "good.xml"
    good.write_bytes(data)
    proc = _xmlsec1(good, pki.ca.cert_path, ID_ATTRS[kind])
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout + proc.stderr
    bad = tmp_path / "bad.xml"
    bad.write_bytes(data.replace(b">alice<", b">mallory<"))
    assert _xmlsec1(bad, pki.ca.cert_path, ID_ATTRS[kind]).returncode != 0


def test_xmlsec1_refuses_untrusted_ca(idp, pki, tmp_path) -> None:
    path = tmp_path / "a.xml"
    path.write_bytes(idp.issue("alice", audience=SP))
    assert _xmlsec1(path, pki.rogue.cert_path, ID_ATTRS["assertion2"]).returncode != 0


def test_xmlsec1_verifies_ec_signature(pki, tmp_path) -> None:
    path = tmp_path / "ec.xml"
    path.write_bytes(Issuer(pki.ec_client.key, pki.ec_client.cert, IDP).issue("alice", audience=SP))
    proc = _xmlsec1(path, pki.ca.cert_path, ID_ATTRS["assertion2"])
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ pysaml2


@pytest.fixture(scope="module")
def pysaml2_sp(pki):
    """A pysaml2 Service Provider that trusts the test IdP through metadata."""
    require_peer("xmlsec1", "pysaml2 verifies signatures with xmlsec1")
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    cert_b64 = base64.b64encode(pki.service.cert.public_bytes(serialization.Encoding.DER)).decode()
    metadata = (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{cert_b64}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
    )
    conf = SPConfig().load(
        {
            "entityid": SP,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
                    "allow_unsolicited": True,
                    "want_response_signed": False,
                    "want_assertions_signed": True,
                }
            },
            "metadata": {"inline": [metadata]},
            "allow_unknown_attributes": True,
            "xmlsec_binary": require_peer("xmlsec1"),
        }
    )
    client = Saml2Client(conf)

    def parse(data: bytes):
        return client.parse_authn_request_response(base64.b64encode(data).decode(), BINDING_HTTP_POST)

    return parse


def test_pysaml2_accepts_issued_response(idp, pysaml2_sp) -> None:
    data = idp.issue_response(
        "alice", audience=SP, destination=ACS, attributes={"mail": "alice@example.com", "role": ["a", "b"]}
    )
    resp = pysaml2_sp(data)
    assert resp.name_id.text == "alice"
    assert resp.ava["mail"] == ["alice@example.com"]
    assert resp.ava["role"] == ["a", "b"]
    assert resp.assertion.issuer.text == IDP


def test_pysaml2_refuses_tampered_response(idp, pysaml2_sp) -> None:
    from saml2.sigver import SignatureError

    data = idp.issue_response("alice", audience=SP, destination=ACS)
    with pytest.raises(SignatureError):
        pysaml2_sp(data.replace(b">alice<", b">mallory<"))


def test_pysaml2_refuses_wrong_audience(idp, pysaml2_sp) -> None:
    data = idp.issue_response("alice", audience="https://other-sp", destination=ACS)
    with pytest.raises(Exception, match="(?i)audience|not for me|restriction"):
        pysaml2_sp(data)


# ------------------------------------------------------------------ schema


@pytest.mark.parametrize("confirmation", ["bearer", "sender-vouches", "holder-of-key"])
def test_issued_assertions_are_schema_valid(idp, pki, confirmation) -> None:
    """SAML 2.0 core XSDs (as shipped with pysaml2, validated by xmlschema)."""
    from saml2.xml.schema import XMLSchemaError, validate

    hok = pki.client.cert if confirmation == "holder-of-key" else None
    data = idp.issue(
        "alice",
        audience=SP,
        confirmation=confirmation,
        confirmation_cert=hok,
        recipient=ACS,
        attributes={"a": ["1", "2"]},
    )
    validate(data.decode())
    validate(idp.issue_response("alice", audience=SP, destination=ACS).decode())
    with pytest.raises(XMLSchemaError):  # the validator does refuse out-of-order content
        validate(
            data.replace(b"<saml2:Issuer>", b"<saml2:Audience>x</saml2:Audience><saml2:Issuer>").decode()
        )
