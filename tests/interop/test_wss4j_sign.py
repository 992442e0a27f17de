"""WS-Security signature interop with Apache WSS4J 1.6 (Debian libwss4j-java),
both directions, run for real through a small Java harness
(tests/interop/java/WssHarness.java) compiled once per session.

* WSS4J secures messages (Timestamp, UsernameToken digest/text, signature
  with every key identifier type, RSA and EC, SOAP 1.1 and 1.2) and apisec's
  Verifier must accept them — and refuse them tampered, untrusted, expired,
  replayed or with the wrong password.
* apisec signs messages and WSS4J's WSSecurityEngine must process them
  without error, reporting the parts apisec signed; a tampered one it refuses.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import require_peer
from wssec import (
    AuthenticationFailed,
    Expired,
    InvalidSignature,
    PolicyViolation,
    ReplayDetected,
    Signer,
    UntrustedKey,
    Verifier,
    parse_xml,
)

pytestmark = pytest.mark.interop

JAVA_DIR = Path(__file__).parent / "java"
JARS = ["wss4j.jar", "xmlsec.jar", "commons-logging.jar", "slf4j-api.jar", "slf4j-nop.jar"]
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"


def envelope(soap_ns: str) -> bytes:
    """A realistic request: WS-Addressing headers, namespaced payload, an
    xsi:type QName value bound on the Envelope (exc-c14n PrefixList case)."""
    items = "".join(
        f'<ord:item sku="SKU-{i:04d}" qty="{i % 7 + 1}"><ord:name>Widget {i}</ord:name>'
        f'<ord:price xsi:type="xsd:decimal">{i * 3}.50</ord:price></ord:item>'
        for i in range(12)
    )
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soap:Header><wsa:To xmlns:wsa="{WSA}">https://service.example/orders</wsa:To>'
        f'<wsa:Action xmlns:wsa="{WSA}">urn:orders:place</wsa:Action></soap:Header>'
        f'<soap:Body><ord:placeOrder xmlns:ord="urn:example:orders"><ord:customer>ACME</ord:customer>'
        f"{items}</ord:placeOrder></soap:Body></soap:Envelope>"
    ).encode()


@dataclass
class Harness:
    java: str
    classpath: str
    dir: Path
    truststore: Path

    def batch(self, jobs: list[list[str]]) -> list[tuple[int, list[str]]]:
        """Run the jobs in one JVM; ``[(rc, output lines)]`` in order."""
        jobfile = self.dir / f"jobs-{len(list(self.dir.glob('jobs-*')))}.txt"
        jobfile.write_text("\n".join("\t".join(j) for j in jobs) + "\n")
        proc = subprocess.run(
            [self.java, "-cp", self.classpath, "WssHarness", "batch", str(jobfile)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        results: list[tuple[int, list[str]]] = []
        current: list[str] = []
        for line in proc.stdout.splitlines():
            if line.startswith("BEGIN "):
                current = []
            elif line.startswith("END "):
                results.append((int(line.split()[2]), current))
            else:
                current.append(line)
        assert len(results) == len(jobs), proc.stdout + proc.stderr
        return results


@pytest.fixture(scope="session")
def wss4j(tmp_path_factory: pytest.TempPathFactory, pki) -> Harness:
    """Compile the harness once and build the PKCS#12 truststore with keytool."""
    javac = require_peer("javac", "compiles the WSS4J harness")
    java = require_peer("java", "runs Apache WSS4J")
    keytool = require_peer("keytool", "builds the WSS4J truststore")
    missing = [j for j in JARS if not (Path("/usr/share/java") / j).exists()]
    if missing:
        pytest.fail(
            f"WSS4J jars missing from /usr/share/java: {missing} (apt-get install libwss4j-java libslf4j-java)"
        )
    out = tmp_path_factory.mktemp("wss4j")
    cp = ":".join(str(Path("/usr/share/java") / j) for j in JARS)
    subprocess.run(
        [
            javac,
            "-nowarn",
            "-d",
            str(out),
            "-cp",
            cp,
            str(JAVA_DIR / "WssHarness.java"),
            str(JAVA_DIR / "HarnessUtil.java"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    trust = out / "trust.p12"
    # CA for chain validation; leaf certificates so WSS4J can resolve SKI /
    # thumbprint / issuer-serial references (the receiver must know them).
    for alias, ident in (("ca", pki.ca), ("client", pki.client), ("ecclient", pki.ec_client)):
        subprocess.run(
            [keytool, "-importcert", "-noprompt", "-alias", alias, "-file", str(ident.cert_path),
             "-keystore", str(trust), "-storetype", "PKCS12", "-storepass", "changeit"],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    return Harness(java, f"{out}:{cp}", out, trust)


# -- WSS4J secures, apisec verifies --------------------------------------------------

WSS4J_CASES = {
    # name: (soap ns, keystore identity, options)
    "bst-soap11": (SOAP11, "client", ["keyid=bst"]),
    "ski-soap11": (SOAP11, "client", ["keyid=ski"]),
    "issuer-serial-soap11": (SOAP11, "client", ["keyid=issuer-serial"]),
    "thumbprint-soap11": (SOAP11, "client", ["keyid=thumbprint"]),
    "x509-keyidentifier-soap11": (SOAP11, "client", ["keyid=x509"]),
    "bst-soap12-ut-digest": (
        SOAP12,
        "client",
        ["keyid=bst", "ut=alice:s3cret", "parts=Body,Timestamp,UsernameToken"],
    ),
    "ski-soap12-ut-text": (SOAP12, "client", ["keyid=ski", "ut=alice:s3cret", "utype=text"]),
    "issuer-serial-soap12-wsa": (
        SOAP12,
        "client",
        ["keyid=issuer-serial", f"parts=Body,Timestamp,{{{WSA}}}To,{{{WSA}}}Action"],
    ),
    "thumbprint-soap12": (SOAP12, "client", ["keyid=thumbprint", "sigalg=rsa-sha512", "digest=sha512"]),
    "ecdsa-soap12": (SOAP12, "ecclient", ["keyid=bst", "sigalg=ecdsa-sha256"]),
    "rsa-sha1-soap11": (SOAP11, "client", ["keyid=bst", "sigalg=rsa-sha1", "digest=sha1"]),
    "rogue-soap11": (SOAP11, "rogue", ["keyid=bst"]),
    "expired-soap11": (SOAP11, "expired", ["keyid=bst"]),
}


@pytest.fixture(scope="module")
def wss4j_messages(wss4j: Harness, pki) -> dict[str, bytes]:
    jobs = []
    for name, (soap_ns, who, opts) in WSS4J_CASES.items():
        src = wss4j.dir / f"plain-{name}.xml"
        src.write_bytes(envelope(soap_ns))
        ident = getattr(pki, {"ecclient": "ec_client"}.get(who, who))
        jobs.append(
            [
                "secure",
                str(src),
                str(wss4j.dir / f"wss4j-{name}.xml"),
                str(ident.p12_path),
                f"alias={who}",
                *opts,
            ]
        )
    results = wss4j.batch(jobs)
    for (rc, lines), name in zip(results, WSS4J_CASES, strict=True):
        assert rc == 0, f"WSS4J could not secure {name}: {lines}"
    return {name: (wss4j.dir / f"wss4j-{name}.xml").read_bytes() for name in WSS4J_CASES}


def _verifier(pki, **kw) -> Verifier:
    kw.setdefault("trust", [pki.ca.cert_path])
    kw.setdefault("certs", [pki.client.cert_path, pki.ec_client.cert_path])
    return Verifier(**kw)


@pytest.mark.parametrize(
    "name",
    [n for n in WSS4J_CASES if n not in ("rsa-sha1-soap11", "rogue-soap11", "expired-soap11")],
)
def test_apisec_verifies_wss4j(name: str, wss4j_messages, pki) -> None:
    msg = wss4j_messages[name]
    users = {"alice": "s3cret"} if "-ut-" in name else None
    require = ["Body", "Timestamp"]
    if "ut-digest" in name:
        require.append("UsernameToken")
    if "wsa" in name:
        require += ["To", "Action"]
    result = _verifier(pki, users=users, require=require).verify(msg)
    root = result.envelope
    body = root.find(f"{{{etree.QName(root).namespace}}}Body")
    assert result.is_signed(body)
    assert set(require) <= set(result.signed_parts) | {"To", "Action"}
    expected_cn = "ecclient" if "ecdsa" in name else "client"
    assert result.signer_certificate.subject.rfc4514_string().endswith(f"CN={expected_cn}")
    assert result.timestamp_created is not None and result.timestamp_expires is not None
    if users:
        assert result.username == "alice"


def test_wss4j_key_references_are_what_we_think(wss4j_messages) -> None:
    """Guard the matrix: each WSS4J message really uses the key reference named."""
    assert b"#X509SubjectKeyIdentifier" in wss4j_messages["ski-soap11"]
    assert b"X509IssuerSerial" in wss4j_messages["issuer-serial-soap11"]
    assert b"#ThumbprintSHA1" in wss4j_messages["thumbprint-soap11"]
    assert b"BinarySecurityToken" not in wss4j_messages["ski-soap11"]
    assert b"#PasswordDigest" in wss4j_messages["bst-soap12-ut-digest"]
    assert b"#PasswordText" in wss4j_messages["ski-soap12-ut-text"]


def test_wss4j_sha1_refused_unless_allowed(wss4j_messages, pki) -> None:
    msg = wss4j_messages["rsa-sha1-soap11"]
    with pytest.raises(PolicyViolation, match="SHA-1"):
        _verifier(pki).verify(msg)
    assert "Body" in _verifier(pki, allow_sha1=True).verify(msg).signed_parts


def test_wss4j_tampered_body_refused(wss4j_messages, pki) -> None:
    msg = wss4j_messages["bst-soap11"].replace(b"Widget 3<", b"Widget 9<")
    with pytest.raises(InvalidSignature, match="digest of Body"):
        _verifier(pki).verify(msg)


def test_wss4j_tampered_timestamp_refused(wss4j_messages, pki) -> None:
    msg = wss4j_messages["ski-soap11"]
    root = parse_xml(msg)
    expires = root.find(".//{*}Timestamp/{*}Expires")
    expires.text = "2099-01-01T00:00:00.000Z"
    with pytest.raises(InvalidSignature, match="Timestamp"):
        _verifier(pki).verify(etree.tostring(root))


def test_wss4j_untrusted_signer_refused(wss4j_messages, pki) -> None:
    with pytest.raises(UntrustedKey, match="rogue"):
        _verifier(pki).verify(wss4j_messages["rogue-soap11"])
    # the client's own message against a trust store without our CA
    with pytest.raises(UntrustedKey):
        Verifier(trust=[pki.rogue.cert_path]).verify(wss4j_messages["bst-soap11"])


def test_wss4j_expired_certificate_refused(wss4j_messages, pki) -> None:
    with pytest.raises(UntrustedKey, match="expired"):
        _verifier(pki).verify(wss4j_messages["expired-soap11"])


def test_wss4j_expired_message_refused(wss4j_messages, pki) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)
    with pytest.raises(Expired, match="expired"):
        _verifier(pki).verify(wss4j_messages["bst-soap11"], at=later)


def test_wss4j_wrong_password_refused(wss4j_messages, pki) -> None:
    for name in ("bst-soap12-ut-digest", "ski-soap12-ut-text"):
        with pytest.raises(AuthenticationFailed):
            _verifier(pki, users={"alice": "wrong"}).verify(wss4j_messages[name])


def test_wss4j_replay_refused(wss4j_messages, pki) -> None:
    v = _verifier(pki)
    v.verify(wss4j_messages["thumbprint-soap11"])
    with pytest.raises(ReplayDetected):
        v.verify(wss4j_messages["thumbprint-soap11"])


def test_wss4j_ski_without_known_certificate_refused(wss4j_messages, pki) -> None:
    with pytest.raises(UntrustedKey, match="not known"):
        Verifier(trust=[pki.ca.cert_path]).verify(wss4j_messages["ski-soap11"])


# -- apisec signs, WSS4J processes ------------------------------------------------------

APISEC_CASES = {
    # name: (soap ns, identity, Signer kwargs)
    "bst-soap11-ut-digest": (
        SOAP11,
        "client",
        dict(
            key_identifier="bst", username="bob", password="pw", sign=("Body", "Timestamp", "UsernameToken")
        ),
    ),
    "ski-soap11": (SOAP11, "client", dict(key_identifier="ski")),
    "issuer-serial-soap11": (SOAP11, "client", dict(key_identifier="issuer-serial")),
    "thumbprint-soap11-ut-text": (
        SOAP11,
        "client",
        dict(key_identifier="thumbprint", username="bob", password="pw", password_type="text"),
    ),
    "bst-soap12-wsa": (SOAP12, "client", dict(sign=("Body", "Timestamp", "To", "Action"))),
    "ski-soap12-sha512": (
        SOAP12,
        "client",
        dict(key_identifier="ski", signature_algorithm="rsa-sha512", digest_algorithm="sha512"),
    ),
    "ecdsa-soap12": (SOAP12, "ec_client", dict(signature_algorithm="ecdsa-sha256")),
}


@pytest.fixture(scope="module")
def wss4j_processed(wss4j: Harness, pki) -> dict[str, tuple[int, list[str]]]:
    jobs, names = [], []
    for name, (soap_ns, who, kw) in APISEC_CASES.items():
        ident = getattr(pki, who)
        signed = Signer(ident.key_path, ident.cert_path, **kw).sign(envelope(soap_ns))
        path = wss4j.dir / f"apisec-{name}.xml"
        path.write_bytes(signed)
        users = ["users=bob:pw"] if kw.get("username") else []
        jobs.append(["process", str(path), str(wss4j.truststore), *users])
        names.append(name)
    # negatives: tampered Body, untrusted signer, wrong UsernameToken password
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(envelope(SOAP11))
    (wss4j.dir / "apisec-tampered.xml").write_bytes(signed.replace(b"Widget 3<", b"Widget 9<"))
    jobs.append(["process", str(wss4j.dir / "apisec-tampered.xml"), str(wss4j.truststore)])
    names.append("tampered")
    rogue = Signer(pki.rogue.key_path, pki.rogue.cert_path).sign(envelope(SOAP11))
    (wss4j.dir / "apisec-rogue.xml").write_bytes(rogue)
    jobs.append(["process", str(wss4j.dir / "apisec-rogue.xml"), str(wss4j.truststore)])
    names.append("rogue")
    ut = Signer(pki.client.key_path, pki.client.cert_path, username="bob", password="pw").sign(
        envelope(SOAP11)
    )
    (wss4j.dir / "apisec-wrongpw.xml").write_bytes(ut)
    jobs.append(["process", str(wss4j.dir / "apisec-wrongpw.xml"), str(wss4j.truststore), "users=bob:nope"])
    names.append("wrong-password")
    return dict(zip(names, wss4j.batch(jobs), strict=True))


@pytest.mark.parametrize("name", list(APISEC_CASES))
def test_wss4j_processes_apisec(name: str, wss4j_processed) -> None:
    rc, lines = wss4j_processed[name]
    assert rc == 0, f"WSS4J refused apisec's {name}: {lines}"
    soap_ns, who, kw = APISEC_CASES[name]
    signed = {ln.split(" ", 1)[1] for ln in lines if ln.startswith("SIGNED ")}
    assert f"{{{soap_ns}}}Body" in signed
    assert (
        "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Timestamp"
        in signed
    )
    if "To" in kw.get("sign", ()):
        assert f"{{{WSA}}}To" in signed and f"{{{WSA}}}Action" in signed
    cn = "ecclient" if who == "ec_client" else "client"
    assert any(ln.startswith("SIGNER ") and f"CN={cn}" in ln for ln in lines), lines
    assert "VALIDATED true" in lines
    assert any(ln.startswith("TIMESTAMP ") for ln in lines)
    if kw.get("username"):
        assert "UT bob" in lines


@pytest.mark.parametrize("name", ["tampered", "rogue", "wrong-password"])
def test_wss4j_refuses_bad_apisec_messages(name: str, wss4j_processed) -> None:
    rc, lines = wss4j_processed[name]
    assert rc == 1 and lines and lines[0].startswith("FAIL "), lines


def test_java_is_real(wss4j: Harness) -> None:
    assert shutil.which(wss4j.java) and (wss4j.dir / "WssHarness.class").exists()
