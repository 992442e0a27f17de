"""The JSON form of a :class:`~rest.tls.scan.TlsScanResult` (what was offered).

Findings say what is wrong; this says what the server offered, so a JSON
consumer can diff two scans or re-judge them later without re-scanning.
It is added to ``apisec rest tls --format json`` under ``"tls_scans"``.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from rest.tls.scan import TlsScanResult


def _cert(cert: x509.Certificate) -> dict[str, Any]:
    key = cert.public_key()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "signature_algorithm": cert.signature_algorithm_oid._name,
        "public_key": type(key).__name__.removeprefix("_").replace("PublicKey", ""),
        "key_size": getattr(key, "key_size", None),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def result_to_dict(result: TlsScanResult) -> dict[str, Any]:
    t = result.target
    return {
        "target": t.label,
        "host": t.host,
        "port": t.port,
        "server_name": t.server_name,
        "ip_address": result.ip_address,
        "protocols": {
            proto: [
                {
                    "name": c.name,
                    "openssl_name": c.openssl_name,
                    "key_size": c.key_size,
                    "kex": c.kex,
                    "kex_group": c.kex_group,
                    "kex_bits": c.kex_bits,
                }
                for c in ciphers
            ]
            for proto, ciphers in result.protocols.items()
        },
        "curves": list(result.curves) if result.curves is not None else None,
        "certificate_chains": [[_cert(c) for c in chain] for chain in result.chains],
        "heartbleed": result.heartbleed,
        "ccs_injection": result.ccs_injection,
        "robot": result.robot,
        "compression": result.compression,
        "secure_renegotiation": result.secure_renegotiation,
        "client_renegotiation_dos": result.client_renegotiation_dos,
        "fallback_scsv": result.fallback_scsv,
        "extended_master_secret": result.extended_master_secret,
        "client_auth": result.client_auth,
        "errors": dict(result.errors),
        "duration_s": round(result.duration_s, 3),
    }
