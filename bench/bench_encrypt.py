"""Throughput of WS-Security encryption next to signing, and against python-xmlsec.

    python bench/bench_encrypt.py [--quick]

For a ~2 KB and a ~1 MB SOAP Body it times, per message:

* apisec ``Encryptor.encrypt`` / ``Decryptor.decrypt`` (AES-256-GCM, RSA-OAEP,
  bytes in, bytes out, including parsing and serialising);
* apisec ``Signer.sign`` / ``Verifier.verify`` on the same message, for scale;
* python-xmlsec (libxmlsec1) encrypting/decrypting the same Body content with
  the same algorithms through ``EncryptionContext``, keys loaded once, bytes
  in and out like apisec; shown as the ratio apisec/xmlsec (>1: apisec slower).

apisec's decryption runs the decrypted plaintext through the hardened parser
(DOCTYPE/entity/depth checks) and re-checks ids for duplicates; libxmlsec1
parses it without those checks, which is most of the 1 MB decrypt gap.

Numbers are wall-clock medians on this machine; run it alone for stable ones.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import xmlsec
from lxml import etree

import wssec
from apisec_samples.pki import make_pki
from wssec.safexml import parse_xml

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def make_message(size: int) -> bytes:
    """A SOAP message whose Body holds about ``size`` bytes of records."""
    item = '<m:Item n="{n}"><m:Name>customer {n}</m:Name><m:Balance>{n}.00</m:Balance></m:Item>'
    parts, total, n = [], 0, 0
    while total < size:
        s = item.format(n=n)
        parts.append(s)
        total += len(s)
        n += 1
    body = "".join(parts)
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Header/><soap:Body>'
        f'<m:Report xmlns:m="urn:example:bank">{body}</m:Report></soap:Body></soap:Envelope>'
    ).encode()


def timeit(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call (one warm-up call first)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def xmlsec_manager(path: Path, fmt: int) -> xmlsec.KeysManager:
    """Keys loaded once, as apisec's Encryptor/Decryptor do."""
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(str(path), fmt))
    return manager


def xmlsec_encrypt(msg: bytes, manager: xmlsec.KeysManager) -> bytes:
    root = parse_xml(msg)
    body = root.find(f"{{{SOAP}}}Body")
    ed = xmlsec.template.encrypted_data_create(
        root, xmlsec.constants.TransformAes256Gcm, type=xmlsec.constants.TypeEncContent, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(ed)
    ki = xmlsec.template.encrypted_data_ensure_key_info(ed, ns="dsig")
    ek = xmlsec.template.add_encrypted_key(ki, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(ek)
    ctx = xmlsec.EncryptionContext(manager)
    ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession)
    ctx.encrypt_xml(ed, body)
    return etree.tostring(root)


def xmlsec_decrypt(enc: bytes, manager: xmlsec.KeysManager) -> bytes:
    root = parse_xml(enc)
    ed = root.find(".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData")
    xmlsec.EncryptionContext(manager).decrypt(ed)
    return etree.tostring(root)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp))
        svc, client = pki.service, pki.client
        encryptor = wssec.Encryptor(svc.cert_path, cipher="aes256-gcm")
        decryptor = wssec.Decryptor(key=svc.key_path)
        signer = wssec.Signer(client.key_path, client.cert_path)
        verifier = wssec.Verifier(trust=[pki.ca.cert_path], replay_cache=None)
        x_pub = xmlsec_manager(svc.cert_path, xmlsec.constants.KeyDataFormatCertPem)
        x_priv = xmlsec_manager(svc.key_path, xmlsec.constants.KeyDataFormatPem)
        print(f"{'operation':28} {'body':>7} {'ms/msg':>9} {'MB/s':>8} {'vs xmlsec':>10}")
        for label, size, repeat in (("2 KB", 2 * 1024, 200), ("1 MB", 1024 * 1024, 7)):
            if args.quick:
                repeat = max(2, repeat // 20)
            msg = make_message(size)
            enc = encryptor.encrypt(msg)
            assert b"customer 1" not in enc and b"customer 1" in decryptor.decrypt(enc)
            signed = signer.sign(msg)
            x_enc = xmlsec_encrypt(msg, x_pub)
            assert b"customer 1" in xmlsec_decrypt(x_enc, x_priv)
            rows = [
                ("apisec encrypt", timeit(partial(encryptor.encrypt, msg), repeat), "xenc"),
                ("apisec decrypt", timeit(partial(decryptor.decrypt, enc), repeat), "xdec"),
                ("apisec sign", timeit(partial(signer.sign, msg), repeat), None),
                ("apisec verify", timeit(partial(verifier.verify, signed), repeat), None),
                (
                    "xmlsec encrypt (python-xmlsec)",
                    timeit(partial(xmlsec_encrypt, msg, x_pub), repeat),
                    None,
                ),
                (
                    "xmlsec decrypt (python-xmlsec)",
                    timeit(partial(xmlsec_decrypt, x_enc, x_priv), repeat),
                    None,
                ),
            ]
            base = {"xenc": rows[4][1], "xdec": rows[5][1]}
            for name, secs, peer in rows:
                ratio = f"{secs / base[peer]:.2f}x" if peer else ""
                mbps = len(msg) / secs / 1e6
                print(f"{name:28} {label:>7} {secs * 1000:9.2f} {mbps:8.1f} {ratio:>10}")


if __name__ == "__main__":
    main()
