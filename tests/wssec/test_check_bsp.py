"""WS-I BSP 1.1 rules on captured messages: every rule passes on conformant
messages (apisec's own signer+encryptor output, a ws.js response) and fails
on a message that breaks exactly that rule."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from tests.conftest import VECTORS
from wssec.checks import check_message
from wssec.checks.bsp import RULES
from wssec.checks.registry import BSP_RULE_IDS, bsp_check_id
from wssec.errors import UnsafeXml
from wssec.safexml import parse_xml
from wssec.soap import DS_NS, WSSE_NS, WSU_NS, XENC_NS

MSGS = VECTORS / "wss4j-policy" / "messages"
NS = {
    "ds": DS_NS,
    "wsse": WSSE_NS,
    "wsu": WSU_NS,
    "xenc": XENC_NS,
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
}


def st(findings, rule: str) -> str:
    cid = bsp_check_id(rule)
    return next(f.status.value for f in findings if f.check_id == cid)


@pytest.fixture(scope="module")
def good(pki) -> dict[str, bytes]:
    """Conformant messages from apisec's own Signer/Encryptor."""
    from apisec_samples.soap_service import request_xml
    from wssec import Signer
    from wssec.encryption import Encryptor
    from wssec.secure import secure

    ut_signer = Signer(pki.client.key, pki.client.cert, username="alice", password="s3cret-pw")
    cbc = Encryptor(pki.service.cert, cipher="aes256-cbc")
    header_enc = Encryptor(
        pki.service.cert, encrypt=("Body", f"{{{WSSE_NS}}}UsernameToken"), cipher="aes256-cbc"
    )
    return {
        "full": secure(request_xml(), signer=ut_signer, encryptor=cbc),
        "ski": Signer(pki.client.key, pki.client.cert, key_identifier="ski").sign(request_xml()),
        "gcm": secure(request_xml(), signer=ut_signer, encryptor=Encryptor(pki.service.cert)),
        "ut-encrypted": secure(request_xml(), signer=ut_signer, encryptor=header_enc),
    }


def test_every_registered_rule_is_implemented() -> None:
    assert set(BSP_RULE_IDS) == set(RULES)
    issue_rules = "R3227 R3203 R3217 R3223 R3102 R5416 R5411 R5412 R5404 R5403 R5417 R3061 R5205 R5206 R3029 R3030 R3031 R4201 R4220 R4221 R4222 R4223 R4225 R5621 R5620 R3208 R3228"
    assert set(issue_rules.split()) <= set(RULES)


def test_conformant_messages_pass(good) -> None:
    fs = check_message(good["full"], target="full.xml")
    assert {f.status.value for f in fs} <= {"pass", "skip", "n/a"}
    skipped = {f.check_id for f in fs if f.status.value == "n/a"}  # nothing of the kind in the message
    assert skipped == {"wssec.bsp-r5206", "wssec.bsp-r3208"}
    for f in fs:
        assert f.side.value == "soap" and f.target == "full.xml"
        if f.check_id.startswith("wssec.bsp-r"):
            rule = f.check_id.rsplit("-", 1)[1].upper()
            assert f"WS-I BSP 1.1 {rule}" in f.references
    assert st(check_message(good["ski"]), "R5206") == "pass"
    assert st(check_message(good["ut-encrypted"]), "R3208") == "pass"


def test_third_party_messages() -> None:
    fs = check_message((MSGS / "wsjs-valid-wss-resp.xml").read_bytes())
    assert {f.status.value for f in fs} <= {"pass", "skip", "n/a"}
    fs = check_message((MSGS / "signxml-soap12-request.xml").read_bytes())
    assert st(fs, "R5402") == "fail"  # KeyInfo holds an STR *and* X509Data (WSS4J output)
    assert st(fs, "R5417") == "pass" and st(fs, "R5404") == "pass"
    fs = check_message((MSGS / "wss4j-soap-fault.xml").read_bytes())
    assert st(fs, "R3227") == "n/a"  # no Security header: nothing to judge


def test_gcm_and_rsa15_are_warnings(good) -> None:
    fs = check_message(good["gcm"])
    assert st(fs, "R5620") == "warn"  # stronger than BSP 1.1, but outside it
    root = parse_xml(good["full"])
    root.find(".//xenc:EncryptedKey/xenc:EncryptionMethod", NS).set(
        "Algorithm", "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
    )
    assert st(check_message(etree.tostring(root)), "R5621") == "warn"


