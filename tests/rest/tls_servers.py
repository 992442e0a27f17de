"""Real ``openssl s_server`` endpoints for the TLS compliance tests.

Each server runs on 127.0.0.1 on an ephemeral port chosen by the kernel
(``-accept 127.0.0.1:0``; the port is read back from s_server's ``ACCEPT``
line, so there is no find-a-free-port race with other test runs).  The odd
certificates the checks must catch (1024-bit key, SHA-1 signature, wrong
host, short or long lifetime) are issued here with cryptography by the
session's test CA from :mod:`apisec_samples.pki`; nothing is committed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apisec_samples.pki import TestPKI

#: TLS 1.2 options of a server that Mozilla's "intermediate" profile accepts.
GOOD_TLS12 = ["-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20", "-groups", "X25519:P-256:P-384"]
#: A file that s_server's ``-HTTP`` mode returns verbatim (headers included).
HSTS_RESPONSE = (
    b"HTTP/1.0 200 OK\r\n"
    b"Content-Type: text/plain\r\n"
    b"Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
    b"\r\n"
    b"ok\n"
)
SHORT_HSTS_RESPONSE = b"HTTP/1.0 200 OK\r\nStrict-Transport-Security: max-age=300\r\n\r\nok\n"
YEAR_HSTS_RESPONSE = b"HTTP/1.0 200 OK\r\nStrict-Transport-Security: max-age=31536000\r\n\r\nok\n"


@dataclass
class Server:
    """One running s_server: where it listens and what it was started with."""

    name: str
    port: int
    cert_path: Path
    args: list[str]
    proc: subprocess.Popen = field(repr=False)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def issue_cert(
    pki: TestPKI,
    dir: Path,
    name: str,
    *,
    key_size: int = 2048,
    hash_alg: hashes.HashAlgorithm | None = None,
    days: float = 200,
    start: dt.timedelta = dt.timedelta(days=-1),
    san: Sequence[str] = ("localhost", "127.0.0.1"),
    self_signed: bool = False,
) -> tuple[Path, Path]:
    """Issue a server certificate from the test CA (or self-signed); returns (cert, key) paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    names: list[x509.GeneralName] = []
    for entry in san:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(entry)))
        except ValueError:
            names.append(x509.DNSName(entry))
    issuer_key = key if self_signed else pki.ca.key
    issuer_name = subject if self_signed else pki.ca.cert.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + start)
        .not_valid_after(now + start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    cert = builder.sign(issuer_key, hash_alg or hashes.SHA256())
    cert_path = dir / f"{name}.pem"
    key_path = dir / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def issue_sha1_cert(pki: TestPKI, dir: Path, name: str) -> tuple[Path, Path]:
    """A CA-issued certificate signed with SHA-1.

    cryptography refuses to *create* SHA-1 signatures, so the openssl CLI signs
    this one (a key and CSR from ``openssl req``, then ``openssl x509 -req -sha1``).
    """
    key_path, cert_path, ext = dir / f"{name}.key", dir / f"{name}.pem", dir / f"{name}.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    csr = subprocess.run(
        ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key_path)]
        + ["-subj", f"/CN={name}"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        ["openssl", "x509", "-req", "-CA", str(pki.ca.cert_path), "-CAkey", str(pki.ca.key_path)]
        + ["-sha1", "-days", "200", "-extfile", str(ext), "-out", str(cert_path)],
        input=csr,
        check=True,
        capture_output=True,
    )
    return cert_path, key_path


def start_server(
    name: str, cert: Path, key: Path, extra: Sequence[str], *, workdir: Path, http_root: bool = False
) -> Server:
    """Start ``openssl s_server`` on an ephemeral 127.0.0.1 port and wait for its ACCEPT line."""
    log = workdir / f"{name}.log"
    mode = ["-HTTP"] if http_root else ["-www"]
    args = [
        "openssl",
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        str(cert),
        "-key",
        str(key),
        *mode,
        *extra,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("ACCEPT"):
                port = int(line.rsplit(":", 1)[1])
                return Server(name, port, cert, args, proc)
        if proc.poll() is not None:
            raise RuntimeError(f"s_server {name} exited: {text.strip()[-400:]}")
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"s_server {name} did not start in 10 s")


