"""XML Encryption interop with Apache WSS4J 1.6 (and Santuario underneath), both ways.

* WSS4J signs then encrypts (AES-256-CBC, AES-128-GCM, RSA-OAEP, issuer-serial
  and the other key identifiers); apisec's Verifier decrypts and verifies.
* apisec signs then encrypts with each cipher (and each key identifier, and
  encrypt-then-sign); WSS4J decrypts and verifies cleanly.
* xmlenc11 rsa-oaep with SHA-256 (which WSS4J 1.6's algorithm list lacks) is
  decrypted by Santuario's XMLCipher directly.

The harness is tests/interop/java/WssEncryptHarness.java, compiled once per
session against the Debian WSS4J/Santuario jars; keystores are built with
keytool from the test PKI's PKCS#12 files.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

import wssec
from tests.conftest import require_peer
from wssec.errors import DecryptionFailed, PolicyViolation
from wssec.safexml import parse_xml

pytestmark = pytest.mark.interop

HARNESS = Path(__file__).parent / "java" / "WssEncryptHarness.java"
JARS = [
    "/usr/share/java/wss4j.jar",
    "/usr/share/java/xmlsec.jar",
    "/usr/share/java/commons-logging.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-nop.jar",
]
SECRET = b"TOPSECRET-4711"
MSG = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
    b'<r:Route xmlns:r="urn:example:route">secret route</r:Route></soap:Header><soap:Body>'
    b'<m:GetBalance xmlns:m="urn:example:bank"><m:Account>TOPSECRET-4711</m:Account></m:GetBalance>'
    b"</soap:Body></soap:Envelope>"
)
ROUTE = "{urn:example:route}Route"
SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


@dataclass(frozen=True)
class Peer:
    dir: Path
    classpath: str
    keystore: Path
    truststore: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["java", "-cp", self.classpath, "WssEncryptHarness", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def wss4j(pki, tmp_path_factory) -> Peer:
    """Compile the harness and build the keystores, once per session."""
    require_peer("javac", "compiles the WSS4J harness")
    require_peer("keytool", "builds the Java keystores")
    for jar in JARS:
        if not Path(jar).exists():
            pytest.fail(f"{jar} missing (apt-get install libwss4j-java)")
    d = tmp_path_factory.mktemp("wss4j-enc")
    shutil.copy(HARNESS, d / HARNESS.name)
    cp = ":".join([str(d), *JARS])
    subprocess.run(["javac", "-cp", cp, "-d", str(d), str(d / HARNESS.name)], check=True, capture_output=True)
    keystore, truststore = d / "keys.p12", d / "trust.p12"
    for ident in (pki.client, pki.service):
        subprocess.run(
            ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(ident.p12_path)]
            + ["-srcstoretype", "PKCS12", "-srcstorepass", "changeit", "-destkeystore", str(keystore)]
            + ["-deststoretype", "PKCS12", "-deststorepass", "changeit"],
            check=True,
            capture_output=True,
        )
    subprocess.run(
        ["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(pki.ca.cert_path)]
        + ["-keystore", str(truststore), "-storetype", "PKCS12", "-storepass", "changeit"],
        check=True,
        capture_output=True,
    )
    return Peer(d, cp, keystore, truststore)


def _wss4j_protect(
    wss4j: Peer, tmp_path: Path, cipher: str, key_id: str = "issuer-serial", kt: str = "rsa-oaep"
):
    src, dst = tmp_path / "in.xml", tmp_path / f"wss4j-{cipher}-{key_id}-{kt}.xml"
    src.write_bytes(MSG)
    proc = wss4j.run(
        "protect",
        str(src),
        str(dst),
        str(wss4j.keystore),
        str(wss4j.truststore),
        cipher,
        key_id,
        f"Body,{ROUTE}",
        kt,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dst.read_bytes()


def _wss4j_process(wss4j: Peer, tmp_path: Path, data: bytes, mode: str = "process") -> list[str]:
    f = tmp_path / "to-wss4j.xml"
    f.write_bytes(data)
    args = (
        [str(f), str(wss4j.keystore), str(wss4j.truststore)]
        if mode == "process"
        else [str(f), str(wss4j.keystore)]
    )
    proc = wss4j.run(mode, *args)
    assert proc.returncode == 0, f"WSS4J refused apisec's message: {proc.stdout} {proc.stderr}"
    return proc.stdout.splitlines()


def _verifier(pki, **kw) -> wssec.Verifier:
    # WSS4J 1.6 signs with rsa-sha1/sha1 by default: allowed for this peer only.
    return wssec.Verifier(
        trust=[pki.ca.cert_path],
        decrypt_key=pki.service.key_path,
        require=("Body",),
        require_encrypted=("Body", ROUTE),
        allow_sha1=True,
        **kw,
    )


# ---------------------------------------------------------------- WSS4J -> apisec


@pytest.mark.parametrize("cipher", ["aes256-cbc", "aes128-gcm"])
def test_wss4j_sign_then_encrypt_apisec_decrypts_and_verifies(wss4j, pki, tmp_path, cipher) -> None:
    data = _wss4j_protect(wss4j, tmp_path, cipher)
    assert SECRET not in data and b"secret route" not in data
    root = parse_xml(data)
    sec_children = [etree.QName(c).localname for c in root[0][0]]
    assert sec_children.index("EncryptedKey") < sec_children.index("Signature")
    result = _verifier(pki).verify(data)
    assert "Body" in result.signed_parts
    assert result.signer_certificate.subject == pki.client.cert.subject
    assert [(p.name, p.kind) for p in result.encrypted] == [("Body", "content"), (ROUTE, "header")]
    assert all(p.algorithm.endswith(cipher) for p in result.encrypted)
    assert result.encrypted[0].element is result.body
    assert result.body[0][0].text == SECRET.decode()
    assert result.envelope[0][1].text == "secret route"


@pytest.mark.parametrize(
    ("cipher", "key_id", "kt"),
    [
        ("aes256-gcm", "ski", "rsa-oaep"),
        ("aes128-cbc", "thumbprint", "rsa-oaep"),
        ("tripledes-cbc", "bst", "rsa-oaep"),
        ("aes256-cbc", "issuer-serial", "rsa-oaep-sha256"),  # mgf1p with a SHA-256 DigestMethod
    ],
)
def test_wss4j_other_identifiers_and_oaep_digest(wss4j, pki, tmp_path, cipher, key_id, kt) -> None:
    data = _wss4j_protect(wss4j, tmp_path, cipher, key_id, kt)
    assert SECRET not in data
    decrypted = wssec.Decryptor(key=pki.service.key_path, cert=pki.service.cert_path).decrypt(data)
    assert SECRET in decrypted and b"secret route" in decrypted
    assert len(_verifier(pki).verify(data).encrypted) == 2


def test_wss4j_message_tampered_is_refused_generically(wss4j, pki, tmp_path) -> None:
    root = parse_xml(_wss4j_protect(wss4j, tmp_path, "aes128-gcm"))
    cv = root.find(
        ".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData//{http://www.w3.org/2001/04/xmlenc#}CipherValue"
    )
    raw = bytearray(base64.b64decode(cv.text))
    raw[-1] ^= 1  # the GCM tag
    cv.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        _verifier(pki).verify(etree.tostring(root))


def test_wss4j_rsa15_refused_by_default(wss4j, pki, tmp_path) -> None:
    data = _wss4j_protect(wss4j, tmp_path, "aes128-cbc", kt="rsa-1_5")
    with pytest.raises(PolicyViolation, match="Bleichenbacher"):
        _verifier(pki).verify(data)
    assert SECRET in wssec.Decryptor(key=pki.service.key_path, allow_rsa15=True).decrypt(data)


def test_wss4j_message_through_the_cli(wss4j, pki, tmp_path, apisec) -> None:
    enc = tmp_path / "wss4j.xml"
    enc.write_bytes(_wss4j_protect(wss4j, tmp_path, "aes256-cbc"))
    out = tmp_path / "plain.xml"
    r = apisec("soap", "decrypt", str(enc), "-o", str(out), "--key", str(pki.service.key_path), "--json")
    assert r.exit_code == 0, r.stderr
    assert SECRET in out.read_bytes() and '"name": "Body"' in r.stdout
    r = apisec(
        "soap", "verify", str(enc), "--trust", str(pki.ca.cert_path), "--require", "Body",
        "--decrypt-key", str(pki.service.key_path), "--allow-sha1",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr + r.stdout


# ---------------------------------------------------------------- apisec -> WSS4J


def _apisec_message(
    pki, cipher="aes256-gcm", key_identifier="issuer-serial", order="sign-then-encrypt", kt="rsa-oaep"
):
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    encryptor = wssec.Encryptor(
        pki.service.cert_path,
        encrypt=("Body", ROUTE),
        cipher=cipher,
        key_identifier=key_identifier,
        key_transport=kt,
    )
    data = wssec.secure(MSG, signer=signer, encryptor=encryptor, order=order)
    assert SECRET not in data and b"secret route" not in data
    return data


def _assert_wss4j_accepted(lines: list[str], cipher: str) -> None:
    assert f"SIGNED {SOAP_BODY}" in lines
    assert "SIGNER O=Compliance Lab,CN=client" in lines
    assert any(line.startswith(f"ENCRYPTED {SOAP_BODY} content") and line.endswith(cipher) for line in lines)
    assert any(line.startswith(f"ENCRYPTED {ROUTE} element") for line in lines)
    body = next(line for line in lines if line.startswith("BODY "))
    assert SECRET.decode() in body


@pytest.mark.parametrize("cipher", ["aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc", "tripledes-cbc"])
def test_apisec_sign_then_encrypt_wss4j_processes(wss4j, pki, tmp_path, cipher) -> None:
    lines = _wss4j_process(wss4j, tmp_path, _apisec_message(pki, cipher))
    _assert_wss4j_accepted(lines, cipher)


@pytest.mark.parametrize("key_identifier", ["ski", "bst", "thumbprint"])
def test_apisec_key_identifiers_wss4j_processes(wss4j, pki, tmp_path, key_identifier) -> None:
    lines = _wss4j_process(wss4j, tmp_path, _apisec_message(pki, "aes128-gcm", key_identifier))
    _assert_wss4j_accepted(lines, "aes128-gcm")


def test_apisec_encrypt_then_sign_wss4j_processes(wss4j, pki, tmp_path) -> None:
    lines = _wss4j_process(wss4j, tmp_path, _apisec_message(pki, order="encrypt-then-sign"))
    _assert_wss4j_accepted(lines, "aes256-gcm")


def test_apisec_tampered_message_refused_by_wss4j(wss4j, pki, tmp_path) -> None:
    """The peer is a real check: a flipped GCM tag makes WSS4J fail too."""
    root = parse_xml(_apisec_message(pki, "aes128-gcm"))
    cv = root.find(
        ".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData//{http://www.w3.org/2001/04/xmlenc#}CipherValue"
    )
    raw = bytearray(base64.b64decode(cv.text))
    raw[-1] ^= 1
    cv.text = base64.b64encode(bytes(raw)).decode()
    f = tmp_path / "tampered.xml"
    f.write_bytes(etree.tostring(root))
    proc = wss4j.run("process", str(f), str(wss4j.keystore), str(wss4j.truststore))
    assert proc.returncode == 1 and proc.stdout.startswith("FAIL")


def test_apisec_rsa_oaep_sha256_santuario_decrypts(wss4j, pki, tmp_path) -> None:
    """xmlenc11#rsa-oaep (SHA-256 digest and MGF1): not in WSS4J 1.6's list,
    so Santuario's XMLCipher (same jars) proves the encoding."""
    data = _apisec_message(pki, "aes256-gcm", kt="rsa-oaep-sha256")
    assert b"http://www.w3.org/2009/xmlenc11#rsa-oaep" in data
    lines = _wss4j_process(wss4j, tmp_path, data, mode="santuario")
    assert "KEYTRANSPORT http://www.w3.org/2009/xmlenc11#rsa-oaep" in lines
    assert SECRET.decode() in next(line for line in lines if line.startswith("BODY "))


def test_apisec_encrypted_signature_wss4j_processes(wss4j, pki, tmp_path) -> None:
    """Sign-then-encrypt with the Signature encrypted too (EncryptSignature:
    hides the Body's digest from plaintext-guessing)."""
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    sig = "{http://www.w3.org/2000/09/xmldsig#}Signature"
    encryptor = wssec.Encryptor(pki.service.cert_path, encrypt=("Body", sig))
    data = wssec.secure(MSG, signer=signer, encryptor=encryptor)
    assert b"DigestValue" not in data and SECRET not in data
    lines = _wss4j_process(wss4j, tmp_path, data)
    assert f"ENCRYPTED {sig} element http://www.w3.org/2009/xmlenc11#aes256-gcm" in lines
    assert f"SIGNED {SOAP_BODY}" in lines
    result = wssec.Verifier(
        trust=[pki.ca.cert_path], decrypt_key=pki.service.key_path, require_encrypted=("Body", sig)
    ).verify(data)
    assert "Body" in result.signed_parts