Mutation = Callable[[etree._Element], None]


def _sec(r: etree._Element) -> etree._Element:
    return r.find("s:Header/wsse:Security", NS)


def _dup(path: str) -> Mutation:
    def m(r: etree._Element) -> None:
        el = r.find(path, NS)
        el.addnext(copy.deepcopy(el))

    return m


def _set(path: str, attr: str, value: str | None) -> Mutation:
    def m(r: etree._Element) -> None:
        el = r.find(path, NS)
        if value is None:
            del el.attrib[attr]
        else:
            el.set(attr, value)

    return m


def _text(path: str, value: str) -> Mutation:
    def m(r: etree._Element) -> None:
        r.find(path, NS).text = value

    return m


def _remove(path: str) -> Mutation:
    def m(r: etree._Element) -> None:
        el = r.find(path, NS)
        el.getparent().remove(el)

    return m


def _add(path: str, tag: str) -> Mutation:
    def m(r: etree._Element) -> None:
        etree.SubElement(r.find(path, NS), tag)

    return m


def _swap_created_expires(r: etree._Element) -> None:
    ts = r.find(".//wsu:Timestamp", NS)
    created = ts.find("wsu:Created", NS)
    ts.remove(created)
    ts.append(created)


def _enveloping(r: etree._Element) -> None:
    sig = r.find(".//ds:Signature", NS)
    obj = etree.SubElement(sig, f"{{{DS_NS}}}Object", Id="obj-1")
    etree.SubElement(obj, "payload")
    sig.find("ds:SignedInfo/ds:Reference", NS).set("URI", "#obj-1")


def _bst_after_signature(r: etree._Element) -> None:
    sec = _sec(r)
    bst = sec.find("wsse:BinarySecurityToken", NS)
    sec.remove(bst)
    sec.append(bst)


def _ek_after_ed(r: etree._Element) -> None:
    sec = _sec(r)
    ek = sec.find("xenc:EncryptedKey", NS)
    sec.remove(ek)
    sec.append(ek)


