"""wssec.Verifier: third-party messages, policy by node identity, tokens,
time, replay, trust, and the ``apisec soap sign|verify`` commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import VECTORS
from wssec import (
    AuthenticationFailed,
    Expired,
    InvalidSignature,
    MalformedMessage,
    PolicyViolation,
    ReplayDetected,
    Signer,
    UntrustedKey,
    Verifier,
    parse_xml,
    sign,
    verify,
)
from wssec.replay import MemoryReplayCache
from wssec.soap import WSSE_NS, WSU_NS
from wssec.verifier import NotSigned

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
MSG = (
    f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Header/><soap:Body>'
    '<m:op xmlns:m="urn:m"><m:v>5</m:v></m:op></soap:Body></soap:Envelope>'
).encode()
V = VECTORS / "wssec-signing"


# -- third-party messages -------------------------------------------------------------


def test_wcf_message_via_ws_js_vector() -> None:
    msg = (V / "wsjs-valid-wss-resp.xml").read_bytes()
    at = dt.datetime(2012, 5, 25, 11, 38, tzinfo=dt.UTC)
    trust = [V / "wsjs-server_public.pem"]
    result = Verifier(trust=trust, allow_sha1=True, min_rsa_bits=1024).verify(msg, at=at)
    assert result.signed_parts == ("Body", "Timestamp")
    assert result.signatures[0].key_reference == "issuer-serial"
    with pytest.raises(PolicyViolation, match="SHA-1"):
        Verifier(trust=trust).verify(msg, at=at)
    with pytest.raises(PolicyViolation, match="1024 bits"):
        Verifier(trust=trust, allow_sha1=True).verify(msg, at=at)
    bad = (V / "wsjs-invalid-wss-resp-changed-content.xml").read_bytes()
    with pytest.raises(InvalidSignature, match="digest of Body"):
        Verifier(trust=trust, allow_sha1=True, min_rsa_bits=1024).verify(
            bad, at=dt.datetime(2012, 5, 21, 19, 22, tzinfo=dt.UTC)
        )


def test_soap12_request_with_prefix_list_vector() -> None:
    msg = (V / "ekasa-soap12-request.xml").read_bytes()
    at = dt.datetime(2019, 2, 1, tzinfo=dt.UTC)
    result = Verifier(trust=[V / "ekasa-ca.pem"], require=("Body",)).verify(msg, at=at)
    assert result.signed_parts == ("Body",) and result.soap_version == "1.2"
    with pytest.raises(PolicyViolation, match="Timestamp"):
        Verifier(trust=[V / "ekasa-ca.pem"]).verify(msg, at=at)
    with pytest.raises(UntrustedKey, match="expired"):
        Verifier(trust=[V / "ekasa-ca.pem"], require=("Body",)).verify(msg)


# -- node identity -------------------------------------------------------------------


def test_signed_elements_are_the_envelope_nodes(pki) -> None:
    result = verify(sign(MSG, key=pki.client.key_path, cert=pki.client.cert_path), trust=[pki.ca.cert_path])
    body = result.envelope.find(f"{{{SOAP11}}}Body")
    ts = result.envelope.find(f".//{{{WSU_NS}}}Timestamp")
    assert result.is_signed(body) and result.is_signed(ts) and result.body is body
    assert not result.is_signed(body[0].__copy__())
    assert len(result.signed_elements) == 2


def test_require_nothing_accepts_unsigned(pki) -> None:
    result = Verifier(trust=[pki.ca.cert_path], require=()).verify(MSG)
    assert result.signed_parts == () and result.signer_certificate is None


def test_require_usernametoken_signed(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, username="a", password="p").sign(MSG)
    v = Verifier(trust=[pki.ca.cert_path], users={"a": "p"}, require=("Body", "UsernameToken"))
    with pytest.raises(NotSigned, match="UsernameToken is not covered"):
        v.verify(signed)
    signed = Signer(
        pki.client.key_path, pki.client.cert_path, username="a", password="p", sign=("Body", "UsernameToken")
    ).sign(MSG)
    assert v.verify(signed).username == "a"


def test_timestamp_required_but_absent(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, timestamp=0, sign=("Body",)).sign(MSG)
    with pytest.raises(PolicyViolation, match="Timestamp is required"):
        Verifier(trust=[pki.ca.cert_path]).verify(signed)
    assert Verifier(trust=[pki.ca.cert_path], require=("Body",)).verify(signed)


def test_soap12(pki) -> None:
    msg = MSG.replace(SOAP11.encode(), SOAP12.encode())
    result = Verifier(trust=[pki.ca.cert_path]).verify(
        Signer(pki.client.key_path, pki.client.cert_path).sign(msg)
    )
    assert result.soap_version == "1.2"


# -- time ------------------------------------------------------------------------------


def test_timestamp_window(pki) -> None:
    now = dt.datetime.now(dt.UTC)
    signed = Signer(pki.client.key_path, pki.client.cert_path, timestamp=60).sign(MSG)
    v = Verifier(trust=[pki.ca.cert_path], replay_cache=None, max_skew=30)
    assert v.verify(signed, at=now + dt.timedelta(seconds=80))
    with pytest.raises(Expired, match="expired"):
        v.verify(signed, at=now + dt.timedelta(seconds=120))
    with pytest.raises(Expired, match="future"):
        v.verify(signed, at=now - dt.timedelta(seconds=60))
    assert v.verify(signed, at=now - dt.timedelta(seconds=20))


def test_timestamp_without_zone_refused(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, timestamp=0, sign=("Body",)).sign(MSG)
    root = parse_xml(signed)
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    ts = etree.Element(f"{{{WSU_NS}}}Timestamp")
    etree.SubElement(ts, f"{{{WSU_NS}}}Created").text = "2030-01-01T00:00:00"
    sec.insert(0, ts)
    with pytest.raises(MalformedMessage, match="time zone"):
        Verifier(trust=[pki.ca.cert_path], require=("Body",)).verify(etree.tostring(root))


# -- UsernameToken ---------------------------------------------------------------------


def test_users_file_digest_and_text(pki, tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("# comment\nalice:s3cr:et\nbob:pw\n")
    v = Verifier(trust=[pki.ca.cert_path], users=users)
    for ptype in ("digest", "text"):
        signed = Signer(
            pki.client.key_path,
            pki.client.cert_path,
            username="alice",
            password="s3cr:et",
            password_type=ptype,
        ).sign(MSG)
        assert v.verify(signed).username == "alice"
        bad = Signer(
            pki.client.key_path, pki.client.cert_path, username="alice", password="nope", password_type=ptype
        ).sign(MSG)
        with pytest.raises(AuthenticationFailed, match="alice"):
            v.verify(bad)
    unknown = Signer(pki.client.key_path, pki.client.cert_path, username="eve", password="x").sign(MSG)
    with pytest.raises(AuthenticationFailed):
        v.verify(unknown)
    with pytest.raises(AuthenticationFailed, match="UsernameToken is required"):
        v.verify(Signer(pki.client.key_path, pki.client.cert_path).sign(MSG))


def test_usernametoken_without_users_refused(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, username="a", password="p").sign(MSG)
    with pytest.raises(AuthenticationFailed, match="no users"):
        Verifier(trust=[pki.ca.cert_path]).verify(signed)


def test_nonce_replay_and_signature_replay(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, username="a", password="p").sign(MSG)
    v = Verifier(trust=[pki.ca.cert_path], users={"a": "p"})
    v.verify(signed)
    with pytest.raises(ReplayDetected, match="nonce"):
        v.verify(signed)
    plain = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    v = Verifier(trust=[pki.ca.cert_path])
    v.verify(plain)
    with pytest.raises(ReplayDetected, match="already accepted"):
        v.verify(plain)
    off = Verifier(trust=[pki.ca.cert_path], replay_cache=None)
    off.verify(plain)
    off.verify(plain)


def test_shared_replay_cache_across_verifiers(pki) -> None:
    shared = MemoryReplayCache(max_entries=10)
    plain = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    Verifier(trust=[pki.ca.cert_path], replay_cache=shared).verify(plain)
    with pytest.raises(ReplayDetected):
        Verifier(trust=[pki.ca.cert_path], replay_cache=shared).verify(plain)


def test_memory_replay_cache_bounds_and_expiry() -> None:
    cache = MemoryReplayCache(max_entries=3)
    now = dt.datetime.now(dt.UTC)
    soon = now + dt.timedelta(seconds=10)
    assert cache.check_and_store("a", soon, now=now)
    assert not cache.check_and_store("a", soon, now=now)
    assert cache.check_and_store("a", soon, now=soon + dt.timedelta(seconds=1))  # expired: accepted again
    for k in "bcdef":
        cache.check_and_store(k, soon, now=now)
    assert len(cache) <= 3


# -- trust -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,match", [("rogue", "does not chain"), ("expired", "expired"), ("not_yet_valid", "not yet valid")]
)
def test_untrusted_signers(pki, who, match) -> None:
    ident = getattr(pki, who)
    signed = Signer(ident.key_path, ident.cert_path).sign(MSG)
    with pytest.raises(UntrustedKey, match=match):
        Verifier(trust=[pki.ca.cert_path]).verify(signed)


def test_pinned_leaf_trust(pki) -> None:
    signed = Signer(pki.rogue.key_path, pki.rogue.cert_path).sign(MSG)
    assert Verifier(trust=[pki.rogue.cert_path]).verify(signed)


def test_no_trust_anchors_refuses(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    with pytest.raises(UntrustedKey, match="no trust anchors"):
        Verifier().verify(signed)


def test_separate_verification_certificate(pki) -> None:
    """zeep #862/#1197: the response is signed by the service, not by the key we sign with."""
    signed = Signer(pki.service.key_path, pki.service.cert_path, key_identifier="issuer-serial").sign(MSG)
    result = Verifier(trust=[pki.ca.cert_path], certs=[pki.service.cert_path]).verify(signed)
    assert result.signer_certificate == pki.service.cert


