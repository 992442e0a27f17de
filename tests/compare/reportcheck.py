"""Shared assertions on written reports (used by the static and the demo tests)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from compare.reporters.sarif import validate as validate_sarif
from wssec.safexml import parse_xml

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium() -> str:
    from tests.conftest import require_peer

    for exe in ("chromium", "chromium-browser"):
        if shutil.which(exe):
            return shutil.which(exe)  # type: ignore[return-value]
    return require_peer("chromium", "renders the HTML report")


def render_html(html: Path, workdir: Path, *, width: int = 1400, height: int = 2000) -> tuple[str, Path]:
    """Load the report in headless Chromium: (serialised DOM, screenshot PNG)."""
    exe = chromium()
    png = workdir / (html.stem + ".png")
    env = {**os.environ, "HOME": str(workdir)}
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={workdir / 'chrome-profile'}"]
    shot = subprocess.run(
        [*common, f"--screenshot={png}", f"--window-size={width},{height}", html.as_uri()],
        capture_output=True,
        timeout=90,
        env=env,
    )
    assert png.is_file(), shot.stderr.decode("utf-8", "replace")[-2000:]
    dom = subprocess.run([*common, "--dump-dom", html.as_uri()], capture_output=True, timeout=90, env=env)
    assert dom.returncode == 0, dom.stderr.decode("utf-8", "replace")[-2000:]
    return dom.stdout.decode("utf-8", "replace"), png


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def check_sarif(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_sarif(doc)
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids)), "one rule per check id"
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) >= 0
    fps = [r["partialFingerprints"]["apisecFingerprint/v1"] for r in run["results"]]
    assert len(fps) == len(set(fps)), "fingerprints are unique within a run"
    for r in run["results"]:
        assert r["ruleId"] in rule_ids and rule_ids[r["ruleIndex"]] == r["ruleId"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return doc


def check_junit(path: Path) -> dict[str, int]:
    root = parse_xml(path.read_bytes())
    assert root.tag == "testsuites"
    cases = list(root.iter("testcase"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(root.get("tests")) == len(cases)
    assert int(root.get("failures")) == len(failures)
    return {"tests": len(cases), "failures": len(failures)}
