"""Replay identity does not depend on how a signature is encoded.

ECDSA signatures are malleable: if (r, s) verifies, so does (r, n - s).  A
replay cache keyed on the SignatureValue bytes accepts the twin as a new
message; apisec keys it on the canonical SignedInfo and the signer's key.
"""

from __future__ import annotations

import base64

import pytest
import requests
from lxml import etree

from apisec_samples.soap_service.server import start_wsgi
from wssec import Signer, Verifier
from wssec.errors import ReplayDetected
from wssec.safexml import parse_xml
from wssec.wsgi import SecurityMiddleware

DS = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Pay xmlns:m="urn:t"><m:to>bob</m:to></m:Pay></soap:Body></soap:Envelope>'
)
# group orders
ORDERS = {
    256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def _twin(message: bytes) -> bytes:
    """The same message with the ECDSA SignatureValue (r, s) -> (r, n - s)."""
    root = parse_xml(message)
    sv = root.find(f".//{{{DS}}}SignatureValue")
    raw = base64.b64decode("".join(sv.text.split()))
    size = len(raw) // 2
    r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    n = ORDERS[size * 8]
    sv.text = base64.b64encode(r.to_bytes(size, "big") + (n - s).to_bytes(size, "big")).decode()
    out = etree.tostring(root)
    assert out != message
    return out


@pytest.fixture
def ec_message(pki) -> bytes:
    return Signer(pki.ec_client.key, pki.ec_client.cert, signature_algorithm="ecdsa-sha256").sign(ENVELOPE)


def test_malleated_ecdsa_signature_still_verifies_once(pki, ec_message) -> None:
    """Both encodings are valid signatures (fresh verifiers accept each)..."""
    twin = _twin(ec_message)
    assert Verifier(trust=[pki.ca.cert]).verify(ec_message).signed_parts
    assert Verifier(trust=[pki.ca.cert]).verify(twin).signed_parts


@pytest.mark.parametrize("order", ["original-first", "twin-first"])
def test_malleated_twin_is_a_replay(pki, ec_message, order) -> None:
    """...but one Verifier accepts the message once, whatever the encoding."""
    first, second = (ec_message, _twin(ec_message))
    if order == "twin-first":
        first, second = second, first
    verifier = Verifier(trust=[pki.ca.cert])
    verifier.verify(first)
    with pytest.raises(ReplayDetected):
        verifier.verify(second)


def test_different_messages_are_not_replays(pki) -> None:
    """Positive control: two signatures over different content are two messages."""
    signer = Signer(pki.ec_client.key, pki.ec_client.cert, signature_algorithm="ecdsa-sha256")
    verifier = Verifier(trust=[pki.ca.cert])
    verifier.verify(signer.sign(ENVELOPE))
    verifier.verify(signer.sign(ENVELOPE.replace(b"bob", b"carol")))


def test_malleated_twin_refused_behind_the_middleware(pki, ec_message) -> None:
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<ok/>"]

    server = start_wsgi(SecurityMiddleware(app, verifier=Verifier(trust=[pki.ca.cert])))
    try:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        first = requests.post(server.url, data=ec_message, headers=headers, timeout=10)
        assert first.status_code == 200, first.text
        second = requests.post(server.url, data=_twin(ec_message), headers=headers, timeout=10)
        assert second.status_code == 500 and b"InvalidSecurity" in second.content
    finally:
        server.stop()
