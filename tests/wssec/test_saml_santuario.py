"""SAML interop with Apache Santuario (Java), the XML-DSig engine under
OpenSAML/Shibboleth and WSS4J, independent of the libxmlsec1 that apisec,
xmlsec1 and pysaml2 share:

* assertions and Responses apisec issues verify in Santuario (secure
  validation on, ID attributes registered, the signer's key);
* an assertion Santuario signs (enveloped, exc-c14n, rsa-sha256, KeyInfo
  X509) verifies in apisec, and refuses once tampered.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import require_peer
from wssec.errors import InvalidSignature
from wssec.saml import Issuer, verify

JAVA_DIR = Path("/usr/share/java")
JARS = ["xmlsec.jar", "commons-logging.jar", "slf4j-api.jar", "slf4j-nop.jar"]
SP = "urn:sp"

HARNESS = r"""
import java.io.*;
import java.security.*;
import java.security.cert.*;
import javax.xml.parsers.*;
import javax.xml.transform.*;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.*;
import org.apache.xml.security.signature.XMLSignature;
import org.apache.xml.security.transforms.Transforms;
import org.apache.xml.security.c14n.Canonicalizer;
import org.apache.xml.security.algorithms.MessageDigestAlgorithm;

public class SamlSantuario {
    static Document parse(String path) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document d = f.newDocumentBuilder().parse(new File(path));
        NodeList all = d.getElementsByTagNameNS("*", "*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            for (String n : new String[] {"ID", "AssertionID", "ResponseID"})
                if (e.hasAttributeNS(null, n)) e.setIdAttributeNS(null, n, true);
        }
        return d;
    }

    public static void main(String[] a) throws Exception {
        org.apache.xml.security.Init.init();
        if (a[0].equals("verify")) {          // verify FILE CERT.pem
            Document d = parse(a[1]);
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new FileInputStream(a[2]));
            NodeList sigs = d.getElementsByTagNameNS(XMLSignature_NS, "Signature");
            if (sigs.getLength() == 0) { System.out.println("NO SIGNATURE"); System.exit(1); }
            for (int i = 0; i < sigs.getLength(); i++) {
                XMLSignature s = new XMLSignature((Element) sigs.item(i), "", true);
                if (!s.checkSignatureValue(cert)) { System.out.println("FAIL " + i); System.exit(1); }
            }
            System.out.println("OK " + sigs.getLength());
        } else {                               // sign IN OUT KEY.p12 PASSWORD ALIAS
            Document d = parse(a[1]);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(new FileInputStream(a[3]), a[4].toCharArray());
            PrivateKey key = (PrivateKey) ks.getKey(a[5], a[4].toCharArray());
            X509Certificate cert = (X509Certificate) ks.getCertificate(a[5]);
            Element root = d.getDocumentElement();
            XMLSignature sig = new XMLSignature(d, "", XMLSignature.ALGO_ID_SIGNATURE_RSA_SHA256,
                Canonicalizer.ALGO_ID_C14N_EXCL_OMIT_COMMENTS);
            Node issuer = root.getElementsByTagNameNS(root.getNamespaceURI(), "Issuer").item(0);
            root.insertBefore(sig.getElement(), issuer.getNextSibling());
            Transforms t = new Transforms(d);
            t.addTransform(Transforms.TRANSFORM_ENVELOPED_SIGNATURE);
            t.addTransform(Transforms.TRANSFORM_C14N_EXCL_OMIT_COMMENTS);
            sig.addDocument("#" + root.getAttribute("ID"), t, MessageDigestAlgorithm.ALGO_ID_DIGEST_SHA256);
            sig.addKeyInfo(cert);
            sig.sign(key);
            Transformer tf = TransformerFactory.newInstance().newTransformer();
            tf.transform(new DOMSource(d), new StreamResult(new File(a[2])));
            System.out.println("SIGNED");
        }
    }
    static final String XMLSignature_NS = "http://www.w3.org/2000/09/xmldsig#";
}
"""


@pytest.fixture(scope="module")
def santuario(tmp_path_factory):
    """Compile the harness once; return a runner."""
    javac = require_peer("javac", "Santuario interop needs a JDK")
    java = require_peer("java", "Santuario interop needs a JDK")
    missing = [j for j in JARS if not (JAVA_DIR / j).exists()]
    if missing:
        pytest.fail(f"Santuario jars missing: {missing} (apt-get install libxml-security-java)")
    classpath = ":".join(str(JAVA_DIR / j) for j in JARS)
    build = tmp_path_factory.mktemp("santuario")
    (build / "SamlSantuario.java").write_text(HARNESS)
    proc = subprocess.run(
        [javac, "-cp", classpath, "-d", str(build), str(build / "SamlSantuario.java")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [java, "-cp", f"{build}:{classpath}", "SamlSantuario", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="module")
def idp(pki) -> Issuer:
    return Issuer(pki.service.key, pki.service.cert, "https://idp.example")


def test_santuario_verifies_apisec_tokens(santuario, idp, pki, tmp_path) -> None:
    files = {
        "a2.xml": idp.issue("alice", audience=SP, attributes={"role": "user"}),
        "a11.xml": idp.issue("alice", audience=SP, saml_version="1.1", confirmation="sender-vouches"),
        "resp.xml": idp.issue_response("alice", audience=SP, destination="https://sp/acs"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        good = santuario("verify", str(tmp_path / name), str(pki.service.cert_path))
        assert good.returncode == 0 and good.stdout.startswith("OK"), (name, good.stdout, good.stderr[-500:])
        (tmp_path / f"bad-{name}").write_bytes(data.replace(b">alice<", b">mallory<"))
        bad = santuario("verify", str(tmp_path / f"bad-{name}"), str(pki.service.cert_path))
        assert bad.returncode != 0, name
    wrong_key = santuario("verify", str(tmp_path / "a2.xml"), str(pki.client.cert_path))
    assert wrong_key.returncode != 0


def test_apisec_verifies_santuario_signed_assertion(santuario, idp, pki, tmp_path) -> None:
    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(
        etree.tostring(idp.issue_element("alice", audience=SP, attributes={"r": "x"}, sign=False))
    )
    signed = tmp_path / "signed.xml"
    proc = santuario("sign", str(unsigned), str(signed), str(pki.service.p12_path), "changeit", "service")
    assert proc.returncode == 0, proc.stderr[-800:]
    data = signed.read_bytes()
    r = verify(data, trust=pki.ca.cert, audience=SP)
    assert (r.subject, r.attributes, r.signed_by) == ("alice", {"r": ["x"]}, "assertion")
    with pytest.raises(InvalidSignature):
        verify(data.replace(b">alice<", b">mallory<"), trust=pki.ca.cert, audience=SP)
