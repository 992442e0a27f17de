"""Run both sides' checks over a set of targets and collect an :class:`Assessment`.

The engine is three modules with one job each: :mod:`compare.model` (the
assessment and its JSON form), :mod:`compare.plan` (targets to jobs) and
:mod:`compare.run` (jobs to findings).  This module keeps the names they
had when they lived here.

Habits borrowed from sslyze's scanner:

* every check is a *job* (one check function against one target), and a
  job that raises, times out or whose function does not exist becomes an
  ``error`` finding — never a crash of the whole assessment;
* jobs that open many connections to one endpoint (TLS scans) declare an
  *exclusive* key so at most one of them hammers a server at a time, and a
  job that floods a host on purpose (the rate-limit burst) runs after every
  other job on that host, so the 429s it provokes cannot make their probes
  inconclusive; other jobs keep running concurrently;
* work is bounded: ``settings.concurrency`` jobs at once, each with
  ``settings.timeout`` seconds.

The engine knows the side libraries only through the agreed function names
(``wssec.checks.check_wsdl``, ``rest.tls.check``, …).  A function that is not
installed yields a ``compare.check-unavailable`` error finding naming it, so
a report says exactly which part of an assessment did not run.
"""

from __future__ import annotations

from compare.model import Assessment, JobRun, Result, TargetInfo
from compare.plan import (
    NOT_CONFIGURED,
    Job,
    plan,
    plan_rest,
    plan_soap,
    plan_tls,
    target_info,
    wsdl_soap_address,
)
from compare.run import (
    CHECK_ERROR,
    INTERRUPTED,
    TIMEOUT,
    UNAVAILABLE,
    ProgressCallback,
    assess,
    resolve_check,
    run_job,
    run_jobs,
    scrub,
)

__all__ = [
    "Assessment",
    "CHECK_ERROR",
    "INTERRUPTED",
    "Job",
    "JobRun",
    "NOT_CONFIGURED",
    "Result",
    "TIMEOUT",
    "TargetInfo",
    "UNAVAILABLE",
    "assess",
    "plan",
    "plan_rest",
    "plan_soap",
    "plan_tls",
    "ProgressCallback",
    "scrub",
    "target_info",
    "wsdl_soap_address",
    "resolve_check",
    "run_job",
    "run_jobs",
]
