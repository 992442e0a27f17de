/*
 * Interop peer for apisec's XML Encryption: a thin command-line face over
 * Apache WSS4J 1.6 (with Apache Santuario underneath), used by
 * tests/interop/test_wss4j_encrypt.py.  It is a test harness, not product code.
 *
 *   java WssEncryptHarness protect IN OUT KEYSTORE TRUSTSTORE CIPHER KEYID [PARTS] [KT]
 *       WSS4J signs the Body with "client" (BST reference, exc-c14n, rsa-sha1)
 *       then encrypts PARTS for "service" with CIPHER (aes128-cbc, aes256-cbc,
 *       aes128-gcm, aes256-gcm, tripledes-cbc) and key transport KT
 *       (rsa-oaep = rsa-oaep-mgf1p, default).  KEYID: issuer-serial, ski, bst,
 *       thumbprint.  PARTS: comma list of "Body" or "{ns}local" headers
 *       (encrypted as wsse11:EncryptedHeader).
 *   java WssEncryptHarness process IN KEYSTORE TRUSTSTORE
 *       WSS4J processes the Security header with "service"'s private key for
 *       decryption and the truststore for signature trust, then prints one line
 *       per result ("ENCRYPTED <qname> content|element <algorithm>",
 *       "SIGNED <qname>", "SIGNER <subject>") and "BODY <decrypted Body XML>".
 *       Exit 1 with "FAIL <reason>" when WSS4J refuses the message.
 *
 *   java WssEncryptHarness santuario IN KEYSTORE
 *       Bypasses WSS4J (whose 1.6 algorithm list lacks xmlenc11#rsa-oaep) and
 *       uses Apache Santuario's XMLCipher directly: unwraps every
 *       xenc:EncryptedKey with "service"'s private key (OAEP digest/MGF read
 *       from the EncryptionMethod) and decrypts the EncryptedData its
 *       ReferenceList names; prints "KEYTRANSPORT <uri>" and the Body.
 *
 *   java WssEncryptHarness batch JOBFILE
 *       Runs every line of JOBFILE (one tab-separated command above) in this
 *       one JVM, each output preceded by "=== JOB <n> rc=<exit code>".
 *
 * Keystores are PKCS#12 built with keytool; every password is "changeit".
 */

import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;

import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSDataRef;
import org.apache.ws.security.WSEncryptionPart;
import org.apache.ws.security.WSPasswordCallback;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.apache.ws.security.components.crypto.Merlin;
import org.apache.ws.security.message.WSSecEncrypt;
import org.apache.ws.security.message.WSSecHeader;
import org.apache.ws.security.message.WSSecSignature;
import org.apache.xml.security.encryption.EncryptedKey;
import org.apache.xml.security.encryption.XMLCipher;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

public final class WssEncryptHarness {
    private static final String PASSWORD = HarnessUtil.PASSWORD;

    private WssEncryptHarness() {}

