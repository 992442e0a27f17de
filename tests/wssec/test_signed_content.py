"""What a caller reads from a verified message is what was digested
(comments inside signed content), and the SOAP envelope structure rules
(SOAP 1.1 children of the Envelope, SOAP 1.2 ultimateReceiver role)."""

from __future__ import annotations

import copy

import pytest
import requests
from lxml import etree

from apisec_samples.soap_service.server import start_wsgi
from wssec import Signer, Verifier
from wssec.errors import MalformedMessage
from wssec.safexml import parse_xml
from wssec.soap import SOAP11_NS, SOAP12_NS, ULTIMATE_RECEIVER, WSSE_NS
from wssec.wsgi import SecurityMiddleware

ENVELOPE11 = (
    f'<soap:Envelope xmlns:soap="{SOAP11_NS}"><soap:Header/>'
    '<soap:Body><m:Pay xmlns:m="urn:t"><m:to>acct-victim.attacker</m:to><m:amount>10</m:amount></m:Pay>'
    "</soap:Body></soap:Envelope>"
).encode()
ENVELOPE12 = ENVELOPE11.replace(SOAP11_NS.encode(), SOAP12_NS.encode())
TO = "{urn:t}to"


def _with_comment(message: bytes) -> bytes:
    """``acct-victim<!---->.attacker``: exc-c14n (no comments) digests it as before."""
    root = parse_xml(message)
    to = root.find(f".//{TO}")
    to.text = "acct-victim"
    comment = etree.Comment("")
    comment.tail = ".attacker"
    to.append(comment)
    out = etree.tostring(root)
    assert b"acct-victim<!---->.attacker" in out
    return out


@pytest.fixture
def signed(pki) -> bytes:
    return Signer(pki.client.key, pki.client.cert).sign(ENVELOPE11)


def test_comment_in_signed_content_is_not_what_the_caller_reads(pki, signed) -> None:
    result = Verifier(trust=[pki.ca.cert]).verify(_with_comment(signed))
    to = result.body.find(f".//{TO}")
    assert to.text == "acct-victim.attacker"  # exactly the digested text
    assert not list(result.body.iter(etree.Comment))
    assert b"<!--" not in etree.tostring(result.envelope)


def test_positive_control_without_comment(pki, signed) -> None:
    result = Verifier(trust=[pki.ca.cert]).verify(signed)
    assert result.body.find(f".//{TO}").text == "acct-victim.attacker"


def test_comments_kept_text_order_preserved(pki) -> None:
    """Several comments, before elements and after text: only comments go."""
    msg = Signer(pki.client.key, pki.client.cert).sign(ENVELOPE11)
    root = parse_xml(msg)
    pay = root.find(".//{urn:t}Pay")
    pay.insert(0, etree.Comment("a"))  # first child, no text around it
    pay.find(TO).addnext(etree.Comment("between"))  # between two elements
    amount = pay.find("{urn:t}amount")
    amount.text = "1"
    amount.append(etree.Comment("b"))  # splits "10"
    amount[0].tail = "0"
    result = Verifier(trust=[pki.ca.cert], require=("Body",)).verify(etree.tostring(root))
    pay = result.body.find(".//{urn:t}Pay")
    assert [c.tag for c in pay] == [TO, "{urn:t}amount"]
    assert pay.find("{urn:t}amount").text == "10"
    assert pay.text is None and pay.find(TO).tail is None


def test_comment_stripped_behind_the_middleware(pki, signed) -> None:
    seen: list[str] = []

    def app(environ, start_response):
        seen.append(environ["wssec.body"].find(f".//{TO}").text)
        seen.append(environ["wsgi.input"].read().decode())
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<ok/>"]

    server = start_wsgi(SecurityMiddleware(app, verifier=Verifier(trust=[pki.ca.cert])))
    try:
        r = requests.post(
            server.url, data=_with_comment(signed), headers={"Content-Type": "text/xml"}, timeout=10
        )
        assert r.status_code == 200, r.text
    finally:
        server.stop()
    assert seen[0] == "acct-victim.attacker"
    assert "<!--" not in seen[1] and "acct-victim.attacker" in seen[1]


# ------------------------------------------------------------------ SOAP structure


@pytest.mark.parametrize("where", ["between-header-and-body", "before-header", "after-body"])
def test_soap11_extra_envelope_child_refused(pki, signed, where) -> None:
    root = parse_xml(signed)
    extra = etree.Element("{urn:evil}Extra")
    header, body = root[0], root[1]
    {
        "between-header-and-body": header.addnext,
        "before-header": header.addprevious,
        "after-body": body.addnext,
    }[where](extra)
    with pytest.raises(MalformedMessage, match="unexpected element Extra"):
        Verifier(trust=[pki.ca.cert]).verify(etree.tostring(root))


def _soap12_with_role(pki, role: str | None) -> bytes:
    root = parse_xml(Signer(pki.client.key, pki.client.cert).sign(ENVELOPE12))
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    if role is not None:
        sec.set(f"{{{SOAP12_NS}}}role", role)
    return etree.tostring(root)


def test_soap12_ultimate_receiver_role_is_processed(pki) -> None:
    msg = _soap12_with_role(pki, ULTIMATE_RECEIVER)
    result = Verifier(trust=[pki.ca.cert]).verify(msg)
    assert set(result.signed_parts) >= {"Body", "Timestamp"}
    # and naming the role explicitly selects the same header
    assert Verifier(trust=[pki.ca.cert], actor=ULTIMATE_RECEIVER).verify(msg).signed_parts


def test_soap12_other_role_is_not_the_ultimate_receivers(pki) -> None:
    msg = _soap12_with_role(pki, "urn:some-intermediary")
    with pytest.raises(Exception, match="not signed"):
        Verifier(trust=[pki.ca.cert]).verify(msg)


def test_soap12_two_headers_for_the_ultimate_receiver_refused(pki) -> None:
    root = parse_xml(_soap12_with_role(pki, None))
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    twin = copy.deepcopy(sec)
    for child in list(twin):
        twin.remove(child)
    twin.set(f"{{{SOAP12_NS}}}role", ULTIMATE_RECEIVER)
    sec.addnext(twin)
    with pytest.raises(MalformedMessage, match="more than one wsse:Security"):
        Verifier(trust=[pki.ca.cert]).verify(etree.tostring(root))
