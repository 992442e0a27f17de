"""XML Encryption interop with Apache WSS4J 1.6 (and Santuario underneath), both ways.

* WSS4J signs then encrypts (AES-256-CBC, AES-128-GCM, RSA-OAEP, issuer-serial
  and the other key identifiers); apisec's Verifier decrypts and verifies.
* apisec signs then encrypts with each cipher (and each key identifier, and
  encrypt-then-sign); WSS4J decrypts and verifies cleanly.
* xmlenc11 rsa-oaep with SHA-256 (which WSS4J 1.6's algorithm list lacks) is
  decrypted by Santuario's XMLCipher directly.

The harness is tests/interop/java/WssEncryptHarness.java, compiled once per
session against the Debian WSS4J/Santuario jars; keystores are built with
keytool from the test PKI's PKCS#12 files.  JVM start-up dominates, so each
direction runs as one batch (one JVM) in a session fixture and the tests
assert on their job's output.
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
HARNESS_UTIL = HARNESS.with_name("HarnessUtil.java")  # shared with the signature harness
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
MSG12 = (
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header>'
    b'<r:Route xmlns:r="urn:example:route" env:role="urn:next">secret route</r:Route></env:Header><env:Body>'
    b'<m:GetBalance xmlns:m="urn:example:bank"><m:Account>TOPSECRET-4711</m:Account></m:GetBalance>'
    b"</env:Body></env:Envelope>"
)
MESSAGES = {"1.1": MSG, "1.2": MSG12}
ROUTE = "{urn:example:route}Route"
SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
SOAP12_BODY = "{http://www.w3.org/2003/05/soap-envelope}Body"


@dataclass(frozen=True)
class Peer:
    dir: Path
    classpath: str
    keystore: Path
    truststore: Path

    def batch(self, jobs: dict[str, list[str]]) -> dict[str, tuple[int, list[str]]]:
        """Run named harness commands in one JVM; ``name -> (rc, output lines)``."""
        names = list(jobs)
        jobfile = self.dir / f"jobs-{len(list(self.dir.glob('jobs-*')))}.txt"
        jobfile.write_text("".join("\t".join(jobs[n]) + "\n" for n in names))
        proc = subprocess.run(
            ["java", "-cp", self.classpath, "WssEncryptHarness", "batch", str(jobfile)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        results: dict[str, tuple[int, list[str]]] = {}
        current: list[str] = []
        for line in proc.stdout.splitlines():
            if line.startswith("=== JOB "):
                n, rc = line[len("=== JOB ") :].split(" rc=")
                current = []
                results[names[int(n)]] = (int(rc), current)
            else:
                current.append(line)
        assert list(results) == names, proc.stdout[-2000:]
        return results


@pytest.fixture(scope="session")
def wss4j(pki, tmp_path_factory) -> Peer:
    """Compile the harness and build the keystores, once per session."""
    require_peer("javac", "compiles the WSS4J harness")
    require_peer("keytool", "builds the Java keystores")
    for jar in JARS:
        if not Path(jar).exists():
            pytest.fail(f"{jar} missing (apt-get install libwss4j-java)")
    d = tmp_path_factory.mktemp("wss4j-enc")
    for source in (HARNESS, HARNESS_UTIL):
        shutil.copy(source, d / source.name)
    cp = ":".join([str(d), *JARS])
    subprocess.run(
        ["javac", "-cp", cp, "-d", str(d), str(d / HARNESS.name), str(d / HARNESS_UTIL.name)],
        check=True,
        capture_output=True,
    )
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


# (cipher, key identifier, key transport, SOAP version) WSS4J protects with.
WSS4J_VARIANTS = [
    ("aes256-cbc", "issuer-serial", "rsa-oaep", "1.1"),
    ("aes128-gcm", "issuer-serial", "rsa-oaep", "1.1"),
    ("aes256-gcm", "ski", "rsa-oaep", "1.1"),
    ("aes128-cbc", "thumbprint", "rsa-oaep", "1.1"),
    ("tripledes-cbc", "bst", "rsa-oaep", "1.1"),
    ("aes256-cbc", "issuer-serial", "rsa-oaep-sha256", "1.1"),  # mgf1p with a SHA-256 DigestMethod
    ("aes128-gcm", "issuer-serial", "rsa-oaep", "1.2"),
    ("aes128-cbc", "issuer-serial", "rsa-1_5", "1.1"),
]


@pytest.fixture(scope="session")
def wss4j_messages(wss4j) -> dict[tuple[str, str, str], bytes]:
    """WSS4J signs (client) then encrypts Body + Route (for service): one JVM."""
    jobs, outs = {}, {}
    for variant in WSS4J_VARIANTS:
        cipher, key_id, kt, soap = variant
        src = wss4j.dir / f"msg-{soap}.xml"
        src.write_bytes(MESSAGES[soap])
        out = wss4j.dir / f"wss4j-{cipher}-{key_id}-{kt}-{soap}.xml"
        outs[variant] = out
        jobs[variant] = ["protect", str(src), str(out), str(wss4j.keystore), str(wss4j.truststore)] + [
            cipher, key_id, f"Body,{ROUTE}", kt,
        ]  # fmt: skip
    for variant, (rc, lines) in wss4j.batch(jobs).items():
        assert rc == 0, f"WSS4J could not protect {variant}: {lines}"
    return {v: p.read_bytes() for v, p in outs.items()}


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


def _flip_tag(data: bytes) -> bytes:
    root = parse_xml(data)
    cv = root.find(
        ".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData//{http://www.w3.org/2001/04/xmlenc#}CipherValue"
    )
    raw = bytearray(base64.b64decode(cv.text))
    raw[-1] ^= 1  # the GCM tag
    cv.text = base64.b64encode(bytes(raw)).decode()
    return etree.tostring(root)


# ---------------------------------------------------------------- WSS4J -> apisec


@pytest.mark.parametrize("cipher", ["aes256-cbc", "aes128-gcm"])
def test_wss4j_sign_then_encrypt_apisec_decrypts_and_verifies(wss4j_messages, pki, cipher) -> None:
    data = wss4j_messages[(cipher, "issuer-serial", "rsa-oaep", "1.1")]
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


@pytest.mark.parametrize("variant", [v for v in WSS4J_VARIANTS[2:] if v[2] != "rsa-1_5"], ids=str)
def test_wss4j_other_identifiers_and_oaep_digest(wss4j_messages, pki, variant) -> None:
    data = wss4j_messages[variant]
    assert SECRET not in data
    decrypted = wssec.Decryptor(key=pki.service.key_path, cert=pki.service.cert_path).decrypt(data)
    assert SECRET in decrypted and b"secret route" in decrypted
    assert len(_verifier(pki).verify(data).encrypted) == 2


def test_wss4j_message_tampered_is_refused_generically(wss4j_messages, pki) -> None:
    tampered = _flip_tag(wss4j_messages[("aes128-gcm", "issuer-serial", "rsa-oaep", "1.1")])
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        _verifier(pki).verify(tampered)


def test_wss4j_rsa15_refused_by_default(wss4j_messages, pki) -> None:
    data = wss4j_messages[("aes128-cbc", "issuer-serial", "rsa-1_5", "1.1")]
    assert b"xmlenc#rsa-1_5" in data
    with pytest.raises(PolicyViolation, match="Bleichenbacher"):
        _verifier(pki).verify(data)
    assert SECRET in wssec.Decryptor(key=pki.service.key_path, allow_rsa15=True).decrypt(data)


def test_wss4j_message_through_the_cli(wss4j_messages, pki, tmp_path, apisec) -> None:
    enc = tmp_path / "wss4j.xml"
    enc.write_bytes(wss4j_messages[("aes256-cbc", "issuer-serial", "rsa-oaep", "1.1")])
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

SIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def _apisec_message(pki, cipher="aes256-gcm", key_identifier="issuer-serial", order="sign-then-encrypt",
                    kt="rsa-oaep", parts=("Body", ROUTE), soap="1.1") -> bytes:  # fmt: skip
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    encryptor = wssec.Encryptor(
        pki.service.cert_path, encrypt=parts, cipher=cipher, key_identifier=key_identifier, key_transport=kt
    )
    data = wssec.secure(MESSAGES[soap], signer=signer, encryptor=encryptor, order=order)
    assert SECRET not in data
    assert (b"secret route" in data) is (ROUTE not in parts)
    return data


APISEC_CASES = {
    **{
        f"cipher-{c}": {"cipher": c}
        for c in (
            "aes256-gcm",
            "aes128-gcm",
            "aes256-cbc",
            "aes128-cbc",
            "tripledes-cbc",
        )
    },
    # not in WSS4J 1.6's algorithm list: proven with Santuario's XMLCipher
    "santuario-aes192-gcm": {"cipher": "aes192-gcm"},
    "santuario-aes192-cbc": {"cipher": "aes192-cbc"},
    **{f"keyid-{k}": {"cipher": "aes128-gcm", "key_identifier": k} for k in ("ski", "bst", "thumbprint")},
    "encrypt-then-sign": {"order": "encrypt-then-sign"},
    "encrypted-signature": {"parts": ("Body", SIG)},
    "oaep-sha256": {"kt": "rsa-oaep-sha256"},
    "soap12": {"cipher": "aes128-gcm", "soap": "1.2"},
    "rsa15": {"cipher": "aes128-cbc", "kt": "rsa-1_5"},
    "tampered": {"cipher": "aes128-gcm"},
}


@pytest.fixture(scope="session")
def wss4j_verdicts(wss4j, pki) -> dict[str, tuple[int, list[str], bytes]]:
    """apisec signs then encrypts each case; WSS4J processes all in one JVM
    (Santuario's XMLCipher for xmlenc11 rsa-oaep, which WSS4J 1.6 lacks)."""
    jobs, messages = {}, {}
    for name, kw in APISEC_CASES.items():
        data = _apisec_message(pki, **kw)
        if name == "tampered":
            data = _flip_tag(data)
        messages[name] = data
        f = wss4j.dir / f"apisec-{name}.xml"
        f.write_bytes(data)
        if name == "oaep-sha256" or name.startswith("santuario-"):
            jobs[name] = ["santuario", str(f), str(wss4j.keystore)]
        else:
            jobs[name] = ["process", str(f), str(wss4j.keystore), str(wss4j.truststore)]
    return {n: (rc, lines, messages[n]) for n, (rc, lines) in wss4j.batch(jobs).items()}


def _assert_wss4j_accepted(
    verdict: tuple[int, list[str], bytes], cipher: str, second: str = ROUTE, body_qname: str = SOAP_BODY
) -> None:
    rc, lines, _data = verdict
    assert rc == 0, f"WSS4J refused apisec's message: {lines}"
    assert f"SIGNED {body_qname}" in lines
    assert "SIGNER O=Compliance Lab,CN=client" in lines
    assert any(line.startswith(f"ENCRYPTED {body_qname} content") and line.endswith(cipher) for line in lines)
    assert any(line.startswith(f"ENCRYPTED {second} element") for line in lines)
    body = next(line for line in lines if line.startswith("BODY "))
    assert SECRET.decode() in body


@pytest.mark.parametrize(
    "cipher",
    ["aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc", "tripledes-cbc"],
)
def test_apisec_sign_then_encrypt_wss4j_processes(wss4j_verdicts, cipher) -> None:
    _assert_wss4j_accepted(wss4j_verdicts[f"cipher-{cipher}"], cipher)


@pytest.mark.parametrize("key_identifier", ["ski", "bst", "thumbprint"])
def test_apisec_key_identifiers_wss4j_processes(wss4j_verdicts, key_identifier) -> None:
    _assert_wss4j_accepted(wss4j_verdicts[f"keyid-{key_identifier}"], "aes128-gcm")


def test_apisec_encrypt_then_sign_wss4j_processes(wss4j_verdicts) -> None:
    _assert_wss4j_accepted(wss4j_verdicts["encrypt-then-sign"], "aes256-gcm")


def test_apisec_encrypted_signature_wss4j_processes(wss4j_verdicts, pki) -> None:
    """Sign-then-encrypt with the Signature encrypted too (EncryptSignature:
    hides the Body's digest from plaintext-guessing)."""
    _assert_wss4j_accepted(wss4j_verdicts["encrypted-signature"], "aes256-gcm", second=SIG)
    data = wss4j_verdicts["encrypted-signature"][2]
    assert b"DigestValue" not in data
    result = wssec.Verifier(
        trust=[pki.ca.cert_path], decrypt_key=pki.service.key_path, require_encrypted=("Body", SIG)
    ).verify(data)
    assert "Body" in result.signed_parts


def test_apisec_tampered_message_refused_by_wss4j(wss4j_verdicts) -> None:
    """The peer is a real check: a flipped GCM tag makes WSS4J fail too."""
    rc, lines, _ = wss4j_verdicts["tampered"]
    assert rc == 1 and lines[0].startswith("FAIL")


def test_apisec_rsa_oaep_sha256_santuario_decrypts(wss4j_verdicts) -> None:
    """xmlenc11#rsa-oaep (SHA-256 digest and MGF1): not in WSS4J 1.6's list,
    so Santuario's XMLCipher (same jars) proves the encoding."""
    rc, lines, data = wss4j_verdicts["oaep-sha256"]
    assert b"http://www.w3.org/2009/xmlenc11#rsa-oaep" in data
    assert rc == 0, lines
    assert "KEYTRANSPORT http://www.w3.org/2009/xmlenc11#rsa-oaep" in lines
    assert SECRET.decode() in next(line for line in lines if line.startswith("BODY "))


def test_apisec_soap12_wss4j_processes(wss4j_verdicts) -> None:
    _assert_wss4j_accepted(wss4j_verdicts["soap12"], "aes128-gcm", body_qname=SOAP12_BODY)
    header = next(line for line in wss4j_verdicts["soap12"][1] if line.startswith("HEADER "))
    assert 'env:role="urn:next"' in header and "secret route" in header


def test_wss4j_soap12_apisec_decrypts_and_verifies(wss4j_messages, pki) -> None:
    data = wss4j_messages[("aes128-gcm", "issuer-serial", "rsa-oaep", "1.2")]
    assert SECRET not in data and b"secret route" not in data
    result = _verifier(pki).verify(data)
    assert result.soap_version == "1.2"
    assert [(p.name, p.kind) for p in result.encrypted] == [("Body", "content"), (ROUTE, "header")]
    assert result.encrypted[1].element.get("{http://www.w3.org/2003/05/soap-envelope}role") == "urn:next"


def test_apisec_rsa15_for_legacy_receivers_wss4j_processes(wss4j_verdicts) -> None:
    """key_transport="rsa-1_5" (only for policies that demand it) is what WSS4J reads."""
    _assert_wss4j_accepted(wss4j_verdicts["rsa15"], "aes128-cbc")
    assert "KEYTRANSPORT http://www.w3.org/2001/04/xmlenc#rsa-1_5" in wss4j_verdicts["rsa15"][1]


@pytest.mark.parametrize("cipher", ["aes192-gcm", "aes192-cbc"])
def test_apisec_aes192_santuario_decrypts(wss4j_verdicts, cipher) -> None:
    """aes192 (WS-SecurityPolicy Basic192 suites) is outside WSS4J 1.6's list;
    Santuario's XMLCipher reads it."""
    rc, lines, data = wss4j_verdicts[f"santuario-{cipher}"]
    assert rc == 0, lines
    assert f"#{cipher}".encode() in data
    assert SECRET.decode() in next(line for line in lines if line.startswith("BODY "))
