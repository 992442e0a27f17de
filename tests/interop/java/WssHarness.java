/*
 * Interop peer for apisec's WS-Security signatures: a thin command-line face
 * over Apache WSS4J 1.6 (Apache Santuario underneath), used by
 * tests/interop/test_wss4j_sign.py.  A test harness, not product code.
 *
 *   java WssHarness secure IN OUT KEYSTORE [key=value ...]
 *       WSS4J adds a Security header to the SOAP 1.1/1.2 message IN:
 *       a Timestamp (ts=SECONDS, default 300, 0 for none), an optional
 *       UsernameToken (ut=USER:PASSWORD, utype=digest|text) and a signature
 *       with the "client" key (alias=client) over parts=Body,Timestamp,...
 *       ("Body", "Timestamp", "UsernameToken" or "{ns}local" headers), with
 *       keyid=bst|ski|issuer-serial|thumbprint|x509, sigalg=rsa-sha256|rsa-sha1|
 *       rsa-sha512|ecdsa-sha256 and digest=sha256|sha1|sha512.
 *   java WssHarness process IN TRUSTSTORE [users=USER:PASSWORD]
 *       WSS4J processes the Security header (signature trust from TRUSTSTORE,
 *       which also holds the known signer certificates for ski/thumbprint/
 *       issuer-serial references) and prints one line per result:
 *       "SIGNED {ns}local", "SIGNER <subject>", "TIMESTAMP <created>",
 *       "UT <user>".  Exit 1 with "FAIL <reason>" when WSS4J refuses it.
 *   java WssHarness batch JOBS
 *       Runs every line of JOBS (TAB-separated arguments of the commands
 *       above) in this one JVM, framing each with "BEGIN i" / "END i rc".
 *
 * Keystores are PKCS#12; every keystore password is "changeit".
 */

import java.io.FileOutputStream;
import java.io.OutputStream;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
import org.apache.ws.security.message.WSSecHeader;
import org.apache.ws.security.message.WSSecSignature;
import org.apache.ws.security.message.WSSecTimestamp;
import org.apache.ws.security.message.WSSecUsernameToken;
import org.apache.ws.security.message.token.Timestamp;
import org.apache.ws.security.message.token.UsernameToken;
import org.w3c.dom.Document;

public final class WssHarness {
    private static final String PASSWORD = HarnessUtil.PASSWORD;

    private WssHarness() {}

