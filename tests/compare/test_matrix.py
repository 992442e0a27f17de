"""Matrix arithmetic: scores a reader can redo by hand, strengths, verdicts,
groups kept apart, transport encryption shown in the Encryption row."""

from __future__ import annotations

from compare.engine import Assessment, Result, TargetInfo
from compare.findings import Side, finding
from compare.matrix import build_matrix, score, strength, verdict


def test_score_weights_by_severity() -> None:
    crit_fail = finding("http.auth-not-enforced", "fail", "u")  # critical: 10
    med_pass = finding("http.security-headers", "pass", "u")  # medium: 3
    assert score([crit_fail, med_pass]) == round(100 * 3 / 13)
    assert score([med_pass]) == 100
    assert score([finding("http.security-headers", "warn", "u")]) == 50
    assert score([finding("http.security-headers", "error", "u"), finding("http.cors", "skip", "u")]) is None
    assert strength([crit_fail, med_pass], 23) == "weak"
    high_fail = finding("http.cors", "fail", "u")
    passes = [
        med_pass,
        finding("http.dangerous-methods", "pass", "u"),
        finding("http.server-banner", "pass", "u"),
    ]
    assert strength([high_fail, *passes], 90) == "moderate"  # a high failure is never "strong"
    assert strength(passes, 100) == "strong"
    assert strength([med_pass], 100) == "too little evidence"  # one pass is no verdict
    assert strength([], None) == "not assessed"


def test_verdicts() -> None:
    def c(score_, strength_, failing=()):
        return {"score": score_, "strength": strength_, "failing": list(failing)}

    weak_cipher = {"check_id": "tls.weak-cipher", "severity": "high", "status": "fail"}
    assert verdict(None, c(None, "not assessed"), c(None, "not assessed")) == "not assessed on either side"
    assert verdict(None, c(90, "strong"), c(None, "not assessed")).startswith("only SOAP assessed")
    assert verdict(None, c(10, "weak", [weak_cipher]), c(74, "moderate")) == (
        "REST stronger (74 vs 10): SOAP fails tls.weak-cipher (high)"
    )
    # two weak cells are not ranked against each other
    assert verdict(None, c(10, "weak", [weak_cipher]), c(55, "weak")) == (
        "both weak (SOAP 10 / REST 55); open: SOAP tls.weak-cipher (high)"
    )
    assert "both fail tls.weak-cipher" in verdict(
        None, c(70, "moderate", [weak_cipher]), c(64, "moderate", [weak_cipher])
    )


def test_groups_stay_apart_and_tls_counts_as_encryption() -> None:
    targets = [
        TargetInfo("s1", Side.SOAP, "secure", "soap", "https://a"),
        TargetInfo("r1", Side.REST, "secure", "rest", "https://b"),
        TargetInfo("s2", Side.SOAP, "legacy", "soap", "http://c"),
    ]
    results = [
        Result(finding("wssec.body-not-encrypted", "pass", "a.wsdl"), "s1", "soap.wsdl"),
        Result(finding("tls.weak-cipher", "fail", "b:443", side="rest"), "r1", "rest.tls"),
        Result(finding("tls.legacy-protocol", "pass", "b:443", side="rest"), "r1", "rest.tls"),
        Result(finding("wssec.body-not-encrypted", "fail", "c.wsdl"), "s2", "soap.wsdl"),
    ]
    m = build_matrix(Assessment(targets=targets, results=results))
    groups = {g["group"]: g for g in m["groups"]}
    assert set(groups) == {"secure", "legacy"}
    enc = {g: next(r for r in groups[g]["rows"] if r["dimension"] == "encryption") for g in groups}
    assert enc["secure"]["soap"]["strength"] == "too little evidence"  # one passing check: no verdict
    assert enc["legacy"]["soap"]["score"] == 0 and enc["legacy"]["soap"]["strength"] == "weak"
    # TLS versions and ciphers are the transport-encryption control: the Encryption row
    assert enc["secure"]["rest"]["counts"]["fail"] == 1 and enc["secure"]["rest"]["counts"]["pass"] == 1
    proto = next(r for r in groups["secure"]["rows"] if r["dimension"] == "protocols")
    assert proto["rest"]["counts"]["fail"] == 0  # each finding sits in one row only
    # ...and counts once in the side score
    assert groups["secure"]["sides"]["rest"]["counts"]["fail"] == 1
    assert groups["legacy"]["sides"]["rest"]["strength"] == "not assessed"
    assert enc["secure"]["rest"]["failing"][0]["check_id"] == "tls.weak-cipher"


def test_no_verdict_on_too_little_evidence_and_n_a_is_never_scored() -> None:
    one_pass = [finding("http.security-headers", "pass", "u")]
    assert score(one_pass) == 100 and strength(one_pass, 100) == "too little evidence"
    three = one_pass + [finding("http.cors", "pass", "u"), finding("http.dangerous-methods", "pass", "u")]
    assert strength(three, score(three)) == "strong"
    # the same check on three endpoints is still one check's evidence
    same = [finding("http.cors", "pass", f"u{i}") for i in range(3)]
    assert strength(same, 100) == "too little evidence"
    # a failure establishes weakness by itself
    assert strength([finding("http.cors", "fail", "u")], 0) == "weak"
    na = [finding("wssec.bsp-r3228", "n/a", "m"), finding("wssec.bsp-r5620", "n/a", "m")]
    assert score(na) is None and strength(na, None) == "not assessed"
    assert score(three + na) == 100
