"""Debian's nginx serving TLS configurations modelled on Mozilla's SSL
configuration generator (nginx 1.22, OpenSSL 3, guideline 5.7), one server
block per case, all in one nginx process on free 127.0.0.1 ports.

nginx cannot report a kernel-chosen port, so each block gets a port that was
free a moment earlier (bound to port 0 and released); a start that loses the
race is retried with new ports.  Certificates are issued at test start by the
session's test CA (and an intermediate CA for the chain cases).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apisec_samples.pki import TestPKI

# Mozilla SSL Configuration Generator, nginx 1.22.1 / OpenSSL 3 (guideline 5.7)
INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)
OLD_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"
    "DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:"
    "AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0"
)
CURVES = "X25519:prime256v1:secp384r1"


@dataclass
class Leaf:
    cert: Path  # the PEM file nginx sends (leaf, plus intermediates when the chain is complete)
    key: Path


class Issuer:
    """Issues server certificates (SAN localhost + 127.0.0.1) from the test CA or an intermediate."""

    def __init__(self, pki: TestPKI, work: Path) -> None:
        self.work = work
        self.ca_cert, self.ca_key = pki.ca.cert, pki.ca.key
        self.inter_key = ec.generate_private_key(ec.SECP384R1())
        self.inter = self._sign(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Realworld Issuing CA")]),
            self.inter_key.public_key(), self.ca_cert, self.ca_key, ca=True, days=1000,
        )  # fmt: skip

    def _sign(self, subject, public, issuer_cert, issuer_key, *, ca: bool, days: int) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now - dt.timedelta(hours=1) + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        )
        if ca:
            b = b.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
            )
        else:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def leaf(
        self, name: str, *, kind: str = "rsa", days: int = 90, via: str = "root", send_chain: bool = True
    ) -> Leaf:
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        issuer_cert, issuer_key = (
            (self.inter, self.inter_key) if via == "intermediate" else (self.ca_cert, self.ca_key)
        )
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        cert = self._sign(subject, key.public_key(), issuer_cert, issuer_key, ca=False, days=days)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        if via == "intermediate" and send_chain:
            pem += self.inter.public_bytes(serialization.Encoding.PEM)
        cert_path, key_path = self.work / f"{name}.crt", self.work / f"{name}.key"
        cert_path.write_bytes(pem)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        return Leaf(cert_path, key_path)  # fmt: skip


@dataclass
class Site:
    name: str
    leaves: list[Leaf]
    directives: str
    port: int = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(work: Path, sites: list[Site]) -> str:
    blocks = []
    for s in sites:
        certs = "\n".join(
            f"    ssl_certificate {leaf.cert};\n    ssl_certificate_key {leaf.key};" for leaf in s.leaves
        )
        blocks.append(
            f"  server {{\n    listen 127.0.0.1:{s.port} ssl;\n    server_name localhost;\n{certs}\n"
            f"    ssl_session_timeout 1d;\n    ssl_session_cache shared:{s.name.replace('-', '_')}:1m;\n"
            f"    ssl_session_tickets off;\n{s.directives}\n"
            f'    add_header Strict-Transport-Security "max-age=63072000" always;\n'
            f"    location / {{ return 200 'ok\\n'; }}\n  }}"
        )
    body = "\n".join(blocks)
    return (
        f"daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\npid {work}/nginx.pid;\n"
        f"error_log {work}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {work}/body;\n  proxy_temp_path {work}/proxy;\n"
        f"  fastcgi_temp_path {work}/fastcgi;\n  uwsgi_temp_path {work}/uwsgi;\n  scgi_temp_path {work}/scgi;\n"
        f"  server_tokens off;\n{body}\n}}\n"
    )


@contextmanager
def nginx(work: Path, sites: list[Site]) -> Iterator[dict[str, Site]]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        raise RuntimeError("peer 'nginx' not installed (scripts/test installs nginx-light)")
    work.mkdir(parents=True, exist_ok=True)
    last = ""
    for _attempt in range(3):
        for s in sites:
            s.port = _free_port()
        conf = work / "nginx.conf"
        conf.write_text(_config(work, sites))
        log = (work / "nginx.out").open("wb")
        proc = subprocess.Popen([exe, "-p", str(work), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        if _wait_listening(proc, sites):
            try:
                yield {s.name: s for s in sites}
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.close()
            return
        proc.kill()
        proc.wait()
        log.close()
        last = (
            (work / "nginx.out").read_text(errors="replace")
            + (work / "error.log").read_text(errors="replace")
            if (work / "error.log").exists()
            else (work / "nginx.out").read_text(errors="replace")
        )
        if "Address already in use" not in last:
            break
    raise RuntimeError(f"nginx did not start: {last.strip()[-600:]}")


def _wait_listening(proc: subprocess.Popen, sites: list[Site], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    pending = {s.port for s in sites}
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        for port in list(pending):
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    pending.discard(port)
        time.sleep(0.05)
    return not pending
