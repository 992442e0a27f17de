"""Smoke suite for the INSTALLED wheel, run from outside the source tree.

``scripts/test-installed`` builds the wheel, installs it (not editable) into a
fresh venv, copies this folder to a temporary directory and runs it there with
that venv's python.  Each test touches shipped files the way a user does, so a
data file missing from the wheel (the TLS profiles once were) fails here:

* every package is imported from the venv's site-packages, never the checkout;
* every non-Python file under wssec/ rest/ compare/ samples/ is in the wheel;
* ``--help`` of every CLI command;
* each built-in TLS profile in a real scan of a local ``openssl s_server``;
* the samples (WSDLs, request, OpenAPI, roles, targets files) and the SARIF
  schema through ``apisec demo``, ``apisec soap policy``, ``apisec rest check``
  and the targets loader.

Environment: ``APISEC_SOURCE`` (the checkout, to prove we are not in it) and
``APISEC_WHEEL`` (the wheel file that was installed).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("APISEC_SOURCE", "")).resolve()
WHEEL = Path(os.environ.get("APISEC_WHEEL", ""))
SITE = Path(sysconfig.get_paths()["purelib"]).resolve()
DATA_DIRS = {"wssec": "wssec", "rest": "rest", "compare": "compare", "samples": "apisec_samples"}


def apisec(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed console script (the venv's bin/apisec) as a user does."""
    exe = Path(sys.executable).with_name("apisec")
    assert exe.is_file(), f"console script missing: {exe}"
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env
    )


def test_environment_is_outside_the_checkout() -> None:
    assert SOURCE.is_dir() and (SOURCE / "pyproject.toml").is_file(), "APISEC_SOURCE must be the checkout"
    assert WHEEL.is_file(), "APISEC_WHEEL must name the installed wheel"
    assert not Path.cwd().resolve().is_relative_to(SOURCE)
    assert not Path(__file__).resolve().is_relative_to(SOURCE)


@pytest.mark.parametrize("name", ["wssec", "rest", "compare", "apisec_samples", "rest.tls.profiles"])
def test_imports_the_installed_copy(name: str) -> None:
    module = importlib.import_module(name)
    where = Path(module.__file__).resolve()
    assert where.is_relative_to(SITE), f"{name} imported from {where}, not {SITE}"
    assert not where.is_relative_to(SOURCE)


