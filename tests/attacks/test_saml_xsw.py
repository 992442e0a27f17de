"""XSW1–XSW8 (SAML Raider's catalogue) against apisec's SAML verifier.

Each variant is generated from a Response genuinely signed by the test IdP.
Two facts are proved per variant: the attack is *real* — libxmlsec1's own
``xmlsec1 --verify`` (the peer every naive SAML stack shells out to) still
accepts the signature for the variants where the wrapping leaves the digest
intact — and apisec refuses it, for a wrapping reason (never because of
expiry, trust or SHA-1, which are all fine here).
"""

from __future__ import annotations

import copy
import subprocess

import pytest
from lxml import etree

from tests.conftest import require_peer
from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation
from wssec.safexml import parse_xml
from wssec.saml import Issuer, verify
from wssec.saml.xsw import EVIL_ASSERTION_ID, VARIANTS, wrap

SP = "https://sp.example/metadata"
ACS = "https://sp.example/acs"
# Variants whose wrapping keeps the libxmlsec1 digest valid (xmlsec1 says OK).
# XSW1: xmlsec1 refuses a Response inside ds:Signature (schema check);
# XSW6/XSW8: the referenced copy sits inside the verifying Signature, which
# the enveloped-signature transform removes, so the digest breaks.
XMLSEC1_FOOLED = {"XSW2", "XSW3", "XSW4", "XSW5", "XSW7"}


@pytest.fixture(scope="module")
def signed(pki) -> dict[str, bytes]:
    idp = Issuer(pki.service.key, pki.service.cert, "https://idp.example")
    common = dict(audience=SP, destination=ACS, attributes={"role": "user"})
    return {
        "response": idp.issue_response("alice", sign_assertion=False, **common),
        "assertion": idp.issue_response("alice", sign_response=False, **common),
    }


def _verify(data: bytes, pki):
    return verify(data, trust=pki.ca.cert, audience=SP, recipient=ACS)


def test_originals_verify(signed, pki) -> None:
    """Positive control: what the variants are made from is valid."""
    assert _verify(signed["response"], pki).signed_by == "response"
    assert _verify(signed["assertion"], pki).signed_by == "assertion"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_xsw_variant_refused(variant, signed, pki) -> None:
    attack = wrap(variant, signed[VARIANTS[variant][0]], evil_subject="admin")
    # the attack puts "admin" where a naive relying party reads the subject
    root = parse_xml(attack)
    first_nameid = next(root.iter("{urn:oasis:names:tc:SAML:2.0:assertion}NameID"))
    assert b"admin" in attack and first_nameid.text in ("admin", "alice")
    with pytest.raises((MalformedMessage, InvalidSignature, PolicyViolation)) as info:
        _verify(attack, pki)
    msg = str(info.value)
    assert any(w in msg for w in ("wrapping", "assertions", "Signature contains")), msg


@pytest.mark.parametrize("variant", sorted(XMLSEC1_FOOLED))
def test_xsw_variant_fools_plain_signature_check(variant, signed, pki, tmp_path) -> None:
    """The same bytes pass ``xmlsec1 --verify`` with the trusted CA: the
    signature really is valid, only its placement is hostile."""
    xmlsec1 = require_peer("xmlsec1", "XSW variants are checked against libxmlsec1")
    path = tmp_path / f"{variant}.xml"
    path.write_bytes(wrap(variant, signed[VARIANTS[variant][0]], evil_subject="admin"))
    proc = subprocess.run(
        [
            xmlsec1,
            "--verify",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--trusted-pem",
            str(pki.ca.cert_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr


def test_xsw_evil_copy_alone_is_refused_as_unsigned(signed, pki) -> None:
    """XSW3 minus the genuine assertion: the evil copy on its own is unsigned."""
    root = parse_xml(wrap("XSW3", signed["assertion"]))
    for a in root.findall("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"):
        if a.get("ID") != EVIL_ASSERTION_ID:
            root.remove(a)
    with pytest.raises(InvalidSignature, match="unsigned"):
        _verify(etree.tostring(root), pki)


def test_duplicate_id_variant_refused(signed, pki) -> None:
    """XSW3 with the evil copy keeping the original ID (how SAML Raider can also
    apply it): refused as a duplicate ID before any signature work."""
    root = parse_xml(signed["assertion"])
    a = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    evil = copy.deepcopy(a)
    evil.remove(evil.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    next(evil.iter("{urn:oasis:names:tc:SAML:2.0:assertion}NameID")).text = "admin"
    a.addprevious(evil)
    with pytest.raises(MalformedMessage, match="(?i)duplicate id"):
        _verify(etree.tostring(root), pki)


def test_unknown_variant_name() -> None:
    with pytest.raises(ValueError):
        wrap("XSW9", b"<x/>")
