"""Run the npm peers (node-soap, xml-crypto) the way the interop tests need:
the scripts live in tests/node next to the pinned node_modules that
``scripts/test`` installs with ``npm ci``.  A missing node or a missing
module is a test failure (peer rule), never a skip."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_peer

NODE_DIR = Path(__file__).resolve().parent.parent / "node"


def node_script(
    script: str,
    spec: dict[str, Any] | None = None,
    *,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> bytes:
    """Run ``tests/node/<script>`` with ``spec`` as JSON on stdin; its stdout,
    or a test failure carrying its stderr."""
    proc = node_run(script, spec, timeout=timeout, env=env)
    if proc.returncode != 0:
        pytest.fail(
            f"node {script} failed ({proc.returncode}): {proc.stderr.decode('utf-8', 'replace')[-2000:]}"
        )
    return proc.stdout


def node_run(
    script: str,
    spec: dict[str, Any] | None = None,
    *,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    node = require_peer("node", "Node.js runs node-soap and xml-crypto")
    for module in ("soap", "xml-crypto", "@xmldom/xmldom", "xpath"):
        if not (NODE_DIR / "node_modules" / module / "package.json").is_file():
            pytest.fail(f"npm peer '{module}' not installed in tests/node (./scripts/test runs npm ci there)")
    return subprocess.run(
        [node, "--no-deprecation", str(NODE_DIR / script)],
        input=json.dumps(spec or {}).encode(),
        capture_output=True,
        cwd=NODE_DIR,
        timeout=timeout,
        env=env,
    )