def _source_data_files() -> list[str]:
    """Every tracked (or new, not ignored) non-Python file the packages hold."""
    listed = subprocess.run(
        ["git", "-C", str(SOURCE), "ls-files", "--cached", "--others", "--exclude-standard", *DATA_DIRS],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [f for f in listed if not f.endswith((".py", ".pyc")) and (SOURCE / f).is_file()]


def test_wheel_ships_every_data_file() -> None:
    names = set(zipfile.ZipFile(WHEEL).namelist())
    data = _source_data_files()
    assert any(f.startswith("rest/tls/profiles/") for f in data), "no TLS profile found in the checkout"
    missing = []
    for f in data:
        top, rest = f.split("/", 1)
        if f"{DATA_DIRS[top]}/{rest}" not in names:
            missing.append(f)
    assert not missing, f"not shipped in {WHEEL.name}: {missing}"
    for f in data:  # and installed where the code looks for it
        top, rest = f.split("/", 1)
        assert (SITE / DATA_DIRS[top] / rest).is_file(), f


def _command_paths() -> list[tuple[str, ...]]:
    """Every visible command and group of the real CLI tree (groups loaded in full)."""
    import typer

    from compare import cli

    groups = {name: module for name, module, _ in cli._GROUPS}
    top = cli._build([])
    paths: list[tuple[str, ...]] = [()]

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    for name, command in sorted(top.commands.items()):
        if getattr(command, "hidden", False):
            continue
        if name in groups:
            mod = importlib.import_module(groups[name])
            load = getattr(mod, "load", None)
            command = typer.main.get_command(load(None) if load else mod.app)
        walk(command, (name,))
    return paths


COMMANDS = _command_paths()


def test_command_tree_is_complete() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for expected in ("demo", "soap sign", "soap verify", "rest tls", "rest jwt probe", "compare run"):
        assert expected in names


@pytest.mark.parametrize("path", [p for p in COMMANDS if len(p) <= 1], ids=lambda p: " ".join(p) or "apisec")
def test_console_script_help(path: tuple[str, ...]) -> None:
    """The installed console script, in a subprocess, for the root and each top-level command."""
    result = apisec(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and not result.stderr.strip()


@pytest.mark.parametrize("path", [p for p in COMMANDS if len(p) > 1], ids=" ".join)
def test_help_of_every_subcommand(path: tuple[str, ...]) -> None:
    """Every deeper command's --help renders, in-process through the same typer tree the
    console script builds (a subprocess each would cost a second of imports per command)."""
    from typer.testing import CliRunner

    from compare import cli

    module = {name: mod for name, mod, _ in cli._GROUPS}[path[0]]
    mod = importlib.import_module(module)
    load = getattr(mod, "load", None)
    group = load(None) if load else mod.app
    result = CliRunner().invoke(group, [*path[1:], "--help"], prog_name=f"apisec {path[0]}")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and " ".join(path) in " ".join(result.output.split())


# ------------------------------------------------------------------ TLS profiles
def test_every_builtin_profile_loads_from_site_packages() -> None:
    from rest.tls.profiles import BUILTIN_PROFILES, PROFILE_DIR, load_profile

    assert Path(PROFILE_DIR).resolve().is_relative_to(SITE)
    for name in BUILTIN_PROFILES:
        assert load_profile(name).name == name


@pytest.fixture(scope="module")
def s_server(tmp_path_factory: pytest.TempPathFactory):
    """``openssl s_server`` on an ephemeral 127.0.0.1 port with the sample PKI's service cert."""
    from apisec_samples.pki import make_pki

    openssl = shutil.which("openssl")
    assert openssl, "peer 'openssl' not installed (scripts/test installs every peer)"
    work = tmp_path_factory.mktemp("tls")
    pki = make_pki(work / "pki")
    log = work / "s_server.log"
    args = [openssl, "s_server", "-accept", "127.0.0.1:0", "-www"]
    args += ["-cert", str(pki.service.cert_path), "-key", str(pki.service.key_path)]
    args += ["-cipher", "ECDHE+AESGCM", "-groups", "X25519:P-256:P-384"]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        port = None
        while port is None and time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("ACCEPT"):
                    port = int(line.rsplit(":", 1)[1])
            assert proc.poll() is None, log.read_text()
            time.sleep(0.02)
        assert port, "s_server did not start"
        yield port, pki
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("profile", ["nist-800-52r2", "pci-dss-4"])
def test_tls_scan_with_builtin_profile(s_server, profile: str, tmp_path: Path) -> None:
    port, pki = s_server
    out = tmp_path / "tls.json"
    result = apisec(
        "rest", "tls", f"127.0.0.1:{port}", "--hostname", "localhost", "--ca-file", str(pki.ca.cert_path),
        "--profile", profile, "--format", "json", "--fail-on", "never", "-o", str(out), timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    findings = doc["findings"]
    assert findings and not [f for f in findings if f["status"] == "error"], findings
    assert profile in json.dumps(findings), "the findings must name the profile they were judged by"
    status = {f["check_id"]: f["status"] for f in findings}
    assert status["tls.cert-untrusted"] == "pass" and status["tls.cert-hostname"] == "pass"


# ------------------------------------------------------------------ samples, schemas
def test_demo_uses_the_shipped_samples_and_writes_valid_sarif(tmp_path: Path) -> None:
    from compare.reporters import sarif

    assert Path(sarif.SCHEMA_FILE).resolve().is_relative_to(SITE)
    result = apisec("demo", "--output", str(tmp_path / "out"), "--no-progress", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "apisec.sarif").read_text())
    sarif.validate(document)  # against the schema file shipped in the wheel
    assessment = json.loads((tmp_path / "out" / "assessment.json").read_text())
    sides = {f["side"] for f in assessment["findings"]}
    assert sides == {"soap", "rest"}


@pytest.mark.parametrize("config", ["secure", "legacy"])
def test_sample_wsdls_policy(config: str, tmp_path: Path) -> None:
    import apisec_samples.soap_service as soap

    wsdl = tmp_path / f"quote-{config}.wsdl"
    wsdl.write_bytes(soap.render_wsdl(config, "https://127.0.0.1:8443/quote"))
    result = apisec("soap", "policy", str(wsdl), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), (dict, list))
    assert soap.request_xml().lstrip().startswith(b"<")


def test_sample_openapi_static_audit(tmp_path: Path) -> None:
    import apisec_samples.rest_service as svc

    spec = Path(svc.__file__).with_name("openapi.yaml")
    result = apisec("rest", "check", "--openapi", str(spec), "--format", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert findings and all(f["check_id"].startswith("openapi.") for f in findings)


def test_sample_targets_files_load() -> None:
    import apisec_samples
    from compare.config import load_targets

    here = Path(apisec_samples.__file__).parent
    toml, yaml = load_targets(here / "apisec.toml"), load_targets(here / "apisec.yaml")
    for targets in (toml, yaml):
        assert [t.name for t in targets.soap] == ["quote-soap"]
        assert [t.name for t in targets.rest] == ["orders-api"]
        assert Path(targets.rest[0].openapi).is_file() and targets.rest[0].roles.is_file()


def test_flow_generate_and_preview_use_the_shipped_flow_schema(tmp_path: Path) -> None:
    import apisec_samples.rest_service as svc
    from compare.flow import model

    assert Path(model.SCHEMA_FILE).resolve().is_relative_to(SITE)
    here = Path(svc.__file__).parent
    flow = tmp_path / "flow.yaml"
    result = apisec(
        "flow", "generate", "--openapi", str(here / "openapi.yaml"), "--roles", str(here / "roles.yaml"),
        "--base-url", "https://127.0.0.1:8443", "-o", str(flow), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    preview = apisec("flow", "preview", str(flow), cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "nothing is sent" in preview.stdout and "GET /api/health" in preview.stdout
