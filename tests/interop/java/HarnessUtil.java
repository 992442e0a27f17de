/*
 * Helpers shared by the WSS4J test harnesses (WssHarness for signatures,
 * WssEncryptHarness for encryption): keystore loading, DOCTYPE-refusing
 * parsing, serialisation and apisec's key-identifier names.  Test code only;
 * compiled together with each harness.
 */
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.KeyStore;

import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.apache.ws.security.WSConstants;
import org.w3c.dom.Document;
import org.w3c.dom.Node;

final class HarnessUtil {
    static final String PASSWORD = "changeit";

    private HarnessUtil() {
    }

    static KeyStore load(String path) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(path)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        return ks;
    }

    static Document parse(String path) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder b = f.newDocumentBuilder();
        try (InputStream in = new FileInputStream(path)) {
            return b.parse(in);
        }
    }

    static byte[] serialize(Node node) throws Exception {
        Transformer t = TransformerFactory.newInstance().newTransformer();
        t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        t.transform(new DOMSource(node), new StreamResult(out));
        return out.toByteArray();
    }

    static int keyIdType(String name) {
        switch (name) {
            case "bst": return WSConstants.BST_DIRECT_REFERENCE;
            case "ski": return WSConstants.SKI_KEY_IDENTIFIER;
            case "issuer-serial": return WSConstants.ISSUER_SERIAL;
            case "thumbprint": return WSConstants.THUMBPRINT_IDENTIFIER;
            case "x509": return WSConstants.X509_KEY_IDENTIFIER;
            default: throw new IllegalArgumentException("unknown key identifier " + name);
        }
    }
}