def test_pkipath_token_inbound(pki) -> None:
    """An X509PKIPathv1 BST (leaf + CA) is accepted and the path used."""
    import base64

    from cryptography.hazmat.primitives import serialization

    from wssec.soap import X509PKIPATHV1

    signed = Signer(pki.client.key_path, pki.client.cert_path, sign=("Body",), timestamp=0).sign(MSG)
    root = parse_xml(signed)
    bst = root.find(f".//{{{WSSE_NS}}}BinarySecurityToken")
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (pki.ca.cert, pki.client.cert)]
    content = b"".join(ders)
    length = len(content)
    path = b"\x30\x82" + length.to_bytes(2, "big") + content
    bst.set("ValueType", X509PKIPATHV1)
    bst.text = base64.b64encode(path).decode()
    ref = root.find(f".//{{{WSSE_NS}}}SecurityTokenReference/{{{WSSE_NS}}}Reference")
    ref.set("ValueType", X509PKIPATHV1)
    # the token is not signed, so changing it does not break the signature
    result = Verifier(trust=[pki.ca.cert_path], require=("Body",)).verify(etree.tostring(root))
    assert result.signer_certificate == pki.client.cert


def test_encrypted_message_without_key(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    root = parse_xml(signed)
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    sec.insert(0, etree.Element("{http://www.w3.org/2001/04/xmlenc#}EncryptedKey"))
    with pytest.raises(PolicyViolation, match="pass decrypt_key"):
        Verifier(trust=[pki.ca.cert_path]).verify(etree.tostring(root))


def test_saml_without_saml_trust_refused(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    root = parse_xml(signed)
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    sec.insert(0, etree.Element("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion", ID="a1"))
    with pytest.raises(PolicyViolation, match="saml_trust"):
        Verifier(trust=[pki.ca.cert_path]).verify(etree.tostring(root))


# -- CLI -----------------------------------------------------------------------------------


def test_cli_sign_verify_round_trip(pki, tmp_path: Path, apisec) -> None:
    src = tmp_path / "in.xml"
    src.write_bytes(MSG)
    out = tmp_path / "out.xml"
    users = tmp_path / "users"
    users.write_text("bob:pw\n")
    r = apisec(
        "soap", "sign", str(src), "-o", str(out), "--key", str(pki.client.key_path), "--cert",
        str(pki.client.cert_path), "--username", "bob", "--password", "pw", "--key-identifier", "ski",
        "--sign", "Body,Timestamp", "--sign", "UsernameToken", "--algorithm", "rsa-sha512",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = apisec(
        "soap", "verify", str(out), "--trust", str(pki.ca.cert_path), "--certs", str(pki.client.cert_path),
        "--users", str(users), "--require", "Body,Timestamp,UsernameToken", "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["valid"] and doc["username"] == "bob" and doc["algorithms"] == ["rsa-sha512"]
    assert doc["signed_parts"] == ["Body", "Timestamp", "UsernameToken"]
    r = apisec(
        "soap",
        "verify",
        str(out),
        "--trust",
        str(pki.ca.cert_path),
        "--certs",
        str(pki.client.cert_path),
        "--users",
        str(users),
    )
    assert r.exit_code == 0 and r.stdout.startswith("valid: signed Body, Timestamp, UsernameToken")


def test_cli_refusals(pki, tmp_path: Path, apisec) -> None:
    src = tmp_path / "in.xml"
    src.write_bytes(MSG)
    out = tmp_path / "out.xml"
    assert apisec("soap", "sign", str(src), "-o", str(out), "--key", str(pki.client.key_path),
                  "--cert", str(pki.client.cert_path)).exit_code == 0  # fmt: skip
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(out.read_bytes().replace(b">5<", b">6<"))
    cases = [
        ([str(tampered), "--trust", str(pki.ca.cert_path)], 1, "digest of Body"),
        ([str(out), "--trust", str(pki.rogue.cert_path)], 1, "does not chain"),
        ([str(out), "--trust", str(pki.ca.cert_path), "--at", "2099-01-01T00:00:00Z"], 1, "expired"),
        ([str(src), "--trust", str(pki.ca.cert_path)], 1, "not signed"),
        ([str(out)], 2, "--trust is required"),
        ([str(out), "--trust", str(pki.ca.cert_path), "--at", "yesterday"], 2, "ISO 8601"),
        ([str(tmp_path / "missing.xml"), "--trust", str(pki.ca.cert_path)], 2, "not found"),
        ([str(out), "--trust", str(tmp_path / "missing.pem")], 2, "not found"),
    ]
    for args, code, reason in cases:
        r = apisec("soap", "verify", *args)
        assert r.exit_code == code, (args, r)
        assert reason in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = apisec("soap", "verify", str(tampered), "--trust", str(pki.ca.cert_path), "--format", "json")
    assert r.exit_code == 1 and json.loads(r.stdout)["valid"] is False


def test_cli_sign_failure_leaves_no_output(pki, tmp_path: Path, apisec) -> None:
    src = tmp_path / "in.xml"
    src.write_bytes(b"<not-soap/>")
    out = tmp_path / "out.xml"
    r = apisec(
        "soap",
        "sign",
        str(src),
        "-o",
        str(out),
        "--key",
        str(pki.client.key_path),
        "--cert",
        str(pki.client.cert_path),
    )
    assert r.exit_code == 2 and "not a SOAP" in r.stderr and not out.exists()
    assert list(tmp_path.iterdir()) == [src]
    r = apisec(
        "soap",
        "sign",
        str(src),
        "-o",
        str(out),
        "--key",
        str(pki.client.cert_path),
        "--cert",
        str(pki.client.cert_path),
    )
    assert r.exit_code == 2 and "not a private key" in r.stderr
    r = apisec("soap", "sign", str(src), "-o", str(out), "--key", str(pki.client.key_path), "--username", "u")
    assert r.exit_code == 2


def test_actor_specific_security_header(pki, tmp_path: Path, apisec) -> None:
    """A Security header for another actor is neither processed nor trusted."""
    actor = "urn:intermediary"
    signed = Signer(pki.client.key_path, pki.client.cert_path, actor=actor).sign(MSG)
    with pytest.raises(NotSigned, match="not signed"):
        Verifier(trust=[pki.ca.cert_path]).verify(signed)
    assert Verifier(trust=[pki.ca.cert_path], actor=actor).verify(signed).signed_parts == (
        "Body",
        "Timestamp",
    )
    path = tmp_path / "actor.xml"
    path.write_bytes(signed)
    r = apisec("soap", "verify", str(path), "--trust", str(pki.ca.cert_path), "--actor", actor)
    assert r.exit_code == 0, r.stderr


def test_unsigned_soap12_fault(pki) -> None:
    fault = (
        f'<env:Envelope xmlns:env="{SOAP12}"><env:Body><env:Fault><env:Code><env:Value>env:Receiver'
        "</env:Value></env:Code><env:Reason><env:Text xml:lang='en'>backend timeout</env:Text></env:Reason>"
        "</env:Fault></env:Body></env:Envelope>"
    ).encode()
    from wssec.verifier import UnsignedFault

    with pytest.raises(UnsignedFault, match="backend timeout") as info:
        Verifier(trust=[pki.ca.cert_path]).verify(fault)
    assert info.value.code == "env:Receiver"


def test_wcf_seven_digit_fractions_accepted(pki) -> None:
    from wssec.usernametoken import parse_time

    assert parse_time("2012-05-25T11:37:27.2571234Z", "t") == dt.datetime(
        2012, 5, 25, 11, 37, 27, 257123, dt.UTC
    )


def test_far_expires_does_not_keep_old_message_fresh(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, timestamp=10 * 365 * 86400).sign(MSG)
    v = Verifier(trust=[pki.ca.cert_path], replay_cache=None, max_skew=60, max_age=300)
    assert v.verify(signed)
    with pytest.raises(Expired, match="older than 300 s"):
        v.verify(signed, at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))


def test_memory_replay_cache_drops_expired_entries_first_and_stays_bounded() -> None:
    import datetime as _dt

    cache = MemoryReplayCache(max_entries=3)
    t0 = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    soon, late = t0 + _dt.timedelta(seconds=10), t0 + _dt.timedelta(hours=1)
    assert cache.check_and_store("a", soon, t0)
    assert cache.check_and_store("b", late, t0)
    assert cache.check_and_store("c", late, t0)
    assert not cache.check_and_store("b", late, t0)  # replay within its window
    after = t0 + _dt.timedelta(seconds=20)
    assert cache.check_and_store("d", late, after)  # full: the expired "a" goes, not "b"
    assert len(cache) == 3
    assert not cache.check_and_store("b", late, after) and not cache.check_and_store("c", late, after)
    assert cache.check_and_store("a", late, after)  # expired entries may come back
