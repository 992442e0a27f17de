"""node-soap (npm ``soap``) interop: what its security modes send verifies in
apisec, and altered messages are refused.

node-soap's ``WSSecurityCert`` signs through xml-crypto with
``[enveloped-signature, exc-c14n]`` on every Reference and an unqualified
``Id`` on the Body; apisec's Verifier accepts the enveloped transform where
it is a no-op (or applies it, where the target holds the Signature), refuses
it with ``strict_transforms=True``, and ``apisec soap check --message``
reports it as ``wssec.strict-transforms`` (warn).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from tests.interop.nodepeer import node_script
from wssec import InvalidSignature, PolicyViolation, Verifier, parse_xml
from wssec.checks import check_message
from wssec.soap import DS_NS, WSSE_NS, WSU_NS

pytestmark = pytest.mark.interop

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
B64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def envelope(soap_ns: str = SOAP11, symbol: str = "ACME") -> str:
    # node-soap inserts its Security header before "</soap:Header>", as its
    # client writes the envelope.
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header></soap:Header>'
        f'<soap:Body><q:getQuote xmlns:q="urn:quotes"><q:symbol>{symbol}</q:symbol></q:getQuote>'
        "</soap:Body></soap:Envelope>"
    )


def node_soap_sign(pki, mode: str = "cert", xml: str | None = None, **spec) -> bytes:
    spec = {
        "mode": mode,
        "xml": xml or envelope(),
        "key": str(pki.client.key_path),
        "cert": str(pki.client.cert_path),
        **spec,
    }
    return node_script("wssec_sign.js", spec)


def verifier(pki, **kw) -> Verifier:
    return Verifier(trust=[pki.ca.cert_path], replay_cache=None, **kw)


def transforms_of(msg: bytes) -> list[list[str]]:
    root = parse_xml(msg)
    return [
        [t.get("Algorithm") for t in ref.iter(f"{{{DS_NS}}}Transform")]
        for ref in root.iter(f"{{{DS_NS}}}Reference")
    ]


# ------------------------------------------------------------------ step 1: the enveloped transform


def test_node_soap_default_message_verifies(pki) -> None:
    msg = node_soap_sign(pki)
    # What node-soap sends, so the test notices if a new version changes it:
    assert transforms_of(msg) == [[ENVELOPED, EXC], [ENVELOPED, EXC]]
    root = parse_xml(msg)
    assert root.find(f"{{{SOAP11}}}Body").get("Id")  # unqualified Id, no wsu:Id
    result = verifier(pki).verify(msg)
    assert result.is_signed(result.body)
    assert set(result.signed_parts) == {"Body", "Timestamp"}
    assert [s.key_reference for s in result.signatures] == ["bst"]
    assert result.signer_certificate == pki.client.cert


def test_strict_transforms_refuses_node_soap(pki) -> None:
    with pytest.raises(PolicyViolation, match="strict_transforms"):
        verifier(pki, strict_transforms=True).verify(node_soap_sign(pki))


def test_check_message_reports_the_strict_profile(pki, tmp_path, apisec) -> None:
    msg = node_soap_sign(pki)
    fs = {f.check_id: f for f in check_message(msg)}
    strict = fs["wssec.strict-transforms"]
    assert strict.status.value == "warn" and "no-op" in strict.evidence
    assert fs["wssec.bsp-r5423"].status.value == "pass"  # BSP allows the enveloped transform
    # apisec's own signatures are the strict profile: pass
    from wssec import Signer

    own = Signer(pki.client.key_path, pki.client.cert_path).sign(envelope().encode())
    assert {f.check_id: f for f in check_message(own)}["wssec.strict-transforms"].status.value == "pass"
    # and the CLI shows it
    path = tmp_path / "node-soap.xml"
    path.write_bytes(msg)
    res = apisec("soap", "check", "--message", str(path), "--format", "json")
    doc = json.loads(res.stdout)
    got = {f["check_id"]: f["status"] for f in doc["findings"]}
    assert got["wssec.strict-transforms"] == "warn", res.stderr


def test_cli_verifies_node_soap_messages(pki, tmp_path, apisec) -> None:
    """The command from the issue report: `apisec soap verify` on what
    node-soap sends (it used to refuse it: "must have exactly one exc-c14n
    transform (BSP R5416), has 2")."""
    ca = str(pki.ca.cert_path)
    default = tmp_path / "default.xml"
    default.write_bytes(node_soap_sign(pki))
    r = apisec("soap", "verify", str(default), "--trust", ca)
    assert r.exit_code == 0 and "signed Body, Timestamp" in r.stdout, r.stderr
    r = apisec("soap", "verify", str(default), "--trust", ca, "--strict-transforms")
    assert r.exit_code == 1 and r.stderr.startswith("apisec: error:") and "--strict-transforms" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not r.stdout
    sha1 = tmp_path / "sha1.xml"
    sha1.write_bytes(node_soap_sign(pki, options={"signatureAlgorithm": RSA_SHA1, "digestAlgorithm": SHA1}))
    r = apisec("soap", "verify", str(sha1), "--trust", ca)
    assert r.exit_code == 1 and "--allow-sha1" in r.stderr, r.stderr
    r = apisec("soap", "verify", str(sha1), "--trust", ca, "--allow-sha1")
    assert r.exit_code == 0, r.stderr
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(default.read_bytes().replace(b">ACME<", b">EVIL<"))
    r = apisec("soap", "verify", str(tampered), "--trust", ca)
    assert r.exit_code == 1 and "digest of Body" in r.stderr


@pytest.mark.parametrize("where", ["body", "timestamp", "signed-info"])
def test_tampered_node_soap_message_refused(pki, where) -> None:
    root = parse_xml(node_soap_sign(pki))
    if where == "body":
        root.find(".//{urn:quotes}symbol").text = "EVIL"
    elif where == "timestamp":
        ts = root.find(f".//{{{WSU_NS}}}Timestamp/{{{WSU_NS}}}Expires")
        ts.text = "2099-01-01T00:00:00Z"
    else:
        root.find(f".//{{{DS_NS}}}Reference/{{{DS_NS}}}DigestValue").text = "A" * 43 + "="
    with pytest.raises(InvalidSignature):
        verifier(pki).verify(etree.tostring(root))


def test_node_soap_body_id_wrapping_refused(pki) -> None:
    """The classic XSW on node-soap's message: the signed Body (Id="_0") moved
    into the header, an evil Body in its place carrying the same Id."""
    root = parse_xml(node_soap_sign(pki))
    body = root.find(f"{{{SOAP11}}}Body")
    header = root.find(f"{{{SOAP11}}}Header")
    wrapper = etree.SubElement(header, "{urn:evil}wrapper")
    evil = etree.fromstring(etree.tostring(body).replace(b"ACME", b"EVIL"))  # noqa: S320 - own bytes
    root.replace(body, evil)
    wrapper.append(body)
    with pytest.raises(Exception, match="duplicate id"):
        verifier(pki).verify(etree.tostring(root))
    del evil.attrib["Id"]  # no id on the evil Body: the signature covers a node nobody reads
    with pytest.raises(InvalidSignature, match="Body is not covered"):
        verifier(pki).verify(etree.tostring(root))


def _security_with_bst(pki, soap_ns: str = SOAP11, text_inside: str = "\n  ") -> str:
    der = pki.client.cert_path.read_text()
    b64 = "".join(
        der.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "").split()
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header>'
        f'<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}">{text_inside}'
        f'<wsse:BinarySecurityToken wsu:Id="x509" EncodingType="{B64}" ValueType="{X509V3}">{b64}'
        f"</wsse:BinarySecurityToken>{text_inside}"
        f'<wsu:Timestamp wsu:Id="ts"><wsu:Created>{now}</wsu:Created></wsu:Timestamp>{text_inside}'
        "</wsse:Security></soap:Header>"
        '<soap:Body><q:getQuote xmlns:q="urn:quotes"><q:symbol>ACME</q:symbol></q:getQuote></soap:Body>'
        "</soap:Envelope>"
    )