    public static void main(String[] args) throws Exception {
        WSSConfig.init();
        if (args.length == 2 && "batch".equals(args[0])) {
            // One JVM for many jobs (JVM start-up dominates the test time):
            // each line of the job file is one tab-separated command; the
            // output of each is preceded by "=== JOB <n> rc=<code>".
            List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Paths.get(args[1]));
            int n = 0;
            for (String line : lines) {
                if (line.isEmpty()) {
                    continue;
                }
                StringBuilder out = new StringBuilder();
                int rc = run(line.split("\t", -1), out);
                System.out.print("=== JOB " + n++ + " rc=" + rc + "\n" + out);
            }
            return;
        }
        StringBuilder out = new StringBuilder();
        int rc = run(args, out);
        System.out.print(out);
        System.exit(rc);
    }

    private static int run(String[] args, StringBuilder out) {
        try {
            if (args.length >= 7 && "protect".equals(args[0])) {
                protect(args);
            } else if (args.length == 4 && "process".equals(args[0])) {
                process(args, out);
            } else if (args.length == 3 && "santuario".equals(args[0])) {
                santuario(args, out);
            } else {
                out.append("usage: protect IN OUT KEYSTORE TRUSTSTORE CIPHER KEYID [PARTS] [KT]"
                    + " | process IN KEYSTORE TRUSTSTORE | santuario IN KEYSTORE | batch JOBFILE\n");
                return 2;
            }
            return 0;
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            out.append("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage()
                + (root != e ? " (cause " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : "")
                + "\n");
            return 1;
        }
    }

    private static Merlin crypto(String keystore, String truststore) throws Exception {
        Merlin merlin = new Merlin();
        merlin.setKeyStore(HarnessUtil.load(keystore));
        merlin.setTrustStore(HarnessUtil.load(truststore));
        return merlin;
    }

    private static String cipherUri(String name) {
        switch (name) {
            case "aes128-cbc": return WSConstants.AES_128;
            case "aes256-cbc": return WSConstants.AES_256;
            case "aes128-gcm": return WSConstants.AES_128_GCM;
            case "aes256-gcm": return WSConstants.AES_256_GCM;
            case "tripledes-cbc": return WSConstants.TRIPLE_DES;
            default: throw new IllegalArgumentException("unknown cipher " + name);
        }
    }

    private static void protect(String[] a) throws Exception {
        Document doc = HarnessUtil.parse(a[1]);
        Merlin crypto = crypto(a[3], a[4]);
        String soapNs = doc.getDocumentElement().getNamespaceURI();
        WSSecHeader header = new WSSecHeader();
        header.setMustUnderstand(true);
        header.insertSecurityHeader(doc);

        WSSecSignature sign = new WSSecSignature();
        sign.setUserInfo("client", PASSWORD);
        sign.setKeyIdentifierType(WSConstants.BST_DIRECT_REFERENCE);
        List<WSEncryptionPart> signParts = new ArrayList<>();
        signParts.add(new WSEncryptionPart("Body", soapNs, ""));
        sign.setParts(signParts);
        sign.build(doc, crypto, header);

        WSSecEncrypt enc = new WSSecEncrypt();
        enc.setUserInfo("service");
        enc.setKeyIdentifierType(HarnessUtil.keyIdType(a[6]));
        enc.setSymmetricEncAlgorithm(cipherUri(a[5]));
        String kt = a.length > 8 ? a[8] : "rsa-oaep";
        if ("rsa-oaep".equals(kt)) {
            enc.setKeyEnc(WSConstants.KEYTRANSPORT_RSAOEP);
        } else if ("rsa-oaep-sha256".equals(kt)) {
            enc.setKeyEnc(WSConstants.KEYTRANSPORT_RSAOEP);
            enc.setDigestAlgorithm(WSConstants.SHA256);
        } else if ("rsa-1_5".equals(kt)) {
            enc.setKeyEnc(WSConstants.KEYTRANSPORT_RSA15);
        } else {
            throw new IllegalArgumentException("unknown key transport " + kt);
        }
        List<WSEncryptionPart> encParts = new ArrayList<>();
        String parts = a.length > 7 && !a[7].isEmpty() ? a[7] : "Body";
        for (String p : parts.split(",")) {
            if ("Body".equals(p)) {
                encParts.add(new WSEncryptionPart("Body", soapNs, "Content"));
            } else if (p.startsWith("{")) {
                int end = p.indexOf('}');
                encParts.add(new WSEncryptionPart(p.substring(end + 1), p.substring(1, end), "Header"));
            } else {
                throw new IllegalArgumentException("part must be Body or {ns}local: " + p);
            }
        }
        enc.setParts(encParts);
        enc.build(doc, crypto, header);

        try (OutputStream out = new FileOutputStream(a[2])) {
            out.write(HarnessUtil.serialize(doc));
        }
    }

    private static void process(String[] a, StringBuilder out) throws Exception {
        Document doc = HarnessUtil.parse(a[1]);
        Merlin crypto = crypto(a[2], a[3]);
        CallbackHandler cb = (Callback[] callbacks) -> {
            for (Callback c : callbacks) {
                if (c instanceof WSPasswordCallback) {
                    ((WSPasswordCallback) c).setPassword(PASSWORD);
                }
            }
        };
        WSSecurityEngine engine = new WSSecurityEngine();
        List<WSSecurityEngineResult> results = engine.processSecurityHeader(doc, null, cb, crypto, crypto);
        if (results == null || results.isEmpty()) {
            throw new IllegalStateException("no security results");
        }
        for (WSSecurityEngineResult r : results) {
            int action = (Integer) r.get(WSSecurityEngineResult.TAG_ACTION);
            @SuppressWarnings("unchecked")
            List<WSDataRef> refs = (List<WSDataRef>) r.get(WSSecurityEngineResult.TAG_DATA_REF_URIS);
            if (action == WSConstants.ENCR && refs != null) {
                for (WSDataRef ref : refs) {
                    out.append("ENCRYPTED ").append(ref.getName()).append(' ')
                        .append(ref.isContent() ? "content" : "element").append(' ')
                        .append(ref.getAlgorithm()).append('\n');
                }
                Object kt = r.get(WSSecurityEngineResult.TAG_ENCRYPTED_KEY_TRANSPORT_METHOD);
                if (kt != null) {
                    out.append("KEYTRANSPORT ").append(kt).append('\n');
                }
            } else if (action == WSConstants.SIGN && refs != null) {
                for (WSDataRef ref : refs) {
                    out.append("SIGNED ").append(ref.getName()).append('\n');
                }
                X509Certificate cert = (X509Certificate) r.get(WSSecurityEngineResult.TAG_X509_CERTIFICATE);
                if (cert != null) {
                    out.append("SIGNER ").append(cert.getSubjectX500Principal().getName()).append('\n');
                }
            }
        }
        Element env = doc.getDocumentElement();
        for (Node n = env.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element && "Body".equals(n.getLocalName())) {
                out.append("BODY ").append(new String(HarnessUtil.serialize(n), StandardCharsets.UTF_8).replace('\n', ' ')).append('\n');
            }
            if (n instanceof Element && "Header".equals(n.getLocalName())) {
                out.append("HEADER ").append(new String(HarnessUtil.serialize(n), StandardCharsets.UTF_8).replace('\n', ' ')).append('\n');
            }
        }
    }

    private static void santuario(String[] a, StringBuilder out) throws Exception {
        Document doc = HarnessUtil.parse(a[1]);
        PrivateKey key = (PrivateKey) HarnessUtil.load(a[2]).getKey("service", PASSWORD.toCharArray());
        String xenc = "http://www.w3.org/2001/04/xmlenc#";
        NodeList eks = doc.getElementsByTagNameNS(xenc, "EncryptedKey");
        List<Element> ekList = new ArrayList<>();
        for (int i = 0; i < eks.getLength(); i++) {
            ekList.add((Element) eks.item(i));
        }
        for (Element ekEl : ekList) {
            NodeList refs = ekEl.getElementsByTagNameNS(xenc, "DataReference");
            List<Element> targets = new ArrayList<>();
            for (int i = 0; i < refs.getLength(); i++) {
                String id = ((Element) refs.item(i)).getAttribute("URI").substring(1);
                NodeList eds = doc.getElementsByTagNameNS(xenc, "EncryptedData");
                for (int j = 0; j < eds.getLength(); j++) {
                    Element ed = (Element) eds.item(j);
                    if (id.equals(ed.getAttribute("Id"))) {
                        targets.add(ed);
                    }
                }
            }
            for (Element ed : targets) {
                Element method = (Element) ed.getElementsByTagNameNS(xenc, "EncryptionMethod").item(0);
                XMLCipher unwrap = XMLCipher.getInstance();
                unwrap.init(XMLCipher.UNWRAP_MODE, key);
                EncryptedKey ek = unwrap.loadEncryptedKey(doc, ekEl);
                Key session = unwrap.decryptKey(ek, method.getAttribute("Algorithm"));
                XMLCipher cipher = XMLCipher.getInstance();
                cipher.init(XMLCipher.DECRYPT_MODE, session);
                cipher.doFinal(doc, ed);
            }
            out.append("KEYTRANSPORT ").append(
                ((Element) ekEl.getElementsByTagNameNS(xenc, "EncryptionMethod").item(0)).getAttribute("Algorithm")).append('\n');
        }
        Element env = doc.getDocumentElement();
        for (Node n = env.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element && "Body".equals(n.getLocalName())) {
                out.append("BODY ").append(new String(HarnessUtil.serialize(n), StandardCharsets.UTF_8).replace('\n', ' ')).append('\n');
            }
        }
    }
}
