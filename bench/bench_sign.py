"""Benchmark: apisec's WS-Security signing/verification against zeep's
``BinarySignature`` (python-xmlsec underneath) and raw RSA-2048 signing, in
one process, on the same ~2 KB SOAP message.

    python bench/bench_sign.py [--seconds 1.0] [--json]

Both sides do the same work per call: parse the message bytes, add a
Timestamp/BinarySecurityToken/Signature over Body and Timestamp (zeep signs
the Timestamp when one is present, so its input carries one), serialise; and
for verification parse + verify.  Issue #3 targets: sign >= 3x zeep and >=
60% of raw RSA-2048 signing throughput; verify >= 2x zeep.

The verify *floor* (issue #13) is measured in the same process on apisec's
signed message: hardened parse + exc-c14n of the Body + SHA-256 + c14n of
SignedInfo + one RSA-2048 verification, nothing else (no structure, trust,
policy or replay work).  Issue #13's goal: apisec verify within 1.5x of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"


def message(with_timestamp: bool) -> bytes:
    items = "".join(
        f'<ord:item sku="SKU-{i:04d}" qty="{i % 7 + 1}"><ord:name>Widget number {i}</ord:name>'
        f"<ord:price>{i * 3}.50</ord:price></ord:item>"
        for i in range(16)
    )
    header = ""
    if with_timestamp:
        now = dt.datetime.now(dt.UTC)
        header = (
            f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsu:Timestamp wsu:Id="TS-1">'
            f"<wsu:Created>{now:%Y-%m-%dT%H:%M:%SZ}</wsu:Created>"
            f"<wsu:Expires>{now + dt.timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}</wsu:Expires>"
            f"</wsu:Timestamp></wsse:Security>"
        )
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Header>{header}</soap:Header><soap:Body>'
        f'<ord:placeOrder xmlns:ord="urn:example:orders"><ord:customer>ACME Corporation</ord:customer>'
        f"{items}</ord:placeOrder></soap:Body></soap:Envelope>"
    ).encode()


def measure(fns: dict[str, object], seconds: float, rounds: int = 15) -> dict[str, float]:
    """CPU seconds per call of each function (process time, so other processes
    competing for the cores do not count): batches interleaved round by round
    (so load from other processes hits every contender alike), best round kept
    (the least disturbed one, the usual choice of timeit)."""
    batch: dict[str, int] = {}
    for name, fn in fns.items():
        fn()  # warm up
        n = 1
        while True:
            start = time.process_time()
            for _ in range(n):
                fn()
            if time.process_time() - start > seconds / rounds or n > 100_000:
                break
            n *= 2
        batch[name] = n
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            n = batch[name]
            start = time.process_time()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / n)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per measurement")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)

    from zeep.wsse.signature import BinarySignature

    from apisec_samples.pki import make_pki
    from wssec import Signer, Verifier, parse_xml

    pki = make_pki(Path(tempfile.mkdtemp(prefix="apisec-bench-")))
    plain = message(with_timestamp=False)
    plain_ts = message(with_timestamp=True)

    signer = Signer(pki.client.key_path, pki.client.cert_path)
    verifier = Verifier(trust=[pki.ca.cert_path], replay_cache=None)
    zeep_sig = BinarySignature(str(pki.client.key_path), str(pki.client.cert_path))

    def zeep_sign() -> bytes:
        env = parse_xml(plain_ts)
        env, _headers = zeep_sig.apply(env, {})
        return etree.tostring(env)

    def apisec_sign() -> bytes:
        return signer.sign(plain)

    zeep_signed = zeep_sign()
    apisec_signed = apisec_sign()
    verifier.verify(apisec_signed)  # sanity: both outputs verify with their own side
    zeep_sig.verify(parse_xml(zeep_signed))

    def zeep_verify() -> None:
        zeep_sig.verify(parse_xml(zeep_signed))

    def apisec_verify() -> None:
        verifier.verify(apisec_signed)

    from wssec import dsig

    floor_root = parse_xml(apisec_signed)
    sig_value = dsig.b64decode(floor_root.find(f".//{{{DS}}}SignatureValue").text, "SignatureValue")
    public_key = pki.client.cert.public_key()

    def floor_verify() -> None:
        root = parse_xml(apisec_signed)
        body = root[1]
        dsig.digest(dsig.c14n(body), "sha256")
        signed_info = root[0][0].find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
        public_key.verify(sig_value, dsig.c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())

    floor_verify()
    key = pki.client.key
    digest_input = b"x" * 600  # a SignedInfo is ~600 bytes

    def raw_rsa() -> bytes:
        return key.sign(digest_input, padding.PKCS1v15(), hashes.SHA256())

    t = measure(
        {
            "zeep_sign": zeep_sign,
            "apisec_sign": apisec_sign,
            "raw_rsa2048_sign": raw_rsa,
            "zeep_verify": zeep_verify,
            "apisec_verify": apisec_verify,
            "verify_floor": floor_verify,
        },
        args.seconds,
    )
    result = {
        "message_bytes": len(plain),
        "signed_bytes": len(apisec_signed),
        "ms_per_call": {k: round(v * 1000, 4) for k, v in t.items()},
        "sign_speedup_vs_zeep": round(t["zeep_sign"] / t["apisec_sign"], 2),
        "sign_fraction_of_raw_rsa": round(t["raw_rsa2048_sign"] / t["apisec_sign"], 3),
        "verify_speedup_vs_zeep": round(t["zeep_verify"] / t["apisec_verify"], 2),
        "verify_vs_floor": round(t["apisec_verify"] / t["verify_floor"], 2),
    }
    result["targets_met"] = {
        "sign >= 3x zeep": result["sign_speedup_vs_zeep"] >= 3,
        "sign >= 60% of raw RSA": result["sign_fraction_of_raw_rsa"] >= 0.6,
        "verify >= 2x zeep": result["verify_speedup_vs_zeep"] >= 2,
        "verify within 1.5x of the floor": result["verify_vs_floor"] <= 1.5,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ms = result["ms_per_call"]
    print(f"message: {result['message_bytes']} bytes (signed: {result['signed_bytes']} bytes)")
    print(f"{'zeep BinarySignature.apply':34} {ms['zeep_sign']:8.3f} ms")
    print(f"{'apisec Signer.sign':34} {ms['apisec_sign']:8.3f} ms")
    print(f"{'raw RSA-2048 sign (cryptography)':34} {ms['raw_rsa2048_sign']:8.3f} ms")
    print(f"{'zeep BinarySignature.verify':34} {ms['zeep_verify']:8.3f} ms")
    print(f"{'apisec Verifier.verify':34} {ms['apisec_verify']:8.3f} ms")
    print(f"{'verify floor (parse+c14n+SHA+RSA)':34} {ms['verify_floor']:8.3f} ms")
    print(
        f"sign:   {result['sign_speedup_vs_zeep']:.2f}x zeep, {result['sign_fraction_of_raw_rsa']:.0%} of raw RSA"
    )
    print(f"verify: {result['verify_speedup_vs_zeep']:.2f}x zeep, {result['verify_vs_floor']:.2f}x the floor")
    for name, ok in result["targets_met"].items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
