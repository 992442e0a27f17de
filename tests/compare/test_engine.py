"""The engine: real SOAP checks over real WSDL files, bounded concurrency,
and every way a check can go wrong ending as an ``error`` finding."""

from __future__ import annotations

import time

import pytest

from compare.engine import (
    CHECK_ERROR,
    NOT_CONFIGURED,
    TIMEOUT,
    UNAVAILABLE,
    Assessment,
    Job,
    plan,
    run_job,
    run_jobs,
)
from compare.findings import Dimension, Side, Status
from tests.compare import _helper_checks as helpers


def _job(
    func: str, name: str = "t.job", exclusive: str | None = None, host: str | None = None, burst: bool = False
) -> Job:
    return Job(
        name,
        "target-a",
        Side.SOAP,
        Dimension.ENCRYPTION,
        func,
        lambda fn: fn(),
        "file.wsdl",
        exclusive,
        host,
        burst,
    )


def test_static_assessment_runs_real_soap_checks(static_assessment: Assessment) -> None:
    a = static_assessment
    assert {t.name for t in a.targets} == {"quote-secure", "quote-legacy"}
    by_target = {n: [r.finding for r in a.results if r.target == n] for n in ("quote-secure", "quote-legacy")}
    legacy = {f.check_id: f.status for f in by_target["quote-legacy"]}
    secure = {f.check_id: f.status for f in by_target["quote-secure"]}
    # the legacy WSDL publishes no signing/encryption; the secure one does
    assert legacy["wssec.body-not-signed"] is Status.FAIL
    assert secure["wssec.body-not-signed"] is Status.PASS
    assert legacy["wssec.body-not-encrypted"] is Status.FAIL
    assert secure["wssec.body-not-encrypted"] is Status.PASS
    assert any(r.job == "soap.message" for r in a.results if r.target == "quote-secure")
    assert all(f.side is Side.SOAP for f in a.findings)
    # per-check timing recorded for every job, and spread over its findings
    assert {r.job for r in a.runs} == {"soap.wsdl", "soap.message"}
    assert all(r.outcome == "ok" and r.seconds >= 0 for r in a.runs)
    assert all(f.duration_ms is not None for f in a.findings)


def test_json_round_trip_keeps_targets_runs_and_matrix(static_assessment: Assessment) -> None:
    doc = static_assessment.to_dict()
    assert doc["tool"] == "apisec" and {"findings", "targets", "matrix", "assessment"} <= set(doc)
    back = Assessment.from_dict(doc)
    assert [r.finding for r in back.results] == [
        r.finding.__class__.from_dict(r.finding.to_dict()) for r in static_assessment.results
    ]
    assert [t.name for t in back.targets] == [t.name for t in static_assessment.targets]
    assert back.matrix() == static_assessment.matrix()


def test_a_raising_check_becomes_an_error_finding() -> None:
    findings, run = run_job(_job("tests.compare._helper_checks:boom"))
    (f,) = findings
    assert f.check_id == CHECK_ERROR and f.status is Status.ERROR
    assert f.side is Side.SOAP and f.dimension is Dimension.ENCRYPTION and f.target == "file.wsdl"
    assert "RuntimeError: connection refused by 127.0.0.1:9" in f.evidence and "second line" not in f.evidence
    assert run.outcome == "error"


def test_a_missing_check_function_is_reported_as_unavailable() -> None:
    findings, run = run_job(_job("wssec.checks:no_such_check", name="soap.future"))
    (f,) = findings
    assert f.check_id == UNAVAILABLE and f.status is Status.ERROR
    assert "wssec.checks.no_such_check is not available" in f.evidence
    assert run.outcome == "unavailable"
    findings, run = run_job(_job("apisec_no_such_module:check"))
    assert findings[0].check_id == UNAVAILABLE


def test_a_check_returning_garbage_is_an_error() -> None:
    findings, run = run_job(_job("tests.compare._helper_checks:not_findings"))
    assert findings[0].check_id == CHECK_ERROR and "instead of Finding" in findings[0].evidence


def test_a_hanging_check_times_out_without_blocking_the_others() -> None:
    helpers.HOLD.clear()
    jobs = [
        _job("tests.compare._helper_checks:hang", "hang"),
        _job("tests.compare._helper_checks:boom", "boom"),
    ]
    t0 = time.monotonic()
    try:
        out = run_jobs(jobs, concurrency=1, timeout=0.5)
    finally:
        helpers.HOLD.set()
    assert time.monotonic() - t0 < 5
    (hang_findings, hang_run), (boom_findings, boom_run) = out
    assert hang_findings[0].check_id == TIMEOUT and hang_run.outcome == "timeout"
    assert "within 0.5s" in hang_findings[0].evidence
    # concurrency=1 and the first worker is stuck: a replacement worker ran the second job
    assert boom_run.outcome == "error"


