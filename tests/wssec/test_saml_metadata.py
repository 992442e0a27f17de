"""SAML metadata binds keys to entities: the Issuer selects the entity and
only that entity's signing keys verify (no impersonation across a
federation), several metadata files keep their entities apart, and metadata
past its validUntil is refused."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from wssec.errors import UntrustedKey
from wssec.saml import Issuer, SamlTrust, verify

SP = "urn:sp"
IDP_A = "https://idp-a.example"
IDP_B = "https://idp-b.example"


def _entity(entity_id: str, cert, valid_until: str | None = None) -> str:
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    until = f' validUntil="{valid_until}"' if valid_until else ""
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"{until}>'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def _federation(pki, valid_until: str | None = None) -> str:
    until = f' validUntil="{valid_until}"' if valid_until else ""
    inner = _entity(IDP_A, pki.service.cert) + _entity(IDP_B, pki.client.cert)
    return f'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"{until}>{inner}</md:EntitiesDescriptor>'


@pytest.fixture(scope="module")
def responses(pki) -> dict[str, bytes]:
    a = Issuer(pki.service.key, pki.service.cert, IDP_A)
    b = Issuer(pki.client.key, pki.client.cert, IDP_B)
    a_as_b = Issuer(pki.service.key, pki.service.cert, IDP_B)  # A's key, B's name
    return {
        "a": a.issue_response("alice", audience=SP),
        "b": b.issue_response("bob", audience=SP),
        "a-as-b": a_as_b.issue_response("mallory", audience=SP),
        "a-as-b-assertion": a_as_b.issue("mallory", audience=SP),
        "a-as-b-response-only": a_as_b.issue_response("mallory", audience=SP, sign_assertion=False),
    }


def _trusts(pki) -> dict[str, SamlTrust]:
    return {
        "entities-descriptor": SamlTrust.from_metadata(_federation(pki)),
        "two-files-merged": SamlTrust.merge(
            [
                SamlTrust.from_metadata(_entity(IDP_A, pki.service.cert)),
                SamlTrust.from_metadata(_entity(IDP_B, pki.client.cert)),
            ]
        ),
    }


@pytest.mark.parametrize("how", ["entities-descriptor", "two-files-merged"])
def test_each_entity_verifies_with_its_own_key(how, pki, responses) -> None:
    trust = _trusts(pki)[how]
    assert verify(responses["a"], trust=trust, audience=SP).issuer == IDP_A
    assert verify(responses["b"], trust=trust, audience=SP).issuer == IDP_B


@pytest.mark.parametrize("how", ["entities-descriptor", "two-files-merged"])
@pytest.mark.parametrize("which", ["a-as-b", "a-as-b-assertion", "a-as-b-response-only"])
def test_one_idps_key_cannot_speak_for_another(how, which, pki, responses) -> None:
    with pytest.raises(UntrustedKey):
        verify(responses[which], trust=_trusts(pki)[how], audience=SP)


def test_unknown_entity_refused(pki) -> None:
    other = Issuer(pki.service.key, pki.service.cert, "https://idp-c.example").issue_response(
        "x", audience=SP
    )
    with pytest.raises(UntrustedKey, match="not an entity"):
        verify(other, trust=_trusts(pki)["entities-descriptor"], audience=SP)


def test_entity_bound_trust_never_decides_without_an_issuer(pki) -> None:
    with pytest.raises(UntrustedKey, match="Issuer"):
        _trusts(pki)["two-files-merged"].decide(pki.service.cert, [], dt.datetime.now(dt.UTC))


@pytest.mark.parametrize("where", ["entity", "entities"])
def test_metadata_past_valid_until_refused(where, pki, responses) -> None:
    past, future = "2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z"
    for until, ok in ((past, False), (future, True)):
        md = (
            _entity(IDP_A, pki.service.cert, valid_until=until)
            if where == "entity"
            else _federation(pki, valid_until=until)
        )
        trust = SamlTrust.from_metadata(md)
        if ok:
            assert verify(responses["a"], trust=trust, audience=SP).issuer == IDP_A
        else:
            with pytest.raises(UntrustedKey, match="validUntil"):
                verify(responses["a"], trust=trust, audience=SP)


def test_cli_two_metadata_files_keep_entities_apart(pki, responses, tmp_path) -> None:
    md_a = tmp_path / "md-a.xml"
    md_b = tmp_path / "md-b.xml"
    md_a.write_text(_entity(IDP_A, pki.service.cert))
    md_b.write_text(_entity(IDP_B, pki.client.cert))
    args = ["apisec", "soap", "saml", "verify", "--trust-metadata", str(md_a), "--trust-metadata", str(md_b)]
    args += ["--audience", SP]
    for name, code in (("a", 0), ("b", 0), ("a-as-b", 1)):
        path = tmp_path / f"response-{name}.xml"
        path.write_bytes(responses[name])
        proc = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, proc.stdout + proc.stderr
        if code:
            assert proc.stderr.startswith("apisec: error:") and "Traceback" not in proc.stderr