@contextmanager
def tls_servers(pki: TestPKI, workdir: Path) -> Iterator[dict[str, Server]]:
    """The servers of the issue's proof list, each with one flaw (``good`` has none)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "hsts").write_bytes(HSTS_RESPONSE)
    (workdir / "short-hsts").write_bytes(SHORT_HSTS_RESPONSE)
    (workdir / "year-hsts").write_bytes(YEAR_HSTS_RESPONSE)
    # A 1024-bit safe-prime DH group (PKCS#3; s_server refuses X9.42 "-dsaparam" ones).
    # Generating it takes a second or few, so it runs while the certificates are issued.
    dh1024 = workdir / "dh1024.pem"
    dhgen = subprocess.Popen(
        ["openssl", "dhparam", "-out", str(dh1024), "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    good_cert = issue_cert(pki, workdir, "good", days=200)
    specs: dict[str, tuple[tuple[Path, Path], list[str], bool]] = {
        # TLS 1.2 + 1.3, ECDHE + AEAD only, Mozilla's curves, a 200-day cert; serves HSTS.
        "good": (good_cert, GOOD_TLS12, True),
        # TLS 1.0 and 1.1 still offered (SECLEVEL=0 lifts Debian's floor).
        "legacy": (good_cert, ["-min_protocol", "TLSv1", "-cipher", "DEFAULT:@SECLEVEL=0"], False),
        # Static-RSA AES-CBC with HMAC-SHA1 only, no TLS 1.3.
        "cbc": (
            good_cert,
            ["-no_tls1_3", "-min_protocol", "TLSv1.2", "-cipher", "AES128-SHA:@SECLEVEL=0"],
            False,
        ),
        # Issued by the (day-old) test CA, valid for 19 hours, expired an hour ago.
        "expired": (
            issue_cert(pki, workdir, "expired", start=dt.timedelta(hours=-20), days=19 / 24),
            GOOD_TLS12,
            False,
        ),
        "wronghost": (issue_cert(pki, workdir, "wronghost", san=["wrong.example"]), GOOD_TLS12, False),
        "selfsigned": (issue_cert(pki, workdir, "selfsigned", self_signed=True), GOOD_TLS12, False),
        "weakkey": (
            issue_cert(pki, workdir, "weakkey", key_size=1024),
            ["-cipher", "ECDHE+AESGCM:@SECLEVEL=0", "-groups", "X25519:P-256:P-384"],
            False,
        ),
        "sha1": (
            issue_sha1_cert(pki, workdir, "sha1"),
            ["-cipher", "ECDHE+AESGCM:@SECLEVEL=0", "-groups", "X25519:P-256:P-384"],
            False,
        ),
        # Long-lived (826 days): over Mozilla's 366-day maximum.
        "longlived": (issue_cert(pki, workdir, "longlived", days=826), GOOD_TLS12, False),
        # Requires a client certificate issued by the test CA (two instances: s_server
        # serves one connection at a time, and one is scanned without a certificate).
        "mtls": (good_cert, [*GOOD_TLS12, "-Verify", "1", "-CAfile", str(pki.ca.cert_path)], False),
        "mtls-nocert": (good_cert, [*GOOD_TLS12, "-Verify", "1", "-CAfile", str(pki.ca.cert_path)], False),
        "expiring": (issue_cert(pki, workdir, "expiring", days=10), GOOD_TLS12, False),
        "notyet": ((pki.not_yet_valid.cert_path, pki.not_yet_valid.key_path), GOOD_TLS12, False),
        # DHE with a 1024-bit group only (Logjam-era parameters).
        "weakdh": (
            good_cert,
            ["-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam", str(dh1024)],
            False,
        ),
    }
    if dhgen.wait(timeout=120) != 0:
        raise RuntimeError("openssl dhparam failed")
    servers: dict[str, Server] = {}
    try:
        for name, ((cert, key), extra, http_root) in specs.items():
            servers[name] = start_server(name, cert, key, extra, workdir=workdir, http_root=http_root)
        yield servers
    finally:
        for s in servers.values():
            s.proc.terminate()
        for s in servers.values():
            try:
                s.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                s.proc.kill()


# sslyze's Mozilla-checker issue keys and the apisec checks that must fail with them.
SSLYZE_TO_APISEC = {
    "tls_versions": {"tls.legacy-protocol"},
    "ciphers": {"tls.weak-cipher"},
    "ciphersuites": {"tls.weak-cipher"},
    "tls_curves": {"tls.weak-key-exchange"},
    "dh_param_size": {"tls.weak-key-exchange"},
    "ecdh_param_size": {"tls.weak-key-exchange"},
    "rsa_key_size": {"tls.cert-weak-key"},
    "certificate_curves": {"tls.cert-weak-key"},
    "certificate_types": {"tls.cert-weak-key"},
    "certificate_signatures": {"tls.cert-weak-signature"},
    "maximum_certificate_lifespan": {"tls.cert-lifetime"},
    "certificate_path_validation": {
        "tls.cert-untrusted",
        "tls.cert-hostname",
        "tls.cert-expired",
        "tls.cert-not-yet-valid",
    },
    "tls_vulnerability_fallback_scsv": {"tls.fallback-scsv"},
    "tls_vulnerability_extended_master_secret": {"tls.extended-master-secret"},
    "tls_vulnerability_renegotiation": {"tls.insecure-renegotiation"},
    "tls_vulnerability_compression": {"tls.compression"},
    "tls_vulnerability_heartbleed": {"tls.vulnerable"},
    "tls_vulnerability_robot": {"tls.vulnerable"},
    "tls_vulnerability_ccs_injection": {"tls.vulnerable"},
}


def sslyze_mozilla_issues(config: str, ca_file: Path, ports: dict[str, int]) -> dict[str, set[str]]:
    """Run ``python -m sslyze --mozilla_config=CONFIG`` against 127.0.0.1 ports (name -> port)
    and return each name's compliance issue keys (empty set: compliant)."""
    import re
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "sslyze", f"--mozilla_config={config}", f"--certinfo_ca_file={ca_file}"]
        + [f"127.0.0.1:{p}" for p in ports.values()],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout
    compliance = out[out.index("COMPLIANCE AGAINST TLS CONFIGURATION") :]
    by_port = {p: n for n, p in ports.items()}
    issues: dict[str, set[str]] = {}
    current = None
    for line in compliance.splitlines():
        m = re.match(r"\s+127\.0\.0\.1:(\d+): (OK|FAILED)", line)
        if m:
            current = by_port[int(m.group(1))]
            issues[current] = set()
            continue
        m = re.match(r"\s+\* (\w+):", line)
        if m and current:
            issues[current].add(m.group(1))
    assert set(issues) == set(ports), compliance
    return issues
