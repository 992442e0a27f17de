"""rest.tls against real ``openssl s_server`` endpoints on 127.0.0.1.

Every server is scanned once (all concurrently, by one sslyze Scanner) in a
session fixture; the tests then assert several checks from that one result
and re-judge the same result under other profiles and trust settings (the
judging is pure, so no rescans are needed for that).
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from compare.findings import Finding, Status
from rest import tls
from rest.errors import BadInput, TargetUnreachable
from rest.tls.checks import ALL_CHECKS, evaluate
from rest.tls.hsts import check_hsts, parse_max_age
from rest.tls.profiles import BUILTIN_PROFILES, load_profile
from rest.tls.trust import TrustConfig
from tests.conftest import require_peer
from tests.rest.tls_servers import SSLYZE_TO_APISEC, sslyze_mozilla_issues, tls_servers

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def servers(pki, tmp_path_factory):
    require_peer("openssl", "the TLS tests run real s_server endpoints")
    with tls_servers(pki, tmp_path_factory.mktemp("tls-servers")) as running:
        yield running


@pytest.fixture(scope="session")
def reports(servers, pki) -> dict[str, tls.EndpointReport]:
    """Each server scanned once, all at the same time, under mozilla-intermediate."""
    endpoints = []
    for name, s in servers.items():
        creds = (pki.client.cert_path, pki.client.key_path) if name == "mtls" else (None, None)
        url = f"https://127.0.0.1:{s.port}/hsts" if name == "good" else None
        if name == "legacy":
            url = f"https://127.0.0.1:{s.port}/"  # s_server -www: a response without HSTS
        endpoints.append(tls.Endpoint(tls.ScanTarget("127.0.0.1", s.port, None, *creds), url))
    done = tls.check_many(endpoints, ca_file=pki.ca.cert_path, concurrent_servers=len(endpoints))
    return dict(zip(servers, done, strict=True))


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    out = {f.check_id: f for f in findings}
    assert len(out) == len(findings), "one finding per check id and endpoint"
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the good server


def test_good_server_passes_mozilla_intermediate(reports):
    found = by_id(reports["good"].findings)
    not_pass = {k: (f.status.value, f.evidence) for k, f in found.items() if f.status is not Status.PASS}
    assert not_pass == {}
    assert set(ALL_CHECKS) | {"tls.hsts"} <= set(found)
    assert "TLSv1.2, TLSv1.3" in found["tls.legacy-protocol"].evidence
    assert found["tls.hsts"].evidence.startswith("Strict-Transport-Security: max-age=63072000")
    assert all(
        f.side.value == "rest" and f.target == f"127.0.0.1:{reports['good'].endpoint.target.port}"
        for f in found.values()
    )


# ------------------------------------------------------------------ each flaw under its named check

FLAWS = [
    ("legacy", "tls.legacy-protocol", Status.FAIL, "TLSv1.0, TLSv1.1"),
    ("legacy", "tls.no-forward-secrecy", Status.FAIL, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    ("legacy", "tls.weak-key-exchange", Status.FAIL, "X448"),
    ("legacy", "tls.hsts", Status.FAIL, "no Strict-Transport-Security header"),
    ("cbc", "tls.weak-cipher", Status.FAIL, "TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA (CBC mode with HMAC-SHA1"),
    ("cbc", "tls.no-forward-secrecy", Status.FAIL, "TLSv1.2: TLS_RSA_WITH_AES_128_CBC_SHA"),
    ("cbc", "tls.no-tls13", Status.WARN, "TLS 1.3 not offered"),
    ("expired", "tls.cert-expired", Status.FAIL, "leaf CN=expired expired"),
    ("notyet", "tls.cert-not-yet-valid", Status.FAIL, "valid only from"),
    ("expiring", "tls.cert-expiring-soon", Status.WARN, "expires in"),
    (
        "wronghost",
        "tls.cert-hostname",
        Status.FAIL,
        "127.0.0.1 is not among the certificate's names (wrong.example)",
    ),
    ("selfsigned", "tls.cert-untrusted", Status.FAIL, "self-signed certificate"),
    ("weakkey", "tls.cert-weak-key", Status.FAIL, "RSA 1024 bits (< 2048)"),
    ("sha1", "tls.cert-weak-signature", Status.FAIL, "signed with sha1WithRSAEncryption"),
    ("longlived", "tls.cert-lifetime", Status.FAIL, "mozilla-intermediate allows at most 366"),
    ("weakdh", "tls.weak-key-exchange", Status.FAIL, "DHE group of 1024 bits (< 2048)"),
    ("mtls-nocert", "tls.client-auth", Status.ERROR, "requires a client certificate and none was given"),
]


@pytest.mark.parametrize(
    ("server", "check_id", "status", "evidence"), FLAWS, ids=[f"{s}-{c}" for s, c, *_ in FLAWS]
)
def test_flaw_found_under_its_check(reports, server, check_id, status, evidence):
    f = by_id(reports[server].findings)[check_id]
    assert f.status is status, f.evidence
    assert evidence in f.evidence


@pytest.mark.parametrize(
    ("server", "clean"),
    [
        # A certificate flaw is not smeared over the other certificate checks.
        ("expired", ["tls.cert-hostname", "tls.cert-untrusted", "tls.cert-weak-key", "tls.cert-lifetime"]),
        ("wronghost", ["tls.cert-untrusted", "tls.cert-expired", "tls.cert-weak-key"]),
        ("notyet", ["tls.cert-hostname", "tls.cert-untrusted", "tls.cert-expired"]),
        ("weakkey", ["tls.cert-hostname", "tls.cert-expired", "tls.weak-cipher", "tls.cert-weak-signature"]),
        ("selfsigned", ["tls.cert-hostname", "tls.cert-expired", "tls.cert-weak-key"]),
        ("cbc", ["tls.legacy-protocol", "tls.cert-untrusted", "tls.vulnerable"]),
    ],
)
def test_other_checks_still_pass(reports, server, clean):
    found = by_id(reports[server].findings)
    assert {c: found[c].status for c in clean} == {c: Status.PASS for c in clean}


def test_mtls_server_scanned_with_client_certificate(reports):
    found = by_id(reports["mtls"].findings)
    assert found["tls.client-auth"].status is Status.PASS
    assert "client certificate presented" in found["tls.client-auth"].evidence
    # With the certificate the whole scan completes: TLS 1.2 suites, certificates, renegotiation.
    assert reports["mtls"].result.protocols["TLSv1.2"]
    assert not [f for f in found.values() if f.status in (Status.FAIL, Status.ERROR)]
    # Without one, sslyze's renegotiation test cannot finish: an error, never a pass.
    nocert = by_id(reports["mtls-nocert"].findings)
    assert nocert["tls.insecure-renegotiation"].status is Status.ERROR
    assert "CLIENT_CERTIFICATE_NEEDED" in nocert["tls.insecure-renegotiation"].evidence


# ------------------------------------------------------------------ trust: --ca-file / --ca-only


def test_trust_modes(reports, pki):
    result = reports["good"].result
    prof = load_profile("mozilla-intermediate")

    def trust_of(config: TrustConfig) -> Finding:
        return by_id(evaluate(result, prof, config))["tls.cert-untrusted"]

    mozilla_only = trust_of(TrustConfig())
    assert mozilla_only.status is Status.FAIL
    assert "unknown root" in mozilla_only.evidence or "incomplete chain" in mozilla_only.evidence
    assert trust_of(TrustConfig(pki.ca.cert_path)).status is Status.PASS
    only = trust_of(TrustConfig(pki.ca.cert_path, ca_only=True))
    assert only.status is Status.PASS and "only the CA file" in only.evidence
    # --ca-only with a CA that did not issue the chain: the Mozilla roots are gone too.
    wrong = trust_of(TrustConfig(pki.rogue.cert_path, ca_only=True))
    assert wrong.status is Status.FAIL and "only the CA file" in wrong.evidence
    with pytest.raises(BadInput):
        evaluate(result, prof, TrustConfig(None, ca_only=True))
    with pytest.raises(BadInput):
        evaluate(result, prof, TrustConfig(pki.ca.key_path))  # not a certificate


# ------------------------------------------------------------------ profiles


def _judge(reports, server: str, profile) -> dict[str, Finding]:
    return by_id(
        evaluate(
            reports[server].result,
            load_profile(profile),
            TrustConfig(),
        )
    )


def test_every_builtin_profile_loads():
    for name in BUILTIN_PROFILES:
        p = load_profile(name)
        assert p.name == name and p.protocols and p.title
    assert load_profile("mozilla-modern").protocols == {"TLSv1.3"}
    assert "TLS_RSA_WITH_3DES_EDE_CBC_SHA" in load_profile("mozilla-old").ciphers


def test_mozilla_modern_rejects_tls12_and_rsa(reports):
    found = _judge(reports, "good", "mozilla-modern")
    assert found["tls.legacy-protocol"].status is Status.FAIL
    assert "offered TLSv1.2" in found["tls.legacy-protocol"].evidence
    assert found["tls.cert-weak-key"].status is Status.FAIL
    assert "leaf key type rsa; mozilla-modern allows ecdsa" in found["tls.cert-weak-key"].evidence


def test_mozilla_old_tolerates_legacy_protocols_with_a_warning(reports):
    found = _judge(reports, "legacy", "mozilla-old")
    assert found["tls.legacy-protocol"].status is Status.WARN
    assert found["tls.no-forward-secrecy"].status is Status.WARN  # static RSA is in Mozilla's old list
    cbc = _judge(reports, "cbc", "mozilla-old")
    assert cbc["tls.weak-cipher"].status is Status.WARN
    assert "allowed by mozilla-old" in cbc["tls.weak-cipher"].evidence


def test_nist_requires_tls13_and_fips_suites(reports):
    cbc = _judge(reports, "cbc", "nist-800-52r2")
    assert cbc["tls.no-tls13"].status is Status.FAIL
    good = _judge(reports, "good", "nist-800-52r2")
    assert good["tls.weak-cipher"].status is Status.FAIL
    assert "CHACHA20_POLY1305" in good["tls.weak-cipher"].evidence
    assert good["tls.legacy-protocol"].status is Status.PASS


def test_pci_dss(reports):
    legacy = _judge(reports, "legacy", "pci-dss-4")
    assert legacy["tls.legacy-protocol"].status is Status.FAIL
    assert legacy["tls.no-forward-secrecy"].status is Status.WARN
    cbc = _judge(reports, "cbc", "pci-dss-4")
    assert cbc["tls.weak-cipher"].status is Status.WARN
    assert cbc["tls.no-forward-secrecy"].status is Status.FAIL  # no (EC)DHE suite at all
    assert _judge(reports, "good", "pci-dss-4")["tls.cert-lifetime"].status is Status.PASS


def test_custom_profiles_toml_and_yaml(reports, tmp_path):
    toml = tmp_path / "strict.toml"
    toml.write_text('protocols = ["TLSv1.3"]\nmax_cert_lifetime_days = 90\nrsa_min_bits = 3072\n')
    found = _judge(reports, "good", toml)
    assert found["tls.legacy-protocol"].status is Status.FAIL
    assert "strict allows only TLSv1.3" in found["tls.legacy-protocol"].evidence
    assert found["tls.cert-lifetime"].status is Status.FAIL
    assert (
        found["tls.cert-weak-key"].status is Status.FAIL and "(< 3072)" in found["tls.cert-weak-key"].evidence
    )
    yaml_file = tmp_path / "x25519.yaml"
    yaml_file.write_text("name: x25519-only\nprotocols: [TLSv1.2, TLSv1.3]\ncurves: [X25519]\n")
    found = _judge(reports, "good", yaml_file)
    assert found["tls.weak-key-exchange"].status is Status.FAIL
    assert "secp256r1" in found["tls.weak-key-exchange"].evidence
    assert found["tls.legacy-protocol"].status is Status.PASS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('protocol = ["TLSv1.3"]\n', "unknown setting(s) protocol"),
        ('protocols = ["TLSv1.4"]\n', "unknown protocol(s) TLSv1.4"),
        ("rsa_min_bits = -1\n", "non-negative integer"),
        ("protocols = [\n", "not valid"),
    ],
)
def test_bad_custom_profile_refused(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadInput, match=re.escape(message)):
        load_profile(path)
    with pytest.raises(BadInput, match="unknown TLS profile"):
        load_profile("mozilla-intermediat")


# ------------------------------------------------------------------ vulnerability checks
# No Heartbleed/CCS/ROBOT-vulnerable or compression-enabled OpenSSL is available to run
# as a server, so the failing side of these checks judges the good server's real scan
# result with the one flag flipped; the passing side is the real scan.


@pytest.mark.parametrize(
    ("change", "check_id", "status", "evidence"),
    [
        ({"heartbleed": True}, "tls.vulnerable", Status.FAIL, "Heartbleed"),
        ({"ccs_injection": True}, "tls.vulnerable", Status.FAIL, "CCS injection"),
        ({"robot": "VULNERABLE_STRONG_ORACLE"}, "tls.vulnerable", Status.FAIL, "ROBOT"),
        ({"compression": True}, "tls.compression", Status.FAIL, "DEFLATE"),
        ({"secure_renegotiation": False}, "tls.insecure-renegotiation", Status.FAIL, "RFC 5746"),
        ({"client_renegotiation_dos": True}, "tls.insecure-renegotiation", Status.WARN, "client-initiated"),
        ({"fallback_scsv": False}, "tls.fallback-scsv", Status.FAIL, "not supported"),
        ({"extended_master_secret": False}, "tls.extended-master-secret", Status.FAIL, "not supported"),
        (
            {"heartbleed": None, "errors": {"heartbleed": "CONNECTIVITY_ISSUE"}},
            "tls.vulnerable",
            Status.ERROR,
            "heartbleed",
        ),
        # A protocol version sslyze could not test may hide a weak suite: error, never pass.
        (
            {"errors": {"ssl_3_0_cipher_suites": "BUG_IN_SSLYZE"}},
            "tls.legacy-protocol",
            Status.ERROR,
            "ssl_3_0",
        ),
        ({"errors": {"tls_1_0_cipher_suites": "BUG_IN_SSLYZE"}}, "tls.weak-cipher", Status.ERROR, "tls_1_0"),
        (
            {"errors": {"tls_1_1_cipher_suites": "BUG_IN_SSLYZE"}},
            "tls.no-forward-secrecy",
            Status.ERROR,
            "tls_1_1",
        ),
    ],
)
def test_vulnerability_verdicts(reports, pki, change, check_id, status, evidence):
    real = reports["good"].result
    assert by_id(reports["good"].findings)[check_id].status is Status.PASS
    flipped = dataclasses.replace(real, **change)
    f = by_id(evaluate(flipped, load_profile("mozilla-intermediate"), TrustConfig(pki.ca.cert_path)))[
        check_id
    ]
    assert f.status is status and evidence in f.evidence


# ------------------------------------------------------------------ HSTS


def test_hsts_verdicts(servers, reports):
    port = servers["good"].port
    assert check_hsts(f"https://127.0.0.1:{port}/hsts").status is Status.PASS
    short = check_hsts(f"https://127.0.0.1:{port}/short-hsts")
    assert short.status is Status.FAIL and "max-age 300 s" in short.evidence
    year = check_hsts(f"https://127.0.0.1:{port}/year-hsts")
    assert year.status is Status.WARN and "mozilla-intermediate" in year.evidence
    assert check_hsts(f"https://127.0.0.1:{port}/year-hsts", "pci-dss-4").status is Status.PASS
    assert parse_max_age('max-age="600"; includeSubDomains') == 600
    assert parse_max_age("includeSubDomains") is None
    with pytest.raises(TargetUnreachable):
        check_hsts(f"https://127.0.0.1:{_free_port()}/")


# ------------------------------------------------------------------ agreement with sslyze's own CLI


def test_verdicts_agree_with_sslyze_mozilla_intermediate(servers, reports, pki):
    names = [n for n in servers if not n.startswith("mtls")]
    sslyze_issues = sslyze_mozilla_issues(
        "intermediate", pki.ca.cert_path, {n: servers[n].port for n in names}
    )
    for name in names:
        ours = {
            f.check_id for f in reports[name].findings if f.status is Status.FAIL and f.check_id != "tls.hsts"
        }
        theirs = sslyze_issues[name]
        assert bool(ours) == bool(theirs), f"{name}: apisec {sorted(ours)} vs sslyze {sorted(theirs)}"
        for issue in theirs:
            assert SSLYZE_TO_APISEC[issue] & ours, f"{name}: sslyze says {issue}, apisec fails {sorted(ours)}"
    assert sslyze_issues["good"] == set()


# ------------------------------------------------------------------ public API and CLI


def test_check_api_one_endpoint_as_soap_side(servers, pki):
    port = servers["good"].port
    found = tls.check(f"https://127.0.0.1:{port}/hsts", ca_file=pki.ca.cert_path, ca_only=True, side="soap")
    assert {f.side.value for f in found} == {"soap"}
    assert by_id(found)["tls.hsts"].status is Status.PASS
    assert not [f for f in found if f.status is not Status.PASS]
    with pytest.raises(TargetUnreachable, match="rejected"):
        tls.check("127.0.0.1", _free_port())


def test_cli_json_several_targets(apisec, servers, pki, tmp_path):
    good, cbc = servers["good"].target, servers["cbc"].target
    out = tmp_path / "tls.json"
    res = apisec(
        "rest", "tls", good, cbc, "--ca-file", str(pki.ca.cert_path), "--format", "json", "-o", str(out)
    )
    assert res.exit_code == 1, res.stderr
    doc = json.loads(res.stdout)
    assert json.loads(out.read_text()) == doc
    assert doc["tool"] == "apisec" and doc["profile"] == "mozilla-intermediate"
    assert doc["targets"] == [good, cbc]
    assert {s["target"] for s in doc["tls_scans"]} == {good, cbc}
    fails = {(f["target"], f["check_id"]) for f in doc["findings"] if f["status"] == "fail"}
    assert (cbc, "tls.weak-cipher") in fails and not [t for t, _ in fails if t == good]
    cbc_scan = next(s for s in doc["tls_scans"] if s["target"] == cbc)
    assert [c["name"] for c in cbc_scan["protocols"]["TLSv1.2"]] == ["TLS_RSA_WITH_AES_128_CBC_SHA"]


def test_cli_mtls_text_and_hostname(apisec, servers, pki):
    port = servers["mtls"].port
    res = apisec(
        "rest", "tls", f"127.0.0.1:{port}", "--hostname", "localhost",
        "--ca-file", str(pki.ca.cert_path), "--ca-only",
        "--client-cert", str(pki.client.cert_path), "--client-key", str(pki.client.key_path),
    )  # fmt: skip
    assert res.exit_code == 0, res.stdout + res.stderr
    assert re.search(r"PASS\s+info\s+tls\.client-auth", res.stdout)
    assert "localhost matches the certificate" in res.stdout
    assert "summary:" in res.stdout and "fail" not in res.stdout.split("summary:")[1]


def test_cli_errors_are_one_line_exit_2(apisec, servers, pki, tmp_path):
    closed = f"127.0.0.1:{_free_port()}"
    res = apisec("rest", "tls", closed, "-o", str(tmp_path / "never.json"))
    assert res.exit_code == 2 and res.stdout == "" and not list(tmp_path.iterdir())
    assert res.stderr.strip().count("\n") == 0 and res.stderr.startswith(f"apisec: error: {closed}")
    # One endpoint down among several: the others are reported, the run still exits 2.
    res = apisec("rest", "tls", closed, servers["good"].target, "--ca-file", str(pki.ca.cert_path))
    assert res.exit_code == 2
    assert re.search(r"ERROR\s+high\s+tls\.scan-error\s+" + re.escape(closed), res.stdout)
    res = apisec("rest", "tls", "https://")
    assert res.exit_code == 2 and "no host" in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "nope"],
        ["--ca-only"],
        ["--client-cert", "CLIENT"],
        ["--ca-file", "MISSING"],
        ["--ca-file", "KEY"],
        ["--client-cert", "CLIENT", "--client-key", "ROGUEKEY"],
        ["--format", "xml"],
    ],
)
def test_cli_bad_input_before_any_connection(servers, pki, tmp_path, capsys, args):
    """In-process run of the real CLI entry (``compare.cli.run``): exit 2, one line, no output."""
    from compare.cli import run

    files = {
        "CLIENT": str(pki.client.cert_path),
        "MISSING": str(tmp_path / "missing.pem"),
        "KEY": str(pki.ca.key_path),
        "ROGUEKEY": str(pki.rogue.key_path),
    }
    argv = ["rest", "tls", servers["good"].target, *[files.get(a, a) for a in args]]
    assert run(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("apisec: error: "), err


def test_cli_progress_bar_only_on_a_terminal(servers, pki):
    """Under a pseudo-terminal (util-linux ``script``) a rich progress bar counts the scans on
    stderr; the non-terminal runs above print none (their stdout parses as plain JSON/text)."""
    import shlex
    import shutil

    script = require_peer("script", "util-linux script gives the CLI a pseudo-terminal")
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    cmd = shlex.join([exe, "rest", "tls", servers["good"].target, "--ca-file", str(pki.ca.cert_path)])
    proc = subprocess.run([script, "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "TLS scan" in proc.stdout and "1/1" in proc.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api.example.com", ("api.example.com", 443, None)),
        ("api.example.com:8443", ("api.example.com", 8443, None)),
        ("[::1]:8443", ("::1", 8443, None)),
        ("::1", ("::1", 443, None)),
        (
            "https://api.example.com:9443/v1/x?y=1",
            ("api.example.com", 9443, "https://api.example.com:9443/v1/x?y=1"),
        ),
        ("https://api.example.com/", ("api.example.com", 443, "https://api.example.com/")),
    ],
)
def test_parse_target(text, expected):
    assert tls.parse_target(text) == expected


@pytest.mark.parametrize(
    "text", ["http://api.example.com/", "host:0", "host:99999", "host:https", "a b:443", ""]
)
def test_parse_target_refuses(text):
    with pytest.raises(BadInput):
        tls.parse_target(text)
