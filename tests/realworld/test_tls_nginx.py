"""apisec's TLS checks against Debian's nginx with Mozilla-style configurations.

One nginx process serves every case on its own 127.0.0.1 port; all cases are
scanned once, concurrently, and then judged under the profiles named per
case (judging is pure, no rescans).  Per case and profile: the check ids that
must fail, and nothing else fails.  Verdicts on protocols and suites are also
compared with sslyze's own ``--mozilla_config`` checker.
"""

from __future__ import annotations

import pytest

from compare.findings import Status
from rest import tls
from rest.tls.checks import evaluate
from rest.tls.profiles import load_profile
from rest.tls.trust import TrustConfig
from tests.realworld.nginx import CURVES, INTERMEDIATE_CIPHERS, OLD_CIPHERS, Issuer, Site, nginx
from tests.rest.tls_servers import SSLYZE_TO_APISEC, sslyze_mozilla_issues

pytestmark = pytest.mark.interop

MODERN = f"    ssl_protocols TLSv1.3;\n    ssl_ecdh_curve {CURVES};\n    ssl_prefer_server_ciphers off;"
INTERMEDIATE = (
    f"    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ecdh_curve {CURVES};\n"
    f"    ssl_ciphers {INTERMEDIATE_CIPHERS};\n    ssl_prefer_server_ciphers off;"
)
OLD = (
    f"    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n    ssl_ecdh_curve {CURVES};\n"
    f"    ssl_ciphers {OLD_CIPHERS};\n    ssl_prefer_server_ciphers on;"
)
TLS13_ONLY = "    ssl_protocols TLSv1.3;"
# What old tutorials still paste: TLS 1.0/1.1, static RSA and 3DES, no TLS 1.3.
LEGACY = "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    ssl_ciphers AES128-SHA:DES-CBC3-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0;"

# case -> {profile: check ids that must fail (and nothing else fails)}
EXPECTED: dict[str, dict[str, set[str]]] = {
    "modern": {"mozilla-modern": set(), "mozilla-intermediate": set()},
    # an RSA certificate and TLS 1.2: fine for intermediate, not for modern (ECDSA, TLS 1.3 only)
    "intermediate": {
        "mozilla-intermediate": set(),
        "mozilla-modern": {"tls.legacy-protocol", "tls.cert-weak-key", "tls.cert-weak-signature"},
    },
    "old": {"mozilla-old": set(), "mozilla-intermediate": {"tls.legacy-protocol", "tls.weak-cipher", "tls.no-forward-secrecy"}},
    # no ssl_ecdh_curve: OpenSSL's default groups add X448 and P-521, outside Mozilla's list (as
    # sslyze's checker says too); NIST SP 800-52r2 does not approve ChaCha20-Poly1305
    "tls13-only": {"mozilla-intermediate": {"tls.weak-key-exchange"}, "nist-800-52r2": {"tls.weak-cipher"}},
    "dual-rsa-ecdsa": {"mozilla-intermediate": set()},
    "chain-complete": {"mozilla-intermediate": set()},
    "chain-incomplete": {"mozilla-intermediate": {"tls.cert-untrusted"}},
    "legacy": {
        "mozilla-intermediate": {
            "tls.legacy-protocol", "tls.weak-cipher", "tls.no-forward-secrecy", "tls.weak-key-exchange",
        },
        # PCI DSS 4.0 "strong cryptography": 3DES and static RSA only warn; TLS 1.0/1.1 fail
        "pci-dss-4": {"tls.legacy-protocol"},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def scanned(pki, tmp_path_factory):
    work = tmp_path_factory.mktemp("nginx")
    issue = Issuer(pki, work)
    sites = [
        # Mozilla modern wants an ECDSA leaf signed with ECDSA: issued by the EC intermediate
        Site("modern", [issue.leaf("modern", kind="ec", via="intermediate")], MODERN),
        Site("intermediate", [issue.leaf("intermediate")], INTERMEDIATE),
        Site("old", [issue.leaf("old")], OLD),
        Site("tls13-only", [issue.leaf("tls13")], TLS13_ONLY),
        Site("dual-rsa-ecdsa", [issue.leaf("dual-rsa"), issue.leaf("dual-ec", kind="ec")], INTERMEDIATE),
        Site("chain-complete", [issue.leaf("chain", via="intermediate")], INTERMEDIATE),
        Site("chain-incomplete", [issue.leaf("nochain", via="intermediate", send_chain=False)], INTERMEDIATE),
        Site("legacy", [issue.leaf("legacy")], LEGACY),
    ]
    with nginx(work / "run", sites) as running:
        endpoints = [tls.Endpoint(tls.ScanTarget("127.0.0.1", s.port, "localhost")) for s in running.values()]
        reports = tls.check_many(endpoints, ca_file=pki.ca.cert_path, concurrent_servers=len(endpoints))
        yield {name: (site, report) for (name, site), report in zip(running.items(), reports, strict=True)}


def _failed(report, profile: str, pki) -> dict[str, str]:
    findings = evaluate(report.result, load_profile(profile), TrustConfig(pki.ca.cert_path))
    assert not [f for f in findings if f.status is Status.ERROR], [(f.check_id, f.evidence) for f in findings]
    return {f.check_id: f.evidence for f in findings if f.status is Status.FAIL}


@pytest.mark.parametrize(
    ("case", "profile"), [(c, p) for c, profiles in EXPECTED.items() for p in profiles], ids=lambda v: v
)
def test_nginx_case(scanned, pki, case, profile):
    _site, report = scanned[case]
    failed = _failed(report, profile, pki)
    assert set(failed) == EXPECTED[case][profile], failed


def test_dual_certificates_both_judged(scanned):
    _site, report = scanned["dual-rsa-ecdsa"]
    kinds = {type(chain[0].public_key()).__name__ for chain in report.result.chains}
    assert len(report.result.chains) == 2, kinds


@pytest.mark.parametrize(
    ("config", "cases"),
    [
        ("intermediate", sorted(EXPECTED)),
        ("modern", ["modern", "intermediate", "tls13-only"]),
        ("old", ["old", "intermediate"]),
    ],
)
def test_verdicts_agree_with_sslyze_mozilla_checker(scanned, pki, config, cases):
    """sslyze's own --mozilla_config checker and apisec's mozilla-* profile agree on every
    nginx server: compliant exactly when apisec fails nothing, and each sslyze issue has its
    apisec check among the failures."""
    issues = sslyze_mozilla_issues(config, pki.ca.cert_path, {c: scanned[c][0].port for c in cases})
    for case in cases:
        ours = set(_failed(scanned[case][1], f"mozilla-{config}", pki))
        theirs = issues[case]
        assert bool(ours) == bool(theirs), f"{case}: apisec {sorted(ours)} vs sslyze {sorted(theirs)}"
        for issue in theirs:
            # sslyze lists the TLS 1.2 suites of a server that should offer only TLS 1.3 under
            # "ciphers"; apisec reports that once, as the protocol (tls.legacy-protocol)
            accepted = SSLYZE_TO_APISEC[issue] | ({"tls.legacy-protocol"} if issue == "ciphers" else set())
            assert accepted & ours, f"{case}: sslyze says {issue}, apisec fails {sorted(ours)}"
