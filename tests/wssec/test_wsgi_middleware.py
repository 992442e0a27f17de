"""wssec.wsgi.SecurityMiddleware in front of a real WSGI server on 127.0.0.1:
what the application sees, the SOAP 1.1/1.2 faults clients get, the audit
lines operators get, and signed responses."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
import requests
from lxml import etree

from apisec_samples.soap_service import request_xml
from apisec_samples.soap_service.server import start_wsgi
from wssec import Signer, Verifier
from wssec.encryption import Encryptor
from wssec.safexml import parse_xml
from wssec.secure import secure
from wssec.soap import SOAP12_NS, envelope_parts
from wssec.wsgi import SecurityMiddleware

SOAP12_REQUEST = f"""<env:Envelope xmlns:env="{SOAP12_NS}" xmlns:q="urn:apisec:samples:quote">
<env:Header/><env:Body><q:GetQuote><q:Symbol>ACME</q:Symbol></q:GetQuote></env:Body></env:Envelope>""".encode()


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Reports what the middleware handed over."""
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"wsdl here"]
    result = environ["wssec.verified"]
    body = environ["wssec.body"]
    reread = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    info = {
        "signed_parts": list(result.signed_parts),
        "body_is_signed_node": result.is_signed(body),
        "reread_has_plaintext": b"ACME" in reread,
        "event_id": environ["wssec.event_id"],
    }
    version, _h, _b = envelope_parts(environ["wssec.envelope"])
    env = SOAP12_NS if version == "1.2" else "http://schemas.xmlsoap.org/soap/envelope/"
    out = (
        f'<s:Envelope xmlns:s="{env}"><s:Body><r:Info xmlns:r="urn:test">{json.dumps(info)}</r:Info>'
        "</s:Body></s:Envelope>"
    ).encode()
    ctype = "application/soap+xml" if version == "1.2" else "text/xml"
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(out)))])
    return [out]


class Broken:
    """A verifier with a bug: the middleware must fail closed and stay quiet."""

    def verify(self, envelope: Any) -> Any:
        raise RuntimeError("/srv/app/secret_internal.py line 42: boom")


@pytest.fixture(scope="module")
def servers(pki):
    verifier = Verifier(
        trust=[pki.ca.cert],
        decrypt_key=pki.service.key,
        users={"alice": "s3cret-pw"},
        require=("Body", "Timestamp"),
    )
    plain = start_wsgi(SecurityMiddleware(echo_app, verifier=verifier, max_bytes=64 * 1024))
    signed = start_wsgi(
        SecurityMiddleware(
            echo_app,
            verifier=Verifier(trust=[pki.ca.cert], users={"alice": "s3cret-pw"}),
            signer=Signer(pki.service.key, pki.service.cert),
        )
    )
    broken = start_wsgi(SecurityMiddleware(echo_app, verifier=Broken()))
    yield {"plain": plain, "signed": signed, "broken": broken}
    for h in (plain, signed, broken):
        h.stop()


def post(url: str, data: bytes, version: str = "1.1") -> requests.Response:
    ctype = "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"
    return requests.post(url, data=data, headers={"Content-Type": ctype}, timeout=10)


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger="wssec.audit")

    def lines() -> list[dict[str, Any]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "wssec.audit"]

    return lines


def signer(pki, **kw) -> Signer:
    return Signer(pki.client.key, pki.client.cert, username="alice", password="s3cret-pw", **kw)


def info_of(resp: requests.Response) -> dict[str, Any]:
    root = parse_xml(resp.content)
    return json.loads(root.find(".//{urn:test}Info").text)


def test_app_sees_the_verified_decrypted_message(servers, pki, audit) -> None:
    msg = secure(request_xml(), signer=signer(pki), encryptor=Encryptor(pki.service.cert))
    r = post(servers["plain"].url, msg)
    assert r.status_code == 200, r.text
    info = info_of(r)
    assert info["signed_parts"] == ["Body", "Timestamp"] or set(info["signed_parts"]) >= {"Body", "Timestamp"}
    assert info["body_is_signed_node"] is True and info["reread_has_plaintext"] is True
    lines = audit()
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "accepted" and line["event_id"] == info["event_id"]
    assert line["signer"] == "O=Compliance Lab,CN=client" and "Body" in line["signed"]
    assert line["remote"] == "127.0.0.1" and line["duration_ms"] >= 0
    assert "s3cret-pw" not in json.dumps(lines)


def _fault11(resp: requests.Response) -> tuple[str, str, str | None]:
    root = parse_xml(resp.content)
    fault = root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    event = fault.find(".//{urn:apisec:fault}EventId")
    return (
        fault.findtext("faultcode"),
        fault.findtext("faultstring"),
        event.text if event is not None else None,
    )