@pytest.mark.parametrize("action", ["append", "prepend"])
@pytest.mark.parametrize("soap_ns", [SOAP11, SOAP12], ids=["soap11", "soap12"])
def test_enveloped_transform_applied_where_target_holds_the_signature(pki, action, soap_ns) -> None:
    """xml-crypto signs the Security header that holds the Signature, with the
    enveloped-signature transform: apisec computes the same digest (the
    Signature removed, the text around it kept) and refuses any change to
    the rest of the header."""
    msg = node_soap_sign(pki, "xmlcrypto-enveloping", xml=_security_with_bst(pki, soap_ns), action=action)
    sec_tag = f"{{{WSSE_NS}}}Security"
    result = verifier(pki, require=("Body",)).verify(msg)
    assert result.is_signed(result.body)
    assert any(e.tag == sec_tag for e in result.signed_elements)
    # the transform ran on a copy: the verified envelope still holds its Signature
    assert result.envelope.find(f".//{{{DS_NS}}}Signature") is not None
    # the Timestamp is inside a signed element but not itself referenced:
    # node identity says it is not "signed" (require Timestamp refuses)
    with pytest.raises(PolicyViolation, match="Timestamp is not covered"):
        verifier(pki).verify(msg)
    root = parse_xml(msg)
    root.find(f".//{{{WSU_NS}}}Created").text = "2000-01-01T00:00:00Z"
    with pytest.raises(InvalidSignature, match="Security"):
        verifier(pki, require=("Body",), max_age=10**10).verify(etree.tostring(root))
    with pytest.raises(PolicyViolation, match="strict_transforms"):
        verifier(pki, strict_transforms=True, require=("Body",)).verify(msg)


