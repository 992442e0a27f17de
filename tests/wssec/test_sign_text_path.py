"""Signer.sign(bytes) writes the common header shape as text (the fast
path); it must produce exactly what the tree path (sign_tree) produces, and
verify, whatever prefixes the message already binds."""

from __future__ import annotations

import datetime as dt
import itertools
import types

import pytest
from lxml import etree

import wssec.signer as signer_mod
from wssec import Signer, Verifier, parse_xml
from wssec.soap import DS_NS, WSSE_NS, WSU_NS

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
BODY = '<m:op xmlns:m="urn:m"><m:v xsi:type="t:Money">5 &amp; &lt;6&gt; caf\u00e9</m:v></m:op>'


def envelope(ns: str = SOAP11, extra: str = "", header: str | None = "", body_attrs: str = "") -> bytes:
    head = "" if header is None else f"<soap:Header>{header}</soap:Header>"
    return (
        f'<soap:Envelope xmlns:soap="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:t="urn:types"{extra}>{head}<soap:Body{body_attrs}>{BODY}</soap:Body></soap:Envelope>'
    ).encode()


MESSAGES = {
    "soap11": envelope(),
    "soap12": envelope(SOAP12),
    "no-header": envelope(header=None),
    "other-header": envelope(header='<app:Tenant xmlns:app="urn:app">acme</app:Tenant>'),
    "ds-bound": envelope(extra=f' xmlns:ds="{DS_NS}"'),
    "dsig-prefix": envelope(extra=f' xmlns:dsig="{DS_NS}"'),
    "ds-other": envelope(extra=' xmlns:ds="urn:not-dsig"'),
    "wsse-as-o": envelope(extra=f' xmlns:o="{WSSE_NS}" xmlns:u="{WSU_NS}"'),
    "wsu-other": envelope(extra=' xmlns:wsu="urn:not-wsu"'),
    "wsse-other": envelope(extra=' xmlns:wsse="urn:not-wsse"'),
    "body-id": envelope(body_attrs=f' xmlns:wsu="{WSU_NS}" wsu:Id="body-1"'),
    "body-plain-id": envelope(body_attrs=' Id="b_2"'),
    "default-ns": (
        f'<Envelope xmlns="{SOAP11}"><Header/><Body><op xmlns="urn:m">1</op></Body></Envelope>'.encode()
    ),
}


NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def deterministic(monkeypatch):
    """Same ids and times for both paths (RSA PKCS#1 v1.5 is deterministic)."""

    def install() -> None:
        counter = itertools.count()
        monkeypatch.setattr(signer_mod.os, "urandom", lambda n: next(counter).to_bytes(n, "big"))
        fixed = NOW

        class Frozen(dt.datetime):
            @classmethod
            def now(cls, tz=None):  # noqa: ANN001, ANN206
                return fixed

        monkeypatch.setattr(
            signer_mod, "dt", types.SimpleNamespace(datetime=Frozen, timedelta=dt.timedelta, UTC=dt.UTC)
        )

    return install


@pytest.mark.parametrize("name", sorted(MESSAGES))
@pytest.mark.parametrize("actor", [None, 'urn:next?a=1&b="2"'])
@pytest.mark.parametrize(
    ("kind", "parts"),
    [
        ("bst", ("Body", "Timestamp")),
        ("bst", ("Timestamp", "Body", "BinarySecurityToken")),
        ("ski", ("Body", "Timestamp")),  # no BST is sent with a SKI reference, so none to sign
    ],
)
def test_text_path_equals_tree_path(
    pki, deterministic, name: str, actor: str | None, kind: str, parts: tuple[str, ...]
) -> None:
    msg = MESSAGES[name]
    signer = Signer(pki.client.key_path, pki.client.cert_path, key_identifier=kind, sign=parts, actor=actor)
    assert signer._text_path
    deterministic()
    text = signer.sign(msg)
    deterministic()
    root = parse_xml(msg)
    signer.sign_tree(root)
    tree = etree.tostring(root)
    if name not in ("dsig-prefix", "wsse-as-o"):  # there the tree path reuses the message's prefixes
        assert text == tree
    verifier = Verifier(
        trust=[pki.ca.cert_path], certs=[pki.client.cert_path], replay_cache=None, actor=actor
    )
    for signed in (text, tree):
        result = verifier.verify(signed, at=NOW)
        assert set(result.signed_parts) >= {"Body", "Timestamp"}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_text_path_verifies_with_actor_and_ec(pki, name: str) -> None:
    signer = Signer(pki.ec_client.key_path, pki.ec_client.cert_path, signature_algorithm="ecdsa-sha256")
    signed = signer.sign(MESSAGES[name])
    assert Verifier(trust=[pki.ca.cert_path]).verify(signed).signed_parts
    actor = Signer(pki.client.key_path, pki.client.cert_path, actor="urn:next")
    signed = actor.sign(MESSAGES[name])
    assert Verifier(trust=[pki.ca.cert_path], actor="urn:next").verify(signed).signed_parts


def test_unusual_body_id_takes_the_tree_path(pki) -> None:
    msg = envelope(body_attrs=' Id="a&amp;b"')
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(msg)
    assert b'URI="#a&amp;b"' in signed  # escaped by lxml (our verifier refuses such ids anyway)


def test_existing_security_header_takes_the_tree_path(pki) -> None:
    msg = envelope(header=f'<wsse:Security xmlns:wsse="{WSSE_NS}"/>')
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(msg)
    (sec,) = parse_xml(signed).iter(f"{{{WSSE_NS}}}Security")
    assert [etree.QName(c).localname for c in sec] == ["Timestamp", "BinarySecurityToken", "Signature"]
    assert Verifier(trust=[pki.ca.cert_path]).verify(signed).signed_parts


@pytest.mark.parametrize(
    "doc",
    [
        b"<a>" * 129 + b"x" + b"</a>" * 129,
        b"<!--" + b"</" * 1000 + b"-->" + b"<a>" * 129 + b"x" + b"</a>" * 129,
        b"<a>" * 129 + b"<![CDATA[" + b"</" * 500 + b"]]>" + b"</a>" * 129,
        b'<?xml version="1.0" encoding="UTF-7"?><a>' + b"+ADw-a>" * 130 + b"x" + b"+ADw-/a>" * 130 + b"</a>",
        ("<a>" * 129 + "x" + "</a>" * 129).encode("utf-16"),
    ],
)
def test_depth_refusal_survives_the_start_tag_shortcut(doc: bytes) -> None:
    """parse_xml skips its depth XPath when too few start tags exist; "</"
    in comments/CDATA or an encoding hiding "<" must not fool that count."""
    from wssec.errors import UnsafeXml

    with pytest.raises(UnsafeXml, match="nested deeper"):
        parse_xml(doc)
