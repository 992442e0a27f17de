"""One CLI vocabulary (issue 16, docs/cli.md): readable help placeholders,
wrapped descriptions, hidden old flag names that still work, the one
'wrote' line, and Ctrl-C answered the same way by every long command."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import run_apisec

COMMANDS = (
    "", "soap", "soap sign", "soap verify", "soap encrypt", "soap decrypt", "soap saml", "soap saml issue",
    "soap saml verify", "soap saml xsw", "soap check", "soap policy", "rest", "rest tls", "rest jwt",
    "rest jwt verify", "rest jwt inspect", "rest jwt probe", "rest oauth", "rest check", "compare",
    "compare run", "demo", "checks", "checks list", "flow", "flow generate", "flow preview", "flow run",
    "flow export",
)  # fmt: skip
HIDDEN = ("--max-skew", "--leeway", "--output-dir", "--json")
PYTHON_TYPES = re.compile(r"<(str|bool|int|float|path|list\[[^>]*\]|float range|int range)>")


def _help(words: str, columns: int = 200) -> str:
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    r = subprocess.run(
        [exe, *words.split(), "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    assert r.returncode == 0, (words, r.stderr)
    return r.stdout


@pytest.mark.parametrize("words", COMMANDS)
def test_help_names_values_not_python_types(words) -> None:
    text = _help(words)
    assert not PYTHON_TYPES.findall(text), (words, PYTHON_TYPES.findall(text))
    for old in HIDDEN:
        assert not re.search(rf"{re.escape(old)}\b", text), (words, old)


def test_descriptions_wrap_to_the_terminal() -> None:
    wide = _help("", 200)
    assert "(secure and legacy, with the sample OAuth servers)" in wide  # not cut at the docstring's breaks
    jwt = _help("rest jwt", 200)
    assert "a forgery answered like the valid token fails its check." in jwt
    narrow = _help("", 60)
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_samples_help_is_whole_sentences() -> None:
    for mod in ("soap_service", "rest_service", "oauth_server", "jwt_api"):
        out = subprocess.run(
            [sys.executable, "-m", f"apisec_samples.{mod}", "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        description = out.split("\n\n")[1]
        assert description.rstrip().endswith("."), (mod, description)


def test_old_flag_names_still_work(pki, tmp_path) -> None:
    msg = tmp_path / "m.xml"
    msg.write_bytes(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>'
    )
    signed, enc, dec = tmp_path / "s.xml", tmp_path / "e.xml", tmp_path / "d.xml"
    key, cert = str(pki.client.key_path), str(pki.client.cert_path)
    assert (
        run_apisec("soap", "sign", str(msg), "-o", str(signed), "--key", key, "--cert", cert).exit_code == 0
    )
    for flag in ("--clock-skew", "--max-skew"):
        r = run_apisec("soap", "verify", str(signed), "--trust", str(pki.ca.cert_path), flag, "5")
        assert r.exit_code == 0, (flag, r.stderr)
    r = run_apisec("soap", "verify", str(signed), "--trust", str(pki.ca.cert_path), "--max-skew", "-1")
    assert r.exit_code == 2  # the old name keeps its bounds
    # the one 'wrote' line
    r = run_apisec("soap", "encrypt", str(signed), "-o", str(enc), "--recipient", str(pki.service.cert_path))
    assert r.exit_code == 0 and r.stderr.strip() == f"wrote {enc} (encrypted Body for service)", r.stderr
    for flags in (("--json",), ("--format", "json")):
        r = run_apisec(
            "soap", "decrypt", str(enc), "-o", str(dec), "--key", str(pki.service.key_path), *flags
        )
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["decrypted"][0]["name"] == "Body"
        assert r.stderr.startswith(f"wrote {dec} (decrypted Body)")
    r = run_apisec("soap", "decrypt", str(enc), "-o", str(dec), "--key", str(pki.service.key_path), "--json",
                   "--format", "text")  # fmt: skip
    assert r.exit_code == 0 and json.loads(r.stdout)  # either name asks for JSON


def test_saml_issue_says_what_it_wrote(pki, tmp_path) -> None:
    out = tmp_path / "a.xml"
    r = run_apisec(
        "soap", "saml", "issue", "-o", str(out), "--key", str(pki.service.key_path),
        "--cert", str(pki.service.cert_path), "--issuer", "https://idp.example", "--subject", "alice",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert r.stderr.strip() == f"wrote {out} (signed SAML 2.0 assertion for alice)"
    r = run_apisec(
        "soap", "saml", "issue", "-o", "-", "--key", str(pki.service.key_path),
        "--cert", str(pki.service.cert_path), "--issuer", "https://idp.example", "--subject", "alice",
    )  # fmt: skip
    assert r.exit_code == 0 and r.stderr == "" and "<saml" in r.stdout  # stdout output: no line


def test_secret_forms_name_the_flag(tmp_path, monkeypatch) -> None:
    import jwt as pyjwt

    secret = "s" * 40
    import time

    token = pyjwt.encode({"sub": "alice", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
    f = tmp_path / "secret"
    f.write_text(secret + "\n")
    r = run_apisec("rest", "jwt", "verify", token, "--secret-file", str(f), "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["claims"]["sub"] == "alice", r.stderr
    r = run_apisec("rest", "jwt", "verify", token, "--secret-env", "APISEC_TEST_UNSET_VAR")
    assert (
        r.exit_code == 2 and "--secret-env: environment variable APISEC_TEST_UNSET_VAR is not set" in r.stderr
    )
    f.write_text("")
    r = run_apisec("rest", "jwt", "verify", token, "--secret-file", str(f))
    assert r.exit_code == 2 and "--secret-file" in r.stderr and "is empty" in r.stderr
    for flag in ("--clock-skew", "--leeway"):
        f.write_text(secret)
        r = run_apisec("rest", "jwt", "verify", token, "--secret-file", str(f), flag, "30")
        assert r.exit_code == 0, (flag, r.stderr)


def test_ctrl_c_on_a_long_command_prints_one_line_and_exits_130() -> None:
    """rest tls against a server that accepts and never answers: Ctrl-C."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)
            accepted.set()

    threading.Thread(target=accept, daemon=True).start()
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    proc = subprocess.Popen(
        [exe, "rest", "tls", f"127.0.0.1:{srv.getsockname()[1]}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert accepted.wait(60), "rest tls never connected"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        srv.close()
        for c in held:
            c.close()
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "apisec: error: interrupted", err
    assert "Traceback" not in err
