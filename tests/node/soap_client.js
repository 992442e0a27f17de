// A real node-soap client: fetch the WSDL over HTTPS, call GetQuote with one
// of node-soap's WS-Security modes, and check the signed answer with
// xml-crypto against the service's certificate.
//
// Reads a JSON spec on stdin, prints one JSON line on stdout:
//   {"wsdl": "https://127.0.0.1:PORT/quote?wsdl", "symbol": "ACME",
//    "mode": "cert" | "ut" | "plus-cert" | "cert-with-token",
//    "key": "client.key", "cert": "client.pem", "serviceCert": "service.pem",
//    "username": "...", "password": "...",
//    "options": {...WSSecurityCert options...}, "utOptions": {...WSSecurity options...},
//    "soap12": false, "wsa": false, "tamper": false}
// -> {"ok": true, "price": "...", "request": "<xml>", "response": "<xml>",
//     "responseSignatureValid": true, "responseSignedBody": true}
//  | {"ok": false, "status": 500, "request": "<xml>", "response": "<fault xml>", "error": "..."}
//
// The CA comes from NODE_EXTRA_CA_CERTS (set by the test): TLS is verified.
"use strict";

const fs = require("fs");
const soap = require("soap");
const { SignedXml } = require("xml-crypto");
const { DOMParser } = require("@xmldom/xmldom");
const xpath = require("xpath");

const DS = "http://www.w3.org/2000/09/xmldsig#";
const WSA = "http://www.w3.org/2005/08/addressing";

function security(spec) {
  const key = spec.key ? fs.readFileSync(spec.key) : null;
  const cert = spec.cert ? fs.readFileSync(spec.cert) : null;
  const options = spec.options || {};
  switch (spec.mode) {
    case "cert":
      return new soap.WSSecurityCert(key, cert, "", options);
    case "ut":
      return new soap.WSSecurity(spec.username, spec.password, spec.utOptions || {});
    case "plus-cert":
      return new soap.WSSecurityPlusCert(
        new soap.WSSecurity(spec.username, spec.password, spec.utOptions || {}),
        new soap.WSSecurityCert(key, cert, "", options),
      );
    case "cert-with-token":
      return new soap.WSSecurityCertWithToken({
        privateKey: key,
        publicKey: cert,
        keyPassword: "",
        username: spec.username,
        password: spec.password,
        options,
      });
    default:
      throw new Error(`unknown mode ${spec.mode}`);
  }
}

// Alter the Body after node-soap signed it (what an attacker on the path does).
function tampering(inner) {
  return {
    postProcess(xml, envelopeKey) {
      return inner.postProcess(xml, envelopeKey).replace(/>ACME</, ">EVIL<");
    },
    toXML() {
      return inner.toXML ? inner.toXML() : "";
    },
  };
}

// Verify the response signature with xml-crypto, pinned to the service
// certificate (KeyInfo ignored), and say whether the signed references
// include the response's own Body.
function checkResponse(xml, serviceCertPem) {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  const signatures = xpath.select(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, doc);
  if (signatures.length !== 1) {
    return { valid: false, signedBody: false, why: `${signatures.length} signatures` };
  }
  const sig = new SignedXml({ publicCert: serviceCertPem, getCertFromKeyInfo: () => null });
  sig.loadSignature(signatures[0]);
  let valid = false;
  let why = "";
  try {
    valid = sig.checkSignature(xml);
  } catch (e) {
    why = String(e && e.message);
  }
  const signed = valid ? sig.getSignedReferences() : [];
  const signedBody = signed.some((s) => /^<[A-Za-z0-9_]+:Body[\s>]/.test(s) && /GetQuoteResponse/.test(s));
  return { valid, signedBody, why };
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const client = await soap.createClientAsync(spec.wsdl, {
    forceSoap12Headers: !!spec.soap12,
  });
  let sec = security(spec);
  if (spec.tamper) sec = tampering(sec);
  client.setSecurity(sec);
  if (spec.wsa) {
    client.addSoapHeader(`<wsa:To xmlns:wsa="${WSA}">${spec.wsdl.replace(/\?wsdl$/, "")}</wsa:To>`);
    client.addSoapHeader(`<wsa:Action xmlns:wsa="${WSA}">urn:apisec:samples:quote/GetQuote</wsa:Action>`);
  }
  const serviceCert = fs.readFileSync(spec.serviceCert, "utf8");
  try {
    const [result, rawResponse, , rawRequest] = await client.GetQuoteAsync({ Symbol: spec.symbol || "ACME" });
    const check = checkResponse(rawResponse, serviceCert);
    out({
      ok: true,
      price: result && result.Price !== undefined ? String(result.Price) : JSON.stringify(result),
      request: rawRequest,
      response: rawResponse,
      responseSignatureValid: check.valid,
      responseSignedBody: check.signedBody,
      why: check.why,
    });
  } catch (err) {
    out({
      ok: false,
      status: err.response ? err.response.status : null,
      request: client.lastRequest,
      response: err.body || (err.response && err.response.data) || null,
      error: String(err.message || err).slice(0, 500),
    });
  }
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + "\n");
  process.exit(3);
});