# ------------------------------------------------------------------ step 2: real node-soap clients over HTTPS

USERS = {"alice": "s3cret"}


class RecordingVerifier(Verifier):
    """The service's Verifier, remembering what it accepted or why it refused
    (the SOAP fault the client sees is deliberately opaque)."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.accepted: list = []
        self.refused: list[Exception] = []

    def verify(self, envelope, at=None):
        try:
            result = super().verify(envelope, at)
        except Exception as exc:
            self.refused.append(exc)
            raise
        self.accepted.append(result)
        return result


@pytest.fixture
def quote_service(pki):
    """Start the sample quote service (samples/soap_service: its WSDL, its
    quote app) over HTTPS with the PKI's service certificate, behind
    wssec.wsgi.SecurityMiddleware with the given Verifier settings; responses
    are signed with the service key.

    The sample's ``secure`` configuration also requires an encrypted Body;
    node-soap cannot encrypt (it has no XML-Enc support), so these services
    require what node-soap's modes can give: signatures and/or a
    UsernameToken."""
    from apisec_samples.soap_service import PATH, render_wsdl
    from apisec_samples.soap_service.quote import make_quote_app
    from apisec_samples.soap_service.server import start_wsgi
    from wssec import Signer
    from wssec.wsgi import SecurityMiddleware

    handles = []

    def start(**verifier_kw):
        holder = {}
        handle = start_wsgi(
            lambda env, start_response: holder["app"](env, start_response),
            path=PATH,
            tls_cert=str(pki.service.cert_path),
            tls_key=str(pki.service.key_path),
        )
        handles.append(handle)
        wsdl = render_wsdl("secure", handle.url, pki.service.cert)
        verifier = RecordingVerifier(trust=[pki.ca.cert], **verifier_kw)
        holder["app"] = SecurityMiddleware(
            make_quote_app(lambda _env: wsdl),
            verifier=verifier,
            signer=Signer(pki.service.key, pki.service.cert),
        )
        return handle, verifier

    yield start
    for h in handles:
        h.stop()


def node_soap_call(pki, handle, **spec) -> dict:
    """One GetQuote call by a real node-soap client (tests/node/soap_client.js)."""
    import os

    spec = {
        "wsdl": handle.wsdl_url,
        "key": str(pki.client.key_path),
        "cert": str(pki.client.cert_path),
        "serviceCert": str(pki.service.cert_path),
        **spec,
    }
    out = node_script(
        "soap_client.js", spec, env={**os.environ, "NODE_EXTRA_CA_CERTS": str(pki.ca.cert_path)}
    )
    return json.loads(out)


# (id, client spec, service Verifier settings, signed parts the service must see, username)
MODES = [
    ("cert", {"mode": "cert"}, {}, {"Body", "Timestamp"}, None),
    (
        "cert-no-timestamp",
        {"mode": "cert", "options": {"hasTimeStamp": False}},
        {"require": ("Body",)},
        {"Body"},
        None,
    ),
    (
        "cert-rsa-sha256-explicit",
        {"mode": "cert", "options": {"signatureAlgorithm": RSA_SHA256}},
        {},
        {"Body", "Timestamp"},
        None,
    ),
    (
        "cert-rsa-sha1-allowed",
        {"mode": "cert", "options": {"signatureAlgorithm": RSA_SHA1, "digestAlgorithm": SHA1}},
        {"allow_sha1": True},
        {"Body", "Timestamp"},
        None,
    ),
    (
        "cert-wsa-additional-references",
        {"mode": "cert", "wsa": True, "options": {"additionalReferences": ["wsa:To", "wsa:Action"]}},
        {"require": ("Body", "Timestamp", "To", "Action")},
        {
            "Body",
            "Timestamp",
            "{http://www.w3.org/2005/08/addressing}To",
            "{http://www.w3.org/2005/08/addressing}Action",
        },
        None,
    ),
    ("cert-soap12", {"mode": "cert", "soap12": True}, {}, {"Body", "Timestamp"}, None),
    (
        "ut-password-digest",
        {
            "mode": "ut",
            "username": "alice",
            "password": "s3cret",
            "utOptions": {"passwordType": "PasswordDigest"},
        },
        {"require": (), "users": USERS},
        set(),
        "alice",
    ),
    (
        "ut-password-text",
        {
            "mode": "ut",
            "username": "alice",
            "password": "s3cret",
            "utOptions": {"passwordType": "PasswordText"},
        },
        {"require": (), "users": USERS},
        set(),
        "alice",
    ),
    (
        "plus-cert",
        {
            "mode": "plus-cert",
            "username": "alice",
            "password": "s3cret",
            "utOptions": {"passwordType": "PasswordDigest", "hasTimeStamp": False},
        },
        {"users": USERS},
        {"Body", "Timestamp"},
        "alice",
    ),
    (
        "plus-cert-signed-token",
        {
            "mode": "plus-cert",
            "username": "alice",
            "password": "s3cret",
            "utOptions": {"passwordType": "PasswordText", "hasTimeStamp": False},
            "options": {"additionalReferences": ["wsse:UsernameToken"]},
        },
        {"users": USERS, "require": ("Body", "Timestamp", "UsernameToken")},
        {"Body", "Timestamp", "UsernameToken"},
        "alice",
    ),
]


@pytest.mark.parametrize("spec,verifier_kw,parts,username", [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_node_soap_client_gets_verified_signed_answer(
    pki, quote_service, spec, verifier_kw, parts, username
) -> None:
    handle, service = quote_service(**verifier_kw)
    res = node_soap_call(pki, handle, **spec)
    assert res["ok"], (res.get("error"), service.refused)
    assert res["price"] == "123.45"
    # the service verified the request: exactly these parts, this signer/user
    (accepted,) = service.accepted
    assert set(accepted.signed_parts) == parts
    if parts:
        assert accepted.signer_certificate == pki.client.cert
    assert accepted.username == username
    # the client checked the answer with xml-crypto, pinned to the service
    # certificate, and the signed references include the response's Body
    assert res["responseSignatureValid"] and res["responseSignedBody"], res.get("why")
    answer = Verifier(trust=[pki.ca.cert], replay_cache=None).verify(res["response"].encode())
    assert answer.signer_certificate == pki.service.cert and "Body" in answer.signed_parts


def test_node_soap_sha1_refused_without_allow_sha1(pki, quote_service) -> None:
    handle, service = quote_service()
    res = node_soap_call(
        pki, handle, mode="cert", options={"signatureAlgorithm": RSA_SHA1, "digestAlgorithm": SHA1}
    )
    assert not res["ok"] and res["status"] == 500 and "InvalidSecurity" in res["error"]
    assert not service.accepted
    assert isinstance(service.refused[0], PolicyViolation) and "SHA-1" in str(service.refused[0])


def test_tampered_node_soap_request_refused(pki, quote_service) -> None:
    """The Body altered after node-soap signed it (ACME -> EVIL): refused with a
    fault, the application never sees the request."""
    handle, service = quote_service()
    res = node_soap_call(pki, handle, mode="cert", tamper=True)
    assert not res["ok"] and res["status"] == 500 and "FailedCheck" in res["error"]
    assert "EVIL" in res["request"]
    assert not service.accepted
    assert isinstance(service.refused[0], InvalidSignature) and "digest of Body" in str(service.refused[0])


def test_node_soap_wrong_password_refused(pki, quote_service) -> None:
    handle, service = quote_service(require=(), users=USERS)
    res = node_soap_call(
        pki,
        handle,
        mode="ut",
        username="alice",
        password="wrong",
        utOptions={"passwordType": "PasswordDigest"},
    )
    assert not res["ok"] and "FailedAuthentication" in res["error"]
    assert not service.accepted


def test_plus_cert_with_two_timestamps_refused(pki, quote_service) -> None:
    """WSSecurityPlusCert with both halves' default hasTimeStamp puts two
    Timestamps in one Security header (WSSecurity's, unsigned, and
    WSSecurityCert's): ambiguous which one counts, refused (BSP R3227).
    Configure the WSSecurity half with hasTimeStamp: false."""
    handle, service = quote_service(users=USERS)
    res = node_soap_call(
        pki,
        handle,
        mode="plus-cert",
        username="alice",
        password="s3cret",
        utOptions={"passwordType": "PasswordDigest"},
    )
    assert not res["ok"] and not service.accepted
    assert "more than one Timestamp" in str(service.refused[0])


def test_cert_with_token_is_refused_because_node_soap_breaks_it(pki, quote_service) -> None:
    """soap 1.13.0's WSSecurityCertWithToken (with xml-crypto 6) sends a
    signature nobody can verify: it inserts the Signature into the envelope
    *without* the Ids xml-crypto added (Reference #_0 names no element: the
    Body carries no Id), and puts the SecurityTokenReference directly in
    ds:Signature instead of ds:KeyInfo.  apisec refuses it over HTTPS, and
    xml-crypto itself refuses it too; if a node-soap release fixes this, this
    test fails and the mode moves to MODES above."""
    handle, service = quote_service(users=USERS)
    res = node_soap_call(pki, handle, mode="cert-with-token", username="alice", password="s3cret")
    assert not res["ok"] and not service.accepted
    assert "SecurityTokenReference in ds:Signature" in str(service.refused[0])
    root = parse_xml(res["request"].encode())
    refs = [r.get("URI") for r in root.iter(f"{{{DS_NS}}}Reference")]
    body = root.find(f".//{{{SOAP11}}}Body")
    assert "#_0" in refs and body.get("Id") is None and body.get(f"{{{WSU_NS}}}Id") is None
    check = json.loads(
        node_script(
            "xmlcrypto_verify.js",
            {"xml": res["request"], "resolve": "pinned", "cert": str(pki.client.cert_path)},
        )
    )
    assert check["valid"] is False
