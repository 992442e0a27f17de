"""Third-party SAML vectors (python3-saml, pysaml2) behave as their SOURCES.txt says.

Every vector is verified "as of" its own IssueInstant, with rsa-sha1 allowed
and the pinned IdP certificate's validity dates ignored (they expired before
the responses were issued; see SOURCES.txt), so a refusal can only come from
what the vector is about: wrapping, references, trust, content.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import VECTORS
from wssec.errors import (
    Expired,
    InvalidSignature,
    MalformedMessage,
    PolicyViolation,
    UntrustedKey,
    WssecError,
)
from wssec.safexml import parse_xml
from wssec.saml import Issuer, SamlTrust, verify
from wssec.saml.dsig import sign_enveloped
from wssec.trust import KeyPolicy

# The public vectors are signed with RSA-1024 keys (2010-era IdPs): read them
# under a legacy key policy; the default policy refuses them (tested below).
LEGACY = KeyPolicy(min_rsa_bits=1024)

# settings2's IdP certificate has serial number 0; cryptography warns (and will refuse one day).
warnings.filterwarnings("ignore", message="Parsed a serial number", category=Warning)

P3 = VECTORS / "python3-saml"
PY2 = VECTORS / "pysaml2"
PITBULK_SP = "https://pitbulk.no-ip.org/newonelogin/demo1/metadata.php"
PITBULK_ACS = "https://pitbulk.no-ip.org/newonelogin/demo1/index.php?acs"


def _idp_cert(settings: str) -> bytes:
    b64 = json.loads((P3 / "settings" / settings).read_text())["idp"]["x509cert"]
    return f"-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n".encode()


CERT1 = _idp_cert("settings1.json")
CERT2 = _idp_cert("settings2.json")


def _issue_instant(data: bytes) -> str:
    return re.search(rb'IssueInstant="([^"]+)"', data).group(1).decode()


def _verify_vector(data: bytes, trust, **kw):
    kw.setdefault("audience", None)
    kw.setdefault("key_policy", LEGACY)
    return verify(data, trust=trust, at=_issue_instant(data), allow_sha1=True, check_pinned_dates=False, **kw)


# file, trust, audience, recipient, expected subject, signed_by
VALID = [
    ("signed_message_response.xml", CERT1, PITBULK_SP, PITBULK_ACS, "_b98f98bb1ab512ced653b58baaff543448daed535d", "response"),
    ("signed_assertion_response.xml", CERT1, PITBULK_SP, PITBULK_ACS, "_3af62f1d03513bdd61dd5bf04d3deb7aa617480e22", "assertion"),
    ("double_signed_response.xml", CERT1, PITBULK_SP, PITBULK_ACS, "_2126dd19b8a9a28238d88fdc7385e60995004a7782", "both"),
    ("valid_response.xml", CERT1, "http://stuff.com/endpoints/metadata.php", PITBULK_ACS, "492882615acf31c8096b627245d76ae53036c090", "both"),
    ("valid_response_with_namequalifier.xml", CERT1, "http://stuff.com/endpoints/metadata.php", PITBULK_ACS, "492882615acf31c8096b627245d76ae53036c090", "both"),
    ("valid_response_without_inresponseto.xml", CERT1, PITBULK_SP, PITBULK_ACS, "492882615acf31c8096b627245d76ae53036c090", "response"),
    ("response1_with_friendlyname.xml", CERT1, "{audience}", "{recipient}", "support@onelogin.com", "assertion"),
    ("valid_response2.xml", CERT2, "http://pytoolkit.com:8000/metadata/", "http://pytoolkit.com:8000/?acs", "25ddd7d34a7d79db69167625cda56a320adf2876", "both"),
    ("signed_assertion_response2.xml", CERT2, "http://pytoolkit.com:8000/metadata/", "http://pytoolkit.com:8000/?acs", "25ddd7d34a7d79db69167625cda56a320adf2876", "assertion"),
    ("double_signed_response2.xml", CERT2, "http://pytoolkit.com:8000/metadata/", "http://pytoolkit.com:8000/?acs", "25ddd7d34a7d79db69167625cda56a320adf2876", "both"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "cert", "audience", "recipient", "subject", "signed_by"), VALID, ids=[v[0] for v in VALID]
)
def test_python3_saml_valid_responses_verify(name, cert, audience, recipient, subject, signed_by) -> None:
    data = (P3 / "decoded" / name).read_bytes()
    result = _verify_vector(data, cert, audience=audience, recipient=recipient)
    assert result.subject == subject
    assert result.signed_by == signed_by
    assert result.version == "2.0"
    # the element returned is the one assertion of this very document
    assert etree.QName(result.element).localname == "Assertion"


def test_python3_saml_valid_response_attributes() -> None:
    data = (P3 / "decoded" / "signed_message_response.xml").read_bytes()
    r = _verify_vector(data, CERT1, audience=PITBULK_SP)
    assert r.attributes["eduPersonAffiliation"] == ["user", "admin"]
    assert r.attributes["mail"] == ["test@example.com"]
    assert r.issuer == "https://pitbulk.no-ip.org/simplesaml/saml2/idp/metadata.php"
    assert r.confirmation == "bearer"


def test_python3_saml_wrong_certificate_is_untrusted() -> None:
    data = (P3 / "decoded" / "signed_message_response.xml").read_bytes()
    with pytest.raises(UntrustedKey):
        _verify_vector(data, (P3 / "certs" / "certificate1").read_bytes())
    with pytest.raises(UntrustedKey):
        _verify_vector(data, CERT2)


def test_python3_saml_vector_refused_without_the_legacy_switches() -> None:
    """Default policy: SHA-1 refused, the expired pinned certificate refused, and 'now' is long after expiry."""
    data = (P3 / "decoded" / "signed_message_response.xml").read_bytes()
    with pytest.raises(InvalidSignature, match="SHA-1"):
        verify(data, trust=CERT1, audience=PITBULK_SP, at=_issue_instant(data), check_pinned_dates=False)
    with pytest.raises(UntrustedKey, match="not valid at"):
        verify(
            data,
            trust=CERT1,
            audience=PITBULK_SP,
            at=_issue_instant(data),
            allow_sha1=True,
            key_policy=LEGACY,
        )
    with pytest.raises(UntrustedKey, match="1024 bits"):  # the default key policy: RSA >= 2048
        verify(
            data,
            trust=CERT1,
            audience=None,
            at=_issue_instant(data),
            allow_sha1=True,
            check_pinned_dates=False,
        )
    data2 = (P3 / "decoded" / "valid_response2.xml").read_bytes()  # expired in 2024
    with pytest.raises(Expired):
        verify(
            data2, trust=CERT2, audience=None, allow_sha1=True, check_pinned_dates=False, key_policy=LEGACY
        )


def test_python3_saml_issuer_text_modified_after_signing() -> None:
    data = (P3 / "decoded" / "signed_message_response.xml").read_bytes()
    tampered = data.replace(
        b"simplesaml/saml2/idp/metadata.php</saml:Issuer><ds:Sig",
        b"simplesaml/saml2/idp/evil.php</saml:Issuer><ds:Sig",
        1,
    )
    assert tampered != data
    with pytest.raises(InvalidSignature, match="does not verify"):
        _verify_vector(tampered, CERT1)


# file, expected error type, message fragment  (SOURCES.txt: MUST be rejected)
INVALID = [
    ("invalids/signature_wrapping_attack.xml", MalformedMessage, "duplicate id"),
    ("invalids/signature_wrapping_attack2.xml", InvalidSignature, "not a direct child"),
    ("response4.xml", PolicyViolation, "2 assertions"),
    ("wrapped_response_2.xml", InvalidSignature, "signs neither"),
    ("invalids/bad_reference.xml", InvalidSignature, "does not verify"),
    ("invalids/multiple_assertions.xml", PolicyViolation, "exactly 1"),
    ("invalids/no_signature.xml", InvalidSignature, "unsigned"),
    ("invalids/no_key.xml", InvalidSignature, "SignatureValue"),
    ("invalids/duplicated_attributes.xml", PolicyViolation, "duplicated Attribute"),
    ("invalids/signed_assertion_response.xml", UntrustedKey, "not one of the pinned"),
    ("invalids/no_id.xml", MalformedMessage, "no ID"),
    ("invalids/empty_nameid.xml", PolicyViolation, "NameID is empty"),
    ("invalids/no_issuer_assertion.xml", PolicyViolation, "missing Issuer"),
    ("invalids/status_code_responder.xml", PolicyViolation, ""),
    ("invalids/no_status.xml", PolicyViolation, "Status"),
    ("invalids/invalid_issuer_message.xml", InvalidSignature, "unsigned"),
    ("response_without_reference_uri.xml", InvalidSignature, "Reference URI"),
    ("response_without_assertion_reference_uri.xml", InvalidSignature, "Reference URI"),
]


@pytest.mark.parametrize(("name", "error", "fragment"), INVALID, ids=[v[0] for v in INVALID])
def test_python3_saml_invalid_responses_refused(name, error, fragment) -> None:
    data = (P3 / "decoded" / name).read_bytes()
    with pytest.raises(error, match=re.escape(fragment)):
        _verify_vector(data, CERT1, audience=PITBULK_SP)


def test_python3_saml_wrong_spnamequalifier_refused_when_audience_given() -> None:
    data = (P3 / "decoded" / "invalids" / "wrong_spnamequalifier.xml").read_bytes()
    with pytest.raises(PolicyViolation, match="SPNameQualifier"):
        _verify_vector(data, CERT1, audience=PITBULK_SP)


def test_python3_saml_node_text_attack_reads_full_text(pki) -> None:
    """CVE-2017-11427: NameID 'support<!-- attack! -->@onelogin.com' must read as the whole address.

    The vector's own signature cannot be checked (its OneLogin certificate
    is not parseable X.509 and the file holds {audience} placeholders), and
    exc-c14n ignores comments, which is the point of the attack: so the very
    same assertion is signed by a test IdP, comments in place, and verified.
    """
    root = parse_xml((P3 / "decoded" / "response_node_text_attack.xml").read_bytes())
    assertion = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    old = assertion.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    position = assertion.index(old)
    assertion.remove(old)
    sign_enveloped(assertion, key=pki.service.key, cert=pki.service.cert, position=position)
    # the signed text is the comment-free full text (exc-c14n drops comments):
    nameid = assertion.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
    assert nameid.text == "support" and len(nameid) == 1  # the attack shape is intact
    data = etree.tostring(root)
    r = verify(
        data,
        trust=pki.service.cert,  # pinned test IdP; its dates are 2026, the vector's 2010
        check_pinned_dates=False,
        audience="{audience}",
        recipient="{recipient}",
        at=_issue_instant(data),
    )
    assert r.subject == "support@onelogin.com"
    assert r.attributes["surname"] == ["smith"]
    assert r.attributes["another_value"] == ["value1", "value2"]
    assert r.attributes["attribute_with_nils_and_empty_strings"] == ["", "valuePresent"]


# ---------------------------------------------------------------- pysaml2 XSW

XSW_FILES = sorted((PY2 / "xsw").glob("*.xml"))


@pytest.mark.parametrize("path", XSW_FILES, ids=[p.name for p in XSW_FILES])
def test_pysaml2_cve_2021_21238_xsw_refused(path: Path) -> None:
    data = path.read_bytes()
    with pytest.raises((MalformedMessage, InvalidSignature, PolicyViolation)) as info:
        _verify_vector(data, PY2 / "test.pem")
    assert "wrapping" in str(info.value) or "assertions" in str(info.value)


def test_pysaml2_xsw_vectors_are_present() -> None:
    assert len(XSW_FILES) == 5


def _genuine_from_wrapper() -> bytes:
    """The pysaml2 wrapper vector with its hidden genuine assertion put back."""
    root = parse_xml((PY2 / "xsw" / "signed-xsw-assertion-wrapper.xml").read_bytes())
    s = "{urn:oasis:names:tc:SAML:2.0:assertion}"
    genuine = root.find(f"XSW_ATTACK/{s}Assertion")
    attack = root.find(f"{s}Assertion")
    assert genuine is not None and attack is not None
    genuine = copy.deepcopy(genuine)
    # the attacker assertion carries the genuine assertion's signature: move it home
    signature = attack.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert genuine.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None
    genuine.insert(1, signature)
    root.replace(attack, genuine)
    root.remove(root.find("XSW_ATTACK"))
    data = etree.tostring(root)
    return data


PY2_SP = "urn:mace:example.com:saml:roland:sp"


def test_pysaml2_genuine_assertion_from_xsw_vector_verifies() -> None:
    """Positive control: the signed assertion hidden in the wrapper vector is
    genuine; put back where it belongs, it verifies.  So the refusals above
    are about the wrapping, not about crypto, SHA-1 or dates."""
    data = _genuine_from_wrapper()
    r = _verify_vector(data, PY2 / "test.pem", audience=PY2_SP)
    assert r.assertion_id == "the-assertion"
    assert r.subject != "attack-name-id"
    assert r.issuer == "urn:mace:example.com:saml:roland:idp"


def test_audience_restricted_assertion_refused_without_an_audience() -> None:
    """Fail closed: a relying party that names no audience cannot accept an
    assertion restricted to one (it may have been issued to another service)."""
    data = _genuine_from_wrapper()
    with pytest.raises(PolicyViolation, match="restricted to audience"):
        _verify_vector(data, PY2 / "test.pem", audience=None)


def test_pysaml2_idp_metadata_as_trust() -> None:
    """pysaml2's IdP metadata (tests/idp.xml) pins the signing certificate and
    binds it to entityID urn:mace:example.com:saml:roland:idp."""
    trust = SamlTrust.from_metadata(
        (PY2 / "idp.xml").read_bytes(), check_pinned_dates=False, key_policy=LEGACY
    )
    assert trust.issuers == {"urn:mace:example.com:saml:roland:idp"}
    data = _genuine_from_wrapper()
    r = verify(data, trust=trust, audience=PY2_SP, at=_issue_instant(data), allow_sha1=True)
    assert r.issuer == "urn:mace:example.com:saml:roland:idp"
    with pytest.raises((InvalidSignature, PolicyViolation)):
        _verify_vector((PY2 / "xsw" / "signed-xsw-assertion-wrapper.xml").read_bytes(), trust)


def test_errors_are_wssec_errors() -> None:
    assert all(issubclass(e, WssecError) for _, e, _ in INVALID)


def test_issuer_round_trip_sanity(pki) -> None:
    r = verify(
        Issuer(pki.service.key, pki.service.cert, "urn:idp").issue("x", audience="urn:sp"),
        trust=pki.ca.cert,
        audience="urn:sp",
    )
    assert r.subject == "x"
