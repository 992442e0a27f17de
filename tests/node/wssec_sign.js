// Sign one SOAP envelope the way node-soap's security classes do, offline.
//
// Reads a JSON spec on stdin and prints the secured envelope on stdout:
//   {"mode": "cert" | "plus-cert" | "cert-with-token" | "xmlcrypto-enveloping",
//    "xml": "<soap:Envelope ...>", "envelopeKey": "soap",
//    "key": "/path/key.pem", "cert": "/path/cert.pem",
//    "username": "...", "password": "...", "options": {...}}
//
// "cert", "plus-cert" and "cert-with-token" call node-soap's own
// WSSecurityCert / WSSecurityPlusCert / WSSecurityCertWithToken postProcess
// (the code a node-soap client runs before sending).  "xmlcrypto-enveloping"
// uses xml-crypto directly to sign a Reference whose target CONTAINS the
// Signature (the Security header), with the enveloped-signature transform:
// the case node-soap never produces but XML-DSig defines.
"use strict";

const fs = require("fs");
const soap = require("soap");
const { SignedXml } = require("xml-crypto");

const WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";

function main() {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const key = fs.readFileSync(spec.key);
  const cert = fs.readFileSync(spec.cert);
  const envKey = spec.envelopeKey || "soap";
  const options = spec.options || {};
  let out;
  if (spec.mode === "cert") {
    out = new soap.WSSecurityCert(key, cert, "", options).postProcess(spec.xml, envKey);
  } else if (spec.mode === "plus-cert") {
    const ut = new soap.WSSecurity(spec.username, spec.password, spec.utOptions || {});
    const sig = new soap.WSSecurityCert(key, cert, "", options);
    out = new soap.WSSecurityPlusCert(ut, sig).postProcess(spec.xml, envKey);
  } else if (spec.mode === "cert-with-token") {
    out = new soap.WSSecurityCertWithToken({
      privateKey: key,
      publicKey: cert,
      keyPassword: "",
      username: spec.username,
      password: spec.password,
      options,
    }).postProcess(spec.xml, envKey);
  } else if (spec.mode === "xmlcrypto-enveloping") {
    out = signEnveloping(spec.xml, key, spec.action || "append");
  } else {
    throw new Error(`unknown mode ${spec.mode}`);
  }
  process.stdout.write(out);
}

function signEnveloping(xml, key, action) {
  // The input already has a Security header holding a BST with wsu:Id="x509".
  const sig = new SignedXml({
    privateKey: key,
    idMode: "wssecurity",
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
    getKeyInfoContent: () =>
      `<wsse:SecurityTokenReference xmlns:wsse="${WSSE}">` +
      `<wsse:Reference URI="#x509" ValueType="${X509V3}"/></wsse:SecurityTokenReference>`,
  });
  const transforms = [
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
  ];
  const digestAlgorithm = "http://www.w3.org/2001/04/xmlenc#sha256";
  sig.addReference({ xpath: "//*[local-name(.)='Body']", transforms, digestAlgorithm });
  sig.addReference({ xpath: `//*[local-name(.)='Security' and namespace-uri(.)='${WSSE}']`, transforms, digestAlgorithm });
  sig.computeSignature(xml, {
    prefix: "ds",
    location: { reference: `//*[local-name(.)='Security' and namespace-uri(.)='${WSSE}']`, action },
  });


  return sig.getSignedXml();
}

main();