def _ed_in_header(r: etree._Element) -> None:
    header = r.find("s:Header", NS)
    ed = etree.SubElement(header, f"{{{XENC_NS}}}EncryptedData")
    etree.SubElement(
        ed, f"{{{XENC_NS}}}EncryptionMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    )


T = ".//wsu:Timestamp"
REF = ".//ds:Signature/ds:SignedInfo/ds:Reference"
UT = ".//wsse:UsernameToken"
C14N_INCL = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

CASES: list[tuple[str, str, Mutation]] = [
    ("R3227", "full", _dup(T)),
    ("R3203", "full", _remove(f"{T}/wsu:Created")),
    ("R3203", "full", _dup(f"{T}/wsu:Created")),
    ("R3224", "full", _dup(f"{T}/wsu:Expires")),
    ("R3221", "full", _swap_created_expires),
    ("R3222", "full", _add(T, f"{{{WSU_NS}}}Other")),
    ("R3217", "full", _text(f"{T}/wsu:Created", "2026-11-29T10:00:00+02:00")),
    ("R3223", "full", _text(f"{T}/wsu:Expires", "2026-11-29 10:05:00")),
    ("R3102", "full", _enveloping),
    ("R5416", "full", _remove(f"{REF}/ds:Transforms")),
    ("R5411", "full", _remove(f"{REF}/ds:Transforms/ds:Transform")),
    ("R5412", "full", _set(f"{REF}/ds:Transforms/ds:Transform", "Algorithm", C14N_INCL)),
    (
        "R5423",
        "full",
        _set(f"{REF}/ds:Transforms/ds:Transform", "Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116"),
    ),
    ("R5404", "full", _set(".//ds:SignedInfo/ds:CanonicalizationMethod", "Algorithm", C14N_INCL)),
    ("R5403", "full", _add(".//ds:Signature", f"{{{DS_NS}}}Manifest")),
    ("R5401", "full", _add(".//ds:SignedInfo/ds:SignatureMethod", f"{{{DS_NS}}}HMACOutputLength")),
    ("R5402", "full", _add(".//ds:Signature/ds:KeyInfo", f"{{{DS_NS}}}KeyName")),
    ("R5417", "full", _remove(".//ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference")),
    ("R3061", "full", _dup(".//ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference")),
    ("R5205", "full", _bst_after_signature),
    (
        "R5206",
        "ski",
        _set(
            ".//wsse:KeyIdentifier",
            "ValueType",
            "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3",
        ),
    ),
    ("R3029", "full", _set(".//wsse:BinarySecurityToken", "EncodingType", None)),
    ("R3030", "full", _set(".//wsse:BinarySecurityToken", "EncodingType", "urn:hex")),
    ("R3031", "full", _set(".//wsse:BinarySecurityToken", "ValueType", None)),
    ("R4201", "full", _set(f"{UT}/wsse:Password", "Type", None)),
    ("R4222", "full", _dup(f"{UT}/wsse:Password")),
    ("R4223", "full", _dup(f"{UT}/wsu:Created")),
    ("R4225", "full", _dup(f"{UT}/wsse:Nonce")),
    ("R4220", "full", _set(f"{UT}/wsse:Nonce", "EncodingType", None)),
    ("R4221", "full", _set(f"{UT}/wsse:Nonce", "EncodingType", "urn:hex")),
    ("R5621", "full", _set(".//xenc:EncryptedKey/xenc:EncryptionMethod", "Algorithm", "urn:rsa-nonsense")),
    (
        "R5620",
        "full",
        _set(".//s:Body/xenc:EncryptedData/xenc:EncryptionMethod", "Algorithm", "urn:blowfish"),
    ),
    ("R5601", "full", _remove(".//s:Body/xenc:EncryptedData/xenc:EncryptionMethod")),
    ("R5603", "full", _remove(".//xenc:EncryptedKey/xenc:EncryptionMethod")),
    ("R3208", "ut-encrypted", _ek_after_ed),
    ("R3228", "full", _ed_in_header),
]


@pytest.mark.parametrize("rule,base,mutate", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fails_when_broken(good, rule: str, base: str, mutate: Mutation) -> None:
    assert st(check_message(good[base]), rule) == "pass"
    root = parse_xml(good[base])
    mutate(root)
    fs = check_message(etree.tostring(root))
    assert st(fs, rule) == "fail"
    f = next(f for f in fs if f.check_id == bsp_check_id(rule))
    assert f.evidence and f"WS-I BSP 1.1 {rule}" in f.references


def test_every_rule_has_a_failing_case() -> None:
    assert {c[0] for c in CASES} == set(RULES)


def test_structure_and_input_errors() -> None:
    two_bodies = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/><s:Body/></s:Envelope>'
    )
    fs = check_message(two_bodies)
    assert [(f.check_id, f.status.value) for f in fs] == [("wssec.bsp-message", "fail")]
    with pytest.raises(UnsafeXml):
        check_message((VECTORS / "defusedxml" / "xmltestdata" / "xmlbomb.xml").read_bytes())


def test_cli_message(apisec, good, tmp_path) -> None:
    ok = tmp_path / "ok.xml"
    ok.write_bytes(good["full"])
    r = apisec("soap", "check", "--message", str(ok), "--format", "json")
    assert r.exit_code == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    assert any(f["check_id"] == "wssec.bsp-r3227" and f["status"] == "pass" for f in doc["findings"])
    r = apisec("soap", "check", "--message", str(MSGS / "signxml-soap12-request.xml"), "--fail-on", "low")
    assert r.exit_code == 1 and "wssec.bsp-r5402" in r.stdout
    r = apisec("soap", "check", "--message", str(VECTORS / "defusedxml" / "xmltestdata" / "dtd.xml"))
    assert r.exit_code == 2 and "DOCTYPE" in r.stderr and "Traceback" not in r.stderr


def test_message_without_security_header_fails_its_own_check(apisec, good, tmp_path) -> None:
    """No wsse:Security at all: every BSP rule skips, so one check must fail (high)."""
    bare = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<m:Ping xmlns:m="urn:x"/></s:Body></s:Envelope>'
    )
    fs = {f.check_id: f for f in check_message(bare)}
    assert fs["wssec.no-security-header"].status.value == "fail"
    assert fs["wssec.no-security-header"].severity.value == "high"
    assert {f.check_id: f.status.value for f in check_message(good["full"])}[
        "wssec.no-security-header"
    ] == "pass"
    path = tmp_path / "bare.xml"
    path.write_bytes(bare)
    r = apisec("soap", "check", "--message", str(path), "--fail-on", "high")
    assert r.exit_code == 1 and "wssec.no-security-header" in r.stdout
