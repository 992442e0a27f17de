"""Shared fixtures: the test PKI, a CLI runner, and the peer rule.

Peer rule: interop tests need real peers (xmlsec1, Java + WSS4J, openssl).
A missing peer is a test *failure*, never a skip: a skipped interop test
proves nothing.  ``./scripts/test`` installs every peer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from apisec_samples.pki import TestPKI, make_pki

IN_CI = bool(os.environ.get("CI"))
VECTORS = Path(__file__).parent / "vectors"


def require_peer(executable: str, why: str = "") -> str:
    """Return the path of a peer program; fail the test if it is missing."""
    path = shutil.which(executable)
    if path:
        return path
    msg = f"peer '{executable}' not installed{': ' + why if why else ''}"
    pytest.fail(msg + " (./scripts/test installs every peer)")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """CA, client, service, rogue, expired, not-yet-valid and EC identities."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_apisec(
    *args: str, input: bytes | None = None, cwd: Path | None = None, timeout: float = 120
) -> CliResult:
    """Run the real ``apisec`` console script in a subprocess, as users do."""
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    proc = subprocess.run(
        [exe, *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    return CliResult(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


@pytest.fixture
def apisec():
    """``apisec(*args)`` → CliResult from a real subprocess."""
    return run_apisec


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``apisec demo --serve`` running for the session (docs examples run against it)."""
    from tests.served import serve

    with serve(tmp_path_factory.mktemp("served") / "apisec-serve") as s:
        yield s
