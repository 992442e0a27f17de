"""A real zeep client with wssec.zeep.WsSecurity against the sample service
over HTTPS on 127.0.0.1: signed+encrypted requests, signed responses
verified, and the responses the plugin must refuse (tampered, wrapped,
unsigned, unsigned faults)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.transports import Transport

from apisec_samples.soap_service import build_app, serve
from apisec_samples.soap_service.server import start_wsgi
from wssec import Signer, Verifier
from wssec.encryption import Encryptor
from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation
from wssec.safexml import parse_xml
from wssec.soap import WSSE_NS, envelope_parts
from wssec.verifier import UnsignedFault
from wssec.zeep import WsSecurity

QUOTE = "urn:apisec:samples:quote"


class Recorder:
    """WSGI wrapper that records wire bytes and can alter the signed response."""

    def __init__(self) -> None:
        self.app: Any = None
        self.requests: list[bytes] = []
        self.responses: list[bytes] = []
        self.alter: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            self.requests.append(data)
            import io

            environ["wsgi.input"] = io.BytesIO(data)
        captured: dict[str, Any] = {}

        def sr(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _b: None

        body = b"".join(self.app(environ, sr))
        if environ["REQUEST_METHOD"] == "POST":
            if self.alter is not None:
                body = self.alter(body)
            self.responses.append(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="module")
def secure(pki):
    rec = Recorder()
    h = start_wsgi(rec, path="/quote", tls_cert=str(pki.service.cert_path), tls_key=str(pki.service.key_path))
    rec.app = build_app("secure", pki, h.url)
    yield h, rec
    h.stop()


def session(pki) -> requests.Session:
    s = requests.Session()
    s.verify = str(pki.ca.cert_path)
    s.trust_env = False  # REQUESTS_CA_BUNDLE would override s.verify
    return s


def zeep_client(url: str, pki, wsse: Any) -> Client:
    return Client(url + "?wsdl", transport=Transport(session=session(pki)), wsse=wsse)


def test_from_wsdl_signed_encrypted_request_signed_response(secure, pki) -> None:
    h, rec = secure
    rec.alter = None
    wsdl = session(pki).get(h.wsdl_url).content
    wsse = WsSecurity.from_wsdl(wsdl, key=pki.client.key, cert=pki.client.cert, trust=[pki.ca.cert])
    assert wsse.signer is not None and wsse.encryptor is not None and wsse.verifier is not None
    client = zeep_client(h.url, pki, wsse)
    result = client.service.GetQuote(Symbol="ACME")
    assert (result.Symbol, str(result.Price), result.Currency) == ("ACME", "123.45", "EUR")
    # on the wire: the request Body is encrypted and the message signed
    wire = parse_xml(rec.requests[-1])
    _v, header, body = envelope_parts(wire)
    assert b"ACME" not in rec.requests[-1]
    assert etree.QName(body[0]).localname == "EncryptedData"
    sec = header.find(f"{{{WSSE_NS}}}Security")
    assert sec.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    assert sec.find("{http://www.w3.org/2001/04/xmlenc#}EncryptedKey") is not None
    # the response was signed by the service and verified by the plugin
    assert b"Signature" in rec.responses[-1]
    res = wsse.last_result
    assert set(res.signed_parts) >= {"Body", "Timestamp"}
    assert res.signer_certificate.subject.rfc4514_string() == "O=Compliance Lab,CN=service"


def test_explicit_objects_and_signed_fault(secure, pki) -> None:
    h, rec = secure
    rec.alter = None
    wsse = WsSecurity(
        signer=Signer(pki.client.key, pki.client.cert, digest_algorithm="sha512"),
        encryptor=Encryptor(pki.service.cert, key_identifier="ski"),
        verifier=Verifier(trust=[pki.ca.cert], require=("Body",)),
    )
    client = zeep_client(h.url, pki, wsse)
    assert client.service.GetQuote(Symbol="GLOBEX").Symbol == "GLOBEX"
    from zeep.exceptions import Fault

    with pytest.raises(Fault, match="Unknown symbol"):  # a *signed* fault is a real fault
        client.service.GetQuote(Symbol="NOPE")


def _tamper(body: bytes) -> bytes:
    return body.replace(b"123.45", b"0.01")


def _wrap(body: bytes) -> bytes:
    """Response XSW: the signed Body into a header wrapper, an evil Body in place."""
    root = parse_xml(body)
    _v, header, signed_body = envelope_parts(root)
    evil = copy.deepcopy(signed_body)
    for attr in list(evil.attrib):
        del evil.attrib[attr]
    evil.find(f".//{{{QUOTE}}}Price").text = "0.01"
    root.remove(signed_body)
    wrapper = etree.SubElement(header, "{urn:x}Wrapper")
    wrapper.append(signed_body)
    root.append(evil)
    return etree.tostring(root)


@pytest.mark.parametrize(
    "alter,error",
    [(_tamper, InvalidSignature), (_wrap, (PolicyViolation, InvalidSignature, MalformedMessage))],
)
def test_refuses_altered_responses(secure, pki, alter, error) -> None:
    h, rec = secure
    wsse = WsSecurity.from_wsdl(
        session(pki).get(h.wsdl_url).content, key=pki.client.key, cert=pki.client.cert, trust=[pki.ca.cert]
    )
    client = zeep_client(h.url, pki, wsse)
    rec.alter = alter
    try:
        with pytest.raises(error):
            client.service.GetQuote(Symbol="ACME")
    finally:
        rec.alter = None
    if alter is _wrap:
        # zeep's own verifier accepts the very same wrapped response
        from zeep.wsse.signature import verify_envelope

        verify_envelope(parse_xml(rec.responses[-1]), str(pki.service.cert_path))


def test_unsigned_responses_and_faults_refused(pki) -> None:
    h = serve("legacy", pki=pki)
    try:
        wsse = WsSecurity(
            signer=Signer(pki.client.key, pki.client.cert),
            verifier=Verifier(trust=[pki.ca.cert], require=("Body",)),
        )
        client = Client(h.wsdl_url, wsse=wsse)
        with pytest.raises(UnsignedFault) as exc:
            client.service.GetQuote(Symbol="NOPE")
        assert "Unknown symbol" in exc.value.reason
        with pytest.raises(InvalidSignature, match="not signed"):
            client.service.GetQuote(Symbol="ACME")
        # without a verifier the plugin only signs (and says so in its docs)
        plain = Client(h.wsdl_url, wsse=WsSecurity(signer=Signer(pki.client.key, pki.client.cert)))
        assert plain.service.GetQuote(Symbol="ACME").Symbol == "ACME"
    finally:
        h.stop()


def test_from_wsdl_needs_a_certificate_to_encrypt_to(pki) -> None:
    from apisec_samples.soap_service import wsdl_template

    text = wsdl_template("secure").replace("{{ADDRESS}}", "https://x.example/q")
    start = text.index("      <wsa10:EndpointReference>")
    end = text.index("      </wsa10:EndpointReference>") + len("      </wsa10:EndpointReference>")
    no_identity = (text[:start] + text[end:]).encode()
    with pytest.raises(ValueError, match="service_cert"):
        WsSecurity.from_wsdl(no_identity, key=pki.client.key, cert=pki.client.cert)
    w = WsSecurity.from_wsdl(
        no_identity, key=pki.client.key, cert=pki.client.cert, service_cert=pki.service.cert
    )
    assert w.encryptor is not None
    with pytest.raises(ValueError):
        WsSecurity(order="sign-whenever")


def test_expired_and_replayed_responses_refused(secure, pki) -> None:
    import datetime as dt

    from wssec.errors import Expired, ReplayDetected

    h, rec = secure
    wsse = WsSecurity.from_wsdl(
        session(pki).get(h.wsdl_url).content, key=pki.client.key, cert=pki.client.cert, trust=[pki.ca.cert]
    )
    client = zeep_client(h.url, pki, wsse)
    service_signer = Signer(pki.service.key, pki.service.cert)

    def stale(body: bytes) -> bytes:
        root = parse_xml(body)
        _v, header, _b = envelope_parts(root)
        header.remove(header.find(f"{{{WSSE_NS}}}Security"))
        service_signer.sign_tree(root, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        return etree.tostring(root)

    first: list[bytes] = []

    def replay(body: bytes) -> bytes:
        if not first:
            first.append(body)
        return first[0]

    try:
        rec.alter = stale
        with pytest.raises(Expired):
            client.service.GetQuote(Symbol="ACME")
        rec.alter = replay
        assert client.service.GetQuote(Symbol="ACME").Symbol == "ACME"
        with pytest.raises(ReplayDetected):
            client.service.GetQuote(Symbol="ACME")
    finally:
        rec.alter = None


@pytest.mark.parametrize("key_identifier", ["ski", "thumbprint", "issuer-serial"])
def test_key_identifiers_zeep_cannot_send(pki, key_identifier: str) -> None:
    """SKI/thumbprint/issuer-serial KeyInfo (zeep's own module only embeds the
    certificate): the service resolves the signer from the certificates it knows."""
    from apisec_samples.soap_service import render_wsdl
    from apisec_samples.soap_service.quote import make_quote_app
    from wssec.wsgi import SecurityMiddleware

    holder: dict[str, Any] = {}
    h = start_wsgi(lambda e, s: holder["app"](e, s), path="/quote")
    try:
        wsdl = render_wsdl("legacy", h.url)
        holder["app"] = SecurityMiddleware(
            make_quote_app(lambda _e: wsdl),
            verifier=Verifier(trust=[pki.ca.cert], certs=[pki.client.cert]),
            signer=Signer(pki.service.key, pki.service.cert, key_identifier=key_identifier),
        )
        wsse = WsSecurity(
            signer=Signer(pki.client.key, pki.client.cert, key_identifier=key_identifier),
            verifier=Verifier(trust=[pki.ca.cert], certs=[pki.service.cert], require=("Body", "Timestamp")),
        )
        assert Client(h.wsdl_url, wsse=wsse).service.GetQuote(Symbol="INITECH").Symbol == "INITECH"
        assert wsse.last_result.signatures[0].key_reference == key_identifier
    finally:
        h.stop()


def test_response_with_a_doctype_is_refused_even_though_zeep_parsed_it(pki) -> None:
    """zeep's own parser keeps DTDs by default (forbid_dtd=False) and tostring()
    drops the DOCTYPE, so the plugin must refuse it from the parsed tree."""
    from zeep.loader import parse_xml as zeep_parse_xml
    from zeep.settings import Settings

    from wssec.errors import UnsafeXml

    signed = Signer(pki.service.key, pki.service.cert).sign(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><r>ok</r></s:Body></s:Envelope>'
    )
    doctype = b"<!DOCTYPE s:Envelope [<!ELEMENT r ANY>]>"  # no entity: zeep forbids those itself
    hostile = (
        signed.replace(b"<s:Envelope", doctype + b"<s:Envelope", 1) if signed.startswith(b"<s:") else None
    )
    assert hostile is not None
    wsse = WsSecurity(verifier=Verifier(trust=[pki.ca.cert_path]))
    plain = zeep_parse_xml(signed, None, settings=Settings())
    assert wsse.verify(plain) is plain  # the same response without a DOCTYPE verifies
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        wsse.verify(zeep_parse_xml(hostile, None, settings=Settings()))