def test_concurrency_is_bounded_and_exclusive_jobs_never_overlap() -> None:
    helpers.ACTIVE.update(now=0, max=0)
    free = [_job("tests.compare._helper_checks:count_overlap", f"j{i}") for i in range(6)]
    run_jobs(free, concurrency=3, timeout=10)
    assert helpers.ACTIVE["max"] == 3
    helpers.ACTIVE.update(now=0, max=0)
    same_host = [
        _job("tests.compare._helper_checks:count_overlap", f"x{i}", exclusive="h:443") for i in range(4)
    ]
    run_jobs(same_host, concurrency=4, timeout=10)
    assert helpers.ACTIVE["max"] == 1


def test_plan_skips_what_is_not_configured(tmp_path) -> None:
    from compare.config import RestTarget, SoapTarget, Targets

    t = Targets(
        soap=(SoapTarget("s", endpoint="https://127.0.0.1:1/quote"),),
        rest=(RestTarget("r", base_url="http://127.0.0.1:2"),),
    )
    jobs, skipped = plan(t)
    names = sorted(j.name for j in jobs)
    assert names == ["rest.http", "soap.tls"]
    assert {r.finding.check_id for r in skipped} == {NOT_CONFIGURED}
    assert {r.finding.status for r in skipped} == {Status.SKIP}
    assert any("no sample_request, signing_key, signing_cert" in r.finding.evidence for r in skipped)
    assert any("no token" in r.finding.evidence for r in skipped)
    tls = next(j for j in jobs if j.name == "soap.tls")
    assert tls.exclusive == "tls:127.0.0.1:1" and tls.func == "rest.tls:check"
    http = next(j for j in jobs if j.name == "rest.http")
    assert http.burst and http.host == "127.0.0.1:2"


def test_a_plain_findings_document_renders_as_an_assessment(sample_docs) -> None:
    """What `apisec soap check --format json` prints can be re-rendered by `compare report`."""
    from compare.findings import to_json_document
    from compare.reporters import render
    from wssec.checks import check_wsdl

    doc = to_json_document(check_wsdl(str(sample_docs["legacy"])))
    a = Assessment.from_dict(doc)
    assert [t.name for t in a.targets] == [str(sample_docs["legacy"])]
    assert "wssec.body-not-signed" in render(a, "md")


def test_endpoint_is_derived_from_the_wsdl(sample_docs) -> None:
    from compare.engine import wsdl_soap_address

    assert wsdl_soap_address(str(sample_docs["secure"])) == "https://127.0.0.1:8443/quote"
    assert wsdl_soap_address("https://soap.test/svc?wsdl") == "https://soap.test/svc"
    assert wsdl_soap_address("https://soap.test/svc.wsdl") is None
    assert wsdl_soap_address(str(sample_docs["request"])) is None  # not a WSDL: no address


def test_a_burst_job_runs_after_every_other_job_on_its_host() -> None:
    helpers.ORDER.clear()
    jobs = [
        _job("tests.compare._helper_checks:record_burst", "burst", host="h:1", burst=True),
        _job("tests.compare._helper_checks:record_light", "light-1", host="h:1"),
        _job("tests.compare._helper_checks:record_light", "light-2", host="h:1"),
        _job("tests.compare._helper_checks:record_other", "other-host", host="h:2"),
    ]
    out = run_jobs(jobs, concurrency=4, timeout=10)
    assert [run.job for _f, run in out] == [
        "burst",
        "light-1",
        "light-2",
        "other-host",
    ]  # results in job order
    assert helpers.ORDER.index("burst") > max(i for i, x in enumerate(helpers.ORDER) if x == "light")
    assert "other" in helpers.ORDER[:3]  # a different host is not held back


def test_resolved_secret_values_are_scrubbed_even_when_a_check_echoes_them(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compare.config import SecretRef

    monkeypatch.setenv("APISEC_TEST_OPAQUE_KEY", "opaque-key-7f3a9c")  # no pattern recognises this
    ref = SecretRef("env:APISEC_TEST_OPAQUE_KEY")

    def job(func: str) -> Job:
        return Job(
            "rest.x", "t", Side.REST, Dimension.ACCESS_CONTROL, func, lambda fn: fn(ref.resolve()), "u"
        )

    findings, _ = run_job(job("tests.compare._helper_checks:echo_secret"), show_raw=True)
    (f,) = findings
    assert "opaque-key-7f3a9c" not in f.evidence and "[REDACTED]" in f.evidence
    assert "opaque-key-7f3a9c" not in str(f.raw) and f.raw
    findings, _ = run_job(job("tests.compare._helper_checks:raise_secret"))
    assert "opaque-key-7f3a9c" not in findings[0].evidence and "server rejected key" in findings[0].evidence