@pytest.mark.parametrize(
    "case,code,reason",
    [
        ("unsigned", "wsse:FailedCheck", "invalid-signature"),
        ("tampered", "wsse:FailedCheck", "invalid-signature"),
        ("expired", "wsse:MessageExpired", "expired"),
        ("untrusted", "wsse:InvalidSecurityToken", "untrusted-key"),
        ("bad-password", "wsse:FailedAuthentication", "authentication-failed"),
        ("doctype", "soap:Client", "unsafe-xml"),
        ("too-big", "wsse:InvalidSecurity", "malformed"),
    ],
)
def test_soap11_refusals(servers, pki, audit, case: str, code: str, reason: str) -> None:
    good = signer(pki).sign(request_xml())
    data = {
        "unsigned": request_xml(),
        "tampered": good.replace(b"ACME", b"EVIL"),
        "expired": _sign_at(signer(pki), dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)),
        "untrusted": Signer(pki.rogue.key, pki.rogue.cert, username="alice", password="s3cret-pw").sign(
            request_xml()
        ),
        "bad-password": Signer(pki.client.key, pki.client.cert, username="alice", password="guess").sign(
            request_xml()
        ),
        "doctype": b'<!DOCTYPE x [<!ENTITY e "y">]>' + request_xml().split(b"?>", 1)[1],
        "too-big": request_xml().replace(b"ACME", b"A" * 70000),
    }[case]
    r = post(servers["plain"].url, data)
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/xml")
    fcode, fstring, event_id = _fault11(r)
    assert fcode == code
    # no internal detail: canonical WSS reasons only, never the verifier's message
    assert "Traceback" not in r.text and "wssec." not in r.text and ".py" not in r.text
    assert fstring in {
        "The signature or decryption was invalid",
        "The message has expired",
        "An invalid security token was provided",
        "The security token could not be authenticated or authorized",
        "The message could not be processed",
        "An error was discovered processing the <wsse:Security> header",
    }
    lines = audit()
    assert len(lines) == 1 and lines[0]["event"] == "refused" and lines[0]["reason"] == reason
    assert lines[0]["event_id"] == event_id
    assert "s3cret-pw" not in json.dumps(lines) and "guess" not in json.dumps(lines)


def _sign_at(s: Signer, when: dt.datetime) -> bytes:
    root = parse_xml(request_xml())
    s.sign_tree(root, now=when)
    return etree.tostring(root)


def test_replay_is_its_own_event(servers, pki, audit) -> None:
    msg = signer(pki).sign(request_xml())
    assert post(servers["plain"].url, msg).status_code == 200
    r = post(servers["plain"].url, msg)
    assert r.status_code == 500 and _fault11(r)[0] == "wsse:InvalidSecurity"
    assert [line["event"] for line in audit()] == ["accepted", "replay"]


def test_soap12_fault_shape(servers, pki) -> None:
    msg = signer(pki).sign(SOAP12_REQUEST).replace(b"ACME", b"EVIL")
    r = post(servers["plain"].url, msg, version="1.2")
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/soap+xml")
    root = parse_xml(r.content)
    ns = {"env": SOAP12_NS}
    assert root.findtext("env:Body/env:Fault/env:Code/env:Value", namespaces=ns) == "env:Sender"
    assert (
        root.findtext("env:Body/env:Fault/env:Code/env:Subcode/env:Value", namespaces=ns)
        == "wsse:FailedCheck"
    )
    text = root.find("env:Body/env:Fault/env:Reason/env:Text", namespaces=ns)
    assert text.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    good = signer(pki).sign(SOAP12_REQUEST)
    r = post(servers["plain"].url, good, version="1.2")
    assert r.status_code == 200 and info_of(r)["body_is_signed_node"] is True


def test_signed_responses(servers, pki) -> None:
    r = post(servers["signed"].url, signer(pki).sign(request_xml()))
    assert r.status_code == 200
    res = Verifier(trust=[pki.ca.cert], require=("Body", "Timestamp")).verify(r.content)
    assert res.signer_certificate.subject.rfc4514_string() == "O=Compliance Lab,CN=service"
    assert int(r.headers["Content-Length"]) == len(r.content)


def test_broken_verifier_fails_closed_quietly(servers, pki, audit) -> None:
    r = post(servers["broken"].url, signer(pki).sign(request_xml()))
    assert r.status_code == 500
    assert "boom" not in r.text and "secret_internal" not in r.text
    assert _fault11(r)[0] == "soap:Server"
    assert audit()[0]["event"] == "error" and audit()[0]["reason"] == "RuntimeError"