    public static void main(String[] args) throws Exception {
        WSSConfig.init();
        if (args.length == 2 && "batch".equals(args[0])) {
            // One JVM for many jobs (JVM start-up dominates the test time):
            // each line of the file is one command, fields separated by TABs.
            List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Paths.get(args[1]));
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isEmpty()) {
                    continue;
                }
                System.out.println("BEGIN " + i);
                int rc = run(lines.get(i).split("\t"));
                System.out.println("END " + i + " " + rc);
            }
            System.exit(0);
        }
        System.exit(run(args));
    }

    private static int run(String[] args) {
        try {
            if (args.length >= 4 && "secure".equals(args[0])) {
                secure(args[1], args[2], args[3], options(args, 4));
            } else if (args.length >= 3 && "process".equals(args[0])) {
                process(args[1], args[2], options(args, 3));
            } else {
                System.out.println("FAIL usage: secure IN OUT KEYSTORE [k=v...] | process IN TRUSTSTORE [users=U:P] | batch FILE");
                return 2;
            }
            return 0;
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            System.out.println("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage()
                + (root != e ? " (cause " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : ""));
            return 1;
        }
    }

    private static Map<String, String> options(String[] args, int from) {
        Map<String, String> m = new HashMap<>();
        for (int i = from; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected key=value: " + args[i]);
            }
            m.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        return m;
    }

    private static String sigAlg(String name) {
        switch (name) {
            case "rsa-sha1": return WSConstants.RSA_SHA1;
            case "rsa-sha256": return "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
            case "rsa-sha512": return "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
            case "ecdsa-sha256": return "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
            default: throw new IllegalArgumentException("unknown signature algorithm " + name);
        }
    }

    private static String digestAlg(String name) {
        switch (name) {
            case "sha1": return WSConstants.SHA1;
            case "sha256": return WSConstants.SHA256;
            case "sha512": return "http://www.w3.org/2001/04/xmlenc#sha512";
            default: throw new IllegalArgumentException("unknown digest " + name);
        }
    }

    private static void secure(String in, String outPath, String keystore, Map<String, String> o) throws Exception {
        Document doc = HarnessUtil.parse(in);
        Merlin crypto = new Merlin();
        crypto.setKeyStore(HarnessUtil.load(keystore));
        String soapNs = doc.getDocumentElement().getNamespaceURI();
        WSSecHeader header = new WSSecHeader();
        header.setMustUnderstand(true);
        header.insertSecurityHeader(doc);

        List<WSEncryptionPart> parts = new ArrayList<>();
        for (String p : o.getOrDefault("parts", "Body,Timestamp").split(",")) {
            if ("Body".equals(p)) {
                parts.add(new WSEncryptionPart("Body", soapNs, ""));
            } else if ("Timestamp".equals(p)) {
                parts.add(new WSEncryptionPart("Timestamp", WSConstants.WSU_NS, ""));
            } else if ("UsernameToken".equals(p)) {
                parts.add(new WSEncryptionPart("UsernameToken", WSConstants.WSSE_NS, ""));
            } else if (p.startsWith("{")) {
                int end = p.indexOf('}');
                parts.add(new WSEncryptionPart(p.substring(end + 1), p.substring(1, end), ""));
            } else if (!p.isEmpty()) {
                throw new IllegalArgumentException("unknown part " + p);
            }
        }
        // WSS4J prepends each element to the header: build the signature first,
        // then the tokens, so the final order is Timestamp, UsernameToken, BST, Signature.
        WSSecSignature sign = new WSSecSignature();
        sign.setUserInfo(o.getOrDefault("alias", "client"), PASSWORD);
        sign.setKeyIdentifierType(HarnessUtil.keyIdType(o.getOrDefault("keyid", "bst")));
        sign.setSignatureAlgorithm(sigAlg(o.getOrDefault("sigalg", "rsa-sha256")));
        sign.setDigestAlgo(digestAlg(o.getOrDefault("digest", "sha256")));
        sign.setParts(parts);

        String ut = o.get("ut");
        WSSecUsernameToken utBuilder = null;
        if (ut != null) {
            String[] up = ut.split(":", 2);
            utBuilder = new WSSecUsernameToken();
            utBuilder.setPasswordType("text".equals(o.get("utype")) ? WSConstants.PASSWORD_TEXT : WSConstants.PASSWORD_DIGEST);
            utBuilder.setUserInfo(up[0], up[1]);
            utBuilder.addNonce();
            utBuilder.addCreated();
            utBuilder.prepare(doc);
        }
        int ttl = Integer.parseInt(o.getOrDefault("ts", "300"));
        WSSecTimestamp ts = null;
        if (ttl > 0) {
            ts = new WSSecTimestamp();
            ts.setTimeToLive(ttl);
            ts.prepare(doc);
        }
        // Insert tokens first so the signature can reference them by id.
        if (utBuilder != null) {
            utBuilder.prependToHeader(header);
        }
        if (ts != null) {
            ts.prependToHeader(header);
        }
        sign.build(doc, crypto, header);
        // build() prepended BST + Signature above the tokens; move Timestamp and
        // UsernameToken back to the top (strict layout: Timestamp first).
        if (utBuilder != null) {
            header.getSecurityHeader().insertBefore(utBuilder.getUsernameTokenElement(), header.getSecurityHeader().getFirstChild());
        }
        if (ts != null) {
            header.getSecurityHeader().insertBefore(ts.getElement(), header.getSecurityHeader().getFirstChild());
        }
        try (OutputStream out = new FileOutputStream(outPath)) {
            out.write(HarnessUtil.serialize(doc));
        }
    }

    private static void process(String in, String truststore, Map<String, String> o) throws Exception {
        Document doc = HarnessUtil.parse(in);
        Merlin crypto = new Merlin();
        KeyStore trust = HarnessUtil.load(truststore);
        crypto.setTrustStore(trust);
        crypto.setKeyStore(trust);
        final Map<String, String> users = new HashMap<>();
        if (o.containsKey("users")) {
            String[] up = o.get("users").split(":", 2);
            users.put(up[0], up[1]);
        }
        CallbackHandler cb = (Callback[] callbacks) -> {
            for (Callback c : callbacks) {
                if (c instanceof WSPasswordCallback) {
                    WSPasswordCallback pc = (WSPasswordCallback) c;
                    String pw = users.get(pc.getIdentifier());
                    pc.setPassword(pw != null ? pw : PASSWORD);
                }
            }
        };
        WSSecurityEngine engine = new WSSecurityEngine();
        List<WSSecurityEngineResult> results = engine.processSecurityHeader(doc, null, cb, crypto);
        if (results == null || results.isEmpty()) {
            throw new IllegalStateException("no security results");
        }
        StringBuilder out = new StringBuilder();
        for (WSSecurityEngineResult r : results) {
            int action = (Integer) r.get(WSSecurityEngineResult.TAG_ACTION);
            if (action == WSConstants.SIGN) {
                @SuppressWarnings("unchecked")
                List<WSDataRef> refs = (List<WSDataRef>) r.get(WSSecurityEngineResult.TAG_DATA_REF_URIS);
                if (refs != null) {
                    for (WSDataRef ref : refs) {
                        out.append("SIGNED ").append(ref.getName()).append('\n');
                    }
                }
                X509Certificate cert = (X509Certificate) r.get(WSSecurityEngineResult.TAG_X509_CERTIFICATE);
                if (cert != null) {
                    out.append("SIGNER ").append(cert.getSubjectX500Principal().getName()).append('\n');
                }
                Object trusted = r.get(WSSecurityEngineResult.TAG_VALIDATED_TOKEN);
                out.append("VALIDATED ").append(trusted).append('\n');
            } else if (action == WSConstants.TS) {
                Timestamp t = (Timestamp) r.get(WSSecurityEngineResult.TAG_TIMESTAMP);
                out.append("TIMESTAMP ").append(t.getCreated()).append('\n');
            } else if (action == WSConstants.UT || action == WSConstants.UT_NOPASSWORD) {
                UsernameToken t = (UsernameToken) r.get(WSSecurityEngineResult.TAG_USERNAME_TOKEN);
                out.append("UT ").append(t.getName()).append('\n');
            }
        }
        System.out.print(out);
    }
}
