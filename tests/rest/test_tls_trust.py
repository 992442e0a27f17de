"""``tls.cert-untrusted`` agrees with ``openssl verify`` and curl; profile
deviations go to ``tls.cert-profile`` and a CN-only name to ``tls.cert-hostname``.

Each case is a chain issued here with cryptography (private CA, intermediates,
odd extensions).  For every chain the verdict of :func:`rest.tls.trust.verify_chain`
is compared with ``openssl verify -purpose sslserver`` and with curl fetching
from a real ``openssl s_server`` that sends the chain, so "untrusted" means
what mainstream clients mean by it.  The Web-PKI profile (RFC 5280 + CA/B
Forum BR) is a separate verdict that names the rule.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from compare.findings import Status
from rest.tls.checks import ALL_CHECKS
from rest.tls.trust import TrustConfig, verify_chain
from tests.conftest import require_peer
from tests.rest.tls_servers import start_server

pytestmark = pytest.mark.interop
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class Node:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _issue(
    cn: str,
    issuer: Node | None,
    *,
    ca: bool = False,
    bc_ca: bool | None = None,
    san: bool = True,
    aki: bool = True,
    eku: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.SERVER_AUTH,
) -> Node:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    signer = issuer.key if issuer else key
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=(3650 if ca else 90)))
        .add_extension(x509.BasicConstraints(ca=ca if bc_ca is None else bc_ca, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if aki and issuer:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
        if san:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            b = b.add_extension(x509.SubjectAlternativeName(names), False)
        if eku is not None:
            b = b.add_extension(x509.ExtendedKeyUsage([eku]), False)
    return Node(b.sign(signer, hashes.SHA256()), key)


@dataclass
class Case:
    chain: list[Node]  # what the server sends, leaf first
    trusted: bool
    profile_ok: bool | None  # None: not asserted (untrusted chains are judged on their own top)
    hostname_ok: bool = True
    rule: str = ""  # words the profile finding must name


def _cases() -> tuple[dict[str, Case], Node]:
    root = _issue("Private Root CA", None, ca=True)
    inter = _issue("Private Issuing CA", root, ca=True)
    inter_noaki = _issue("Old Issuing CA", root, ca=True, aki=False)
    other_root = _issue("Other Root CA", None, ca=True)
    not_a_ca = _issue("not-a-ca.example", root)
    return {
        "leaf": Case([_issue("localhost", root)], True, True),
        "leaf-no-aki": Case(
            [_issue("localhost", root, aki=False)], True, False, rule="Authority Key Identifier"
        ),
        "chain": Case([_issue("localhost", inter), inter], True, True),
        "chain-no-aki": Case(
            [_issue("localhost", inter_noaki, aki=False), inter_noaki], True, False, rule="Authority Key"
        ),
        "incomplete-chain": Case([_issue("localhost", inter)], False, None),
        "cn-only": Case([_issue("localhost", root, san=False)], True, False, False, rule="subjectAltName"),
        "ee-ca-true": Case([_issue("localhost", root, bc_ca=True)], True, False, rule="cA=TRUE"),
        "no-eku": Case([_issue("localhost", root, eku=None)], True, True),
        "client-auth-eku": Case(
            [_issue("localhost", root, eku=ExtendedKeyUsageOID.CLIENT_AUTH)], False, None
        ),
        "self-signed": Case([_issue("localhost", None, san=True)], False, None),
        "other-root": Case([_issue("localhost", other_root)], False, None),
        "issuer-not-a-ca": Case([_issue("localhost", not_a_ca), not_a_ca], False, None),
    }, root


@pytest.fixture(scope="module")
def chains(tmp_path_factory) -> tuple[dict[str, Case], Path, Path]:
    cases, root = _cases()
    work = tmp_path_factory.mktemp("trust")
    ca = work / "ca.pem"
    ca.write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    return cases, ca, work


def _pem(nodes: list[Node]) -> bytes:
    return b"".join(n.cert.public_bytes(serialization.Encoding.PEM) for n in nodes)


def test_cases_cover_every_verdict(chains) -> None:
    assert "tls.cert-profile" in ALL_CHECKS
    cases = chains[0].values()
    assert {(c.trusted, c.profile_ok) for c in cases} == {(True, True), (True, False), (False, None)}


def test_trust_agrees_with_openssl_verify(chains) -> None:
    openssl = require_peer("openssl", "the reference chain verifier")
    cases, ca, work = chains
    disagree = []
    for name, case in cases.items():
        leaf, inter = work / f"{name}.pem", work / f"{name}-chain.pem"
        leaf.write_bytes(_pem(case.chain[:1]))
        inter.write_bytes(_pem(case.chain[1:]) or _pem(case.chain[:1]))
        ref = subprocess.run(
            [
                openssl,
                "verify",
                "-purpose",
                "sslserver",
                "-CAfile",
                str(ca),
                "-untrusted",
                str(inter),
                str(leaf),
            ],
            capture_output=True,
            text=True,
        )
        verdict = verify_chain([n.cert for n in case.chain], "localhost", TrustConfig(ca, ca_only=True))
        openssl_ok = ref.returncode == 0
        if not (verdict.trusted == openssl_ok == case.trusted):
            disagree.append((name, case.trusted, verdict.trusted, openssl_ok, ref.stdout + ref.stderr))
        if case.profile_ok is not None:
            assert verdict.profile_ok is case.profile_ok, (name, verdict.profile_detail)
        assert verdict.hostname_ok is case.hostname_ok, (name, verdict.hostname_detail)
        if case.rule:
            assert case.rule in verdict.profile_detail, verdict.profile_detail
    assert not disagree, disagree


def test_trust_agrees_with_curl(chains) -> None:
    """curl (OpenSSL backend) against s_server sending each chain: a "certificate
    problem" error is a chain verdict; a name mismatch is not (that is cert-hostname)."""
    curl = require_peer("curl", "a mainstream TLS client to compare with")
    require_peer("openssl", "s_server sends each chain")
    cases, ca, work = chains
    for name, case in cases.items():
        leaf, key, extra = work / f"srv-{name}.pem", work / f"srv-{name}.key", work / f"srv-{name}-chain.pem"
        leaf.write_bytes(_pem(case.chain[:1]))
        key.write_bytes(
            case.chain[0].key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        args = ["-cert_chain", str(extra)] if case.chain[1:] else []
        extra.write_bytes(_pem(case.chain[1:]))
        server = start_server(f"trust-{name}", leaf, key, args, workdir=work)
        try:
            out = subprocess.run(
                [curl, "-sS", "-o", "/dev/null", "--max-time", "20", "--cacert", str(ca)]
                + [f"https://localhost:{server.port}/"],
                capture_output=True,
                text=True,
            )
        finally:
            server.proc.kill()
            server.proc.wait()
        chain_problem = "SSL certificate problem" in out.stderr
        assert out.returncode == 0 or "certificate" in out.stderr or "subject name" in out.stderr, out.stderr
        assert (not chain_problem) is case.trusted, (name, out.stderr)
        if case.trusted and case.hostname_ok:
            assert out.returncode == 0, (name, out.stderr)


def test_findings_route_each_flaw_to_its_own_check(chains) -> None:
    """Through the TLS checks: a CN-only certificate from a trusted private CA fails
    tls.cert-hostname and tls.cert-profile (low), never tls.cert-untrusted."""
    from rest.tls.checks import check_certificates

    cases, ca, _ = chains
    want = {
        "cn-only": {"tls.cert-hostname": Status.FAIL, "tls.cert-profile": Status.FAIL},
        "leaf-no-aki": {"tls.cert-hostname": Status.PASS, "tls.cert-profile": Status.FAIL},
        "leaf": {"tls.cert-hostname": Status.PASS, "tls.cert-profile": Status.PASS},
        "self-signed": {"tls.cert-untrusted": Status.FAIL},
    }
    for name, expected in want.items():
        found = {f.check_id: f for f in check_certificates(_ctx([n.cert for n in cases[name].chain], ca))}
        if "tls.cert-untrusted" not in expected:
            expected["tls.cert-untrusted"] = Status.PASS
        for check_id, status in expected.items():
            assert found[check_id].status is status, (name, check_id, found[check_id].evidence)
        assert found["tls.cert-profile"].severity.value == "low"


def _ctx(chain: list[x509.Certificate], ca: Path):
    from rest.tls.checks import _Ctx
    from rest.tls.profiles import load_profile
    from rest.tls.scan import ScanTarget, TlsScanResult

    target = ScanTarget("127.0.0.1", 443, "localhost")
    result = TlsScanResult(target, "127.0.0.1", {}, None, (tuple(chain),))
    return _Ctx(result, load_profile("mozilla-intermediate"), TrustConfig(ca, True), "rest", NOW, "localhost")