def test_get_passes_through_and_verifier_required(servers) -> None:
    r = requests.get(servers["plain"].url + "?wsdl", timeout=10)
    assert r.status_code == 200 and r.text == "wsdl here"
    with pytest.raises(ValueError, match="verifier"):
        SecurityMiddleware(echo_app, verifier=None)


class _ZeepTimestamp:
    """zeep plugin adding a wsu:Timestamp (zeep's BinarySignature signs it when present)."""

    def apply(self, envelope: Any, headers: Any) -> Any:
        from zeep.wsse.utils import WSU, get_security_header

        now = dt.datetime.now(dt.UTC)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        get_security_header(envelope).append(
            WSU.Timestamp(
                WSU.Created(now.strftime(fmt)), WSU.Expires((now + dt.timedelta(minutes=5)).strftime(fmt))
            )
        )
        return envelope, headers


class _SignOnly:
    """zeep's own BinarySignature (xmlsec) for requests; responses unchecked."""

    def __init__(self, *plugins: Any) -> None:
        self.plugins = plugins

    def apply(self, envelope: Any, headers: Any) -> Any:
        for p in self.plugins:
            envelope, headers = p.apply(envelope, headers)
        return envelope, headers

    def verify(self, envelope: Any) -> Any:
        return envelope


@pytest.mark.parametrize("sha256", [True, False])
def test_zeeps_own_xmlsec_signature_verified(pki, sha256: bool) -> None:
    """Interop with another real signer: zeep.wsse.signature.BinarySignature
    (python-xmlsec).  RSA-SHA256 is accepted; zeep's RSA-SHA1 default is
    refused as the Verifier's policy says."""
    import xmlsec
    from zeep import Client
    from zeep.exceptions import Fault
    from zeep.wsse.signature import BinarySignature

    from apisec_samples.soap_service import render_wsdl
    from apisec_samples.soap_service.quote import make_quote_app

    holder: dict[str, Any] = {}
    h = start_wsgi(lambda e, s: holder["app"](e, s), path="/quote")
    try:
        wsdl = render_wsdl("legacy", h.url)
        holder["app"] = SecurityMiddleware(
            make_quote_app(lambda _e: wsdl), verifier=Verifier(trust=[pki.ca.cert])
        )
        algs = (
            {"signature_method": xmlsec.Transform.RSA_SHA256, "digest_method": xmlsec.Transform.SHA256}
            if sha256
            else {}
        )
        bs = BinarySignature(str(pki.client.key_path), str(pki.client.cert_path), **algs)
        client = Client(h.wsdl_url, wsse=_SignOnly(_ZeepTimestamp(), bs))
        if sha256:
            assert client.service.GetQuote(Symbol="ACME").Symbol == "ACME"
        else:
            with pytest.raises(Fault):
                client.service.GetQuote(Symbol="ACME")
    finally:
        h.stop()


def test_separate_decryptor_and_write_callable(pki) -> None:
    """decryptor= for setups whose verifier does not decrypt; apps that use the
    legacy write() callable still get their responses signed."""
    from wssec.encryption import Decryptor

    def writer_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/xml")])
        plain = b"ACME" in environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        write(
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            + (b"<ok/>" if plain else b"<encrypted/>")
            + b"</s:Body></s:Envelope>"
        )
        return []

    mw = SecurityMiddleware(
        writer_app,
        verifier=Verifier(trust=[pki.ca.cert]),
        decryptor=Decryptor(pki.service.key, pki.service.cert),
        signer=Signer(pki.service.key, pki.service.cert),
    )
    h = start_wsgi(mw)
    try:
        plain_signer = Signer(pki.client.key, pki.client.cert)
        msg = secure(request_xml(), signer=plain_signer, encryptor=Encryptor(pki.service.cert))
        r = post(h.url, msg)
        assert r.status_code == 200, r.text
        res = Verifier(trust=[pki.ca.cert]).verify(r.content)
        assert res.body.find("ok") is not None
    finally:
        h.stop()


def test_accepted_events_reach_handlers_without_logging_config(servers, pki) -> None:
    """With the root logger at its default WARNING, a handler on the audit logger
    still receives the INFO "accepted" lines."""
    got: list[str] = []

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            got.append(record.getMessage())

    log = logging.getLogger("wssec.audit")
    h = Sink()
    log.addHandler(h)
    try:
        assert post(servers["plain"].url, signer(pki).sign(request_xml())).status_code == 200
    finally:
        log.removeHandler(h)
    assert [json.loads(x)["event"] for x in got] == ["accepted"]
