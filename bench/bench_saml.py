"""Benchmark: SAML Response verification, apisec vs pysaml2 (its default
xmlsec1 backend) vs bare libxmlsec1 signature checks, on the same signed
Web SSO Response (Response and Assertion both signed, RSA-2048, CA chain).

    python bench/bench_saml.py [--seconds 1.0] [--json]

apisec does the whole job per call (hardened parse, shape/wrapping checks,
two signature verifications, chain validation, conditions/audience/
recipient); "raw libxmlsec1" is only the two signature checks with
python-xmlsec, the floor any verifier on libxmlsec1 pays.  Wall-clock time,
interleaved best-of rounds, because pysaml2 spends its time in xmlsec1
subprocesses that process time would not count.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from pathlib import Path

SP = "https://sp.example/metadata"
ACS = "https://sp.example/acs"
IDP = "https://idp.example/metadata"


def _rate(fn, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import xmlsec
    from cryptography.hazmat.primitives import serialization
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    from apisec_samples.pki import make_pki
    from wssec.safexml import parse_xml
    from wssec.saml import Issuer, SamlTrust, verify

    pki = make_pki(Path(tempfile.mkdtemp(prefix="bench-saml-")))
    idp = Issuer(pki.service.key, pki.service.cert, IDP)
    response = idp.issue_response("alice", audience=SP, destination=ACS, attributes={"role": ["a", "b"]})
    trust = SamlTrust([pki.ca.cert])

    def apisec_verify() -> None:
        verify(response, trust=trust, audience=SP, recipient=ACS)

    cert_pem = pki.service.cert.public_bytes(serialization.Encoding.PEM)

    def raw_xmlsec() -> None:
        root = parse_xml(response)
        assertion = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        for node in (root, assertion):
            ctx = xmlsec.SignatureContext()
            ctx.register_id(node, "ID")
            ctx.key = xmlsec.Key.from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem)
            ctx.verify(node.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))

    cert_b64 = base64.b64encode(pki.service.cert.public_bytes(serialization.Encoding.DER)).decode()
    metadata = (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}"><md:IDPSSODescriptor '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data>"
        '</ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:'
        'bindings:HTTP-Redirect" Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
    )
    client = Saml2Client(
        SPConfig().load(
            {
                "entityid": SP,
                "service": {
                    "sp": {
                        "endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]},
                        "allow_unsolicited": True,
                        "want_assertions_signed": True,
                    }
                },
                "metadata": {"inline": [metadata]},
            }
        )
    )
    posted = base64.b64encode(response).decode()

    def pysaml2_verify() -> None:
        client.parse_authn_request_response(posted, BINDING_HTTP_POST)

    best = {"apisec": 0.0, "raw_libxmlsec1": 0.0, "pysaml2_xmlsec1": 0.0}
    for _ in range(args.rounds):
        best["apisec"] = max(best["apisec"], _rate(apisec_verify, args.seconds))
        best["raw_libxmlsec1"] = max(best["raw_libxmlsec1"], _rate(raw_xmlsec, args.seconds))
        best["pysaml2_xmlsec1"] = max(best["pysaml2_xmlsec1"], _rate(pysaml2_verify, args.seconds))
    result = {
        "verifications_per_second": {k: round(v, 1) for k, v in best.items()},
        "apisec_vs_pysaml2": round(best["apisec"] / best["pysaml2_xmlsec1"], 1),
        "apisec_vs_raw_libxmlsec1": round(best["apisec"] / best["raw_libxmlsec1"], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result["verifications_per_second"].items():
            print(f"{k:18} {v:10.1f} verifications/s")
        print(f"apisec / pysaml2:          {result['apisec_vs_pysaml2']}x")
        print(f"apisec / raw libxmlsec1:   {result['apisec_vs_raw_libxmlsec1']}x (share of the crypto floor)")


if __name__ == "__main__":
    main()
