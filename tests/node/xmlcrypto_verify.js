// Verify the (single) ds:Signature of a SOAP message with xml-crypto.
//
// Reads a JSON spec on stdin, prints one JSON line on stdout:
//   {"xml": "<soap:Envelope ...>", "resolve": "pinned" | "builtin" | "bst", "cert": "signer.pem"}
// resolve:
//   pinned   the signer certificate given out of band (publicCert; KeyInfo ignored)
//   builtin  xml-crypto's own SignedXml.getCertFromKeyInfo (it reads a
//            ds:X509Certificate inside KeyInfo, nothing else)
//   bst      a getCertFromKeyInfo callback (xml-crypto's extension point)
//            that follows a wsse:SecurityTokenReference/wsse:Reference to the
//            BinarySecurityToken it names in the same message
// -> {"valid": bool, "error": "...", "signed": ["Body", "Timestamp", ...]}
"use strict";

const fs = require("fs");
const { SignedXml } = require("xml-crypto");
const { DOMParser } = require("@xmldom/xmldom");
const xpath = require("xpath");

const DS = "http://www.w3.org/2000/09/xmldsig#";
const WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

function pem(b64) {
  const body = b64.replace(/\s+/g, "").match(/.{1,64}/g).join("\n");
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

// KeyInfo -> wsse:SecurityTokenReference -> wsse:Reference URI="#id" -> the
// wsse:BinarySecurityToken with that wsu:Id in the same document.
function certFromBst(keyInfo) {
  if (!keyInfo) return null;
  const ref = xpath.select1(
    `./*[local-name(.)='SecurityTokenReference' and namespace-uri(.)='${WSSE}']` +
      `/*[local-name(.)='Reference' and namespace-uri(.)='${WSSE}']`,
    keyInfo,
  );
  const uri = ref && ref.getAttribute("URI");
  if (!uri || uri[0] !== "#" || uri.indexOf("'") !== -1) return null;
  const bsts = xpath.select(
    `//*[local-name(.)='BinarySecurityToken' and namespace-uri(.)='${WSSE}']` +
      `[@*[local-name(.)='Id' and namespace-uri(.)='${WSU}']='${uri.slice(1)}']`,
    keyInfo.ownerDocument,
  );
  return bsts.length === 1 ? pem(bsts[0].textContent) : null;
}

function main() {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const doc = new DOMParser().parseFromString(spec.xml, "text/xml");
  const signatures = xpath.select(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, doc);
  if (signatures.length !== 1) {
    out({ valid: false, error: `${signatures.length} signatures`, signed: [] });
    return;
  }
  const options = {};
  if (spec.resolve === "pinned") {
    options.publicCert = fs.readFileSync(spec.cert, "utf8");
    options.getCertFromKeyInfo = () => null;
  } else if (spec.resolve === "builtin") {
    options.getCertFromKeyInfo = SignedXml.getCertFromKeyInfo;
  } else if (spec.resolve === "bst") {
    options.getCertFromKeyInfo = certFromBst;
  } else {
    throw new Error(`unknown resolve ${spec.resolve}`);
  }
  const sig = new SignedXml(options);
  sig.loadSignature(signatures[0]);
  let valid = false;
  let error = "";
  try {
    valid = sig.checkSignature(spec.xml);
  } catch (e) {
    error = String((e && e.message) || e).slice(0, 300);
  }
  const signed = valid
    ? sig.getSignedReferences().map((s) => {
        const el = new DOMParser().parseFromString(s, "text/xml").documentElement;
        return el.localName;
      })
    : [];
  out({ valid, error, signed });
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

main();
