"""``apisec demo --serve``: six sample services with one PKI, a ready folder,
the shipped samples/apisec.toml working against it unchanged, and nothing
secret left behind on SIGTERM (issue 16)."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from compare.config import load_targets
from tests.conftest import run_apisec
from tests.served import serve

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        shlex.split(command), capture_output=True, text=True, env={**env, "COLUMNS": "200"}, timeout=300
    )


def _wait_for_quota(live) -> None:
    """The secure API allows 30 requests per 5 s; the previous command's burst
    used them up.  Wait (bounded) until the token is answered 2xx again."""
    import ssl
    import time
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(live.folder / "pki/ca.pem"))
    req = urllib.request.Request(
        live.env["APISEC_REST_URL"], headers={"Authorization": f"Bearer {live.env['ALICE_TOKEN']}"}
    )
    for _ in range(40):
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10):
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 429:
                raise
        time.sleep(0.5)
    raise AssertionError("the sample API kept answering 429")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve") / "demo"
    with serve(folder) as s:
        yield s
    # SIGTERM: the one interrupted line, exit 130, and every file removed
    assert s.returncode == 130, s.stderr
    assert s.stderr.strip().splitlines()[-1] == "apisec: error: interrupted"
    assert not folder.exists()


def test_folder_has_one_ca_and_private_files(live) -> None:
    f = live.folder
    for name in ("targets.toml", "serve.env", "request.xml", "pki/ca.pem", "pki/orders-token-signing.pem"):
        assert (f / name).is_file(), name
    ca = x509.load_pem_x509_certificate((f / "pki/ca.pem").read_bytes())
    urls = [
        line.split()[1]
        for line in live.stdout_lines
        if line.startswith("  ") and len(line.split()) == 2 and "://" in line
    ]
    assert len(urls) == 6 and len({u.split("://")[1] for u in urls}) == 6
    # every TLS service (SOAP, REST, OAuth) chains to the one CA
    for url in (u for u in urls if u.startswith("https://")):
        host, port = url.split("://")[1].split("/")[0].split(":")
        import ssl

        pem = ssl.get_server_certificate((host, int(port)))
        assert x509.load_pem_x509_certificate(pem.encode()).issuer == ca.subject, url
    for secret in [*(f / "secrets").iterdir(), *(f / "pki").glob("*.key")]:
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert "eyJ" not in (f / "serve.env").read_text()  # tokens stay in secrets/, read with $(cat …)


def test_shipped_targets_file_resolves_to_the_served_folder(live, monkeypatch) -> None:
    for k, v in live.env.items():
        if k.startswith(("APISEC_", "ORDERS_")) or k.endswith("_TOKEN"):
            monkeypatch.setenv(k, v)
    t = load_targets(SAMPLES / "apisec.toml")
    assert t.soap[0].endpoint == live.env["APISEC_SOAP_URL"]
    assert t.soap[0].signing_key == live.folder / "pki" / "client.key"
    assert t.rest[0].base_url == live.env["APISEC_REST_URL"]
    assert t.tls[0].port == int(live.env["APISEC_TLS_PORT"])
    assert t.rest[0].token.resolve() == (live.folder / "secrets/secure-alice-token").read_text()


def test_shipped_apisec_toml_runs_against_it_unchanged(live, tmp_path) -> None:
    env = {**os.environ, **live.env}
    r = _run(f"apisec compare run -c {SAMPLES / 'apisec.toml'} -o {tmp_path} --format json", env)
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads((tmp_path / "assessment.json").read_text())
    errors = [f for f in doc["findings"] if f["status"] == "error"]
    assert not errors, errors  # every check could run: the file points at live services
    targets = {f["target_name"] for f in doc["findings"]}
    assert {"quote-soap", "orders-api", "partner-gateway"} <= targets


def test_printed_commands_work(live) -> None:
    cmds = live.commands
    assert [c.split()[:3] for c in cmds] == [
        ["apisec", "compare", "run"],
        [".", str(live.folder / "serve.env"), "&&"],
        ["apisec", "soap", "check"],
        ["apisec", "rest", "jwt"],
        ["apisec", "rest", "check"],
    ]
    for command in cmds[2:]:
        _wait_for_quota(live)
        r = _run(command + " --format json", dict(os.environ))
        assert r.returncode == 0, (command, r.stdout[-2000:], r.stderr)
        findings = json.loads(r.stdout)["findings"]
        assert findings and not [f for f in findings if f["status"] in ("fail", "error")], command


def test_serve_refuses_an_unusable_folder_before_starting(tmp_path) -> None:
    taken = tmp_path / "taken"
    (taken / "pki").mkdir(parents=True)
    r = run_apisec("demo", "--serve", "-o", str(taken))
    assert r.exit_code == 2 and "already holds pki" in r.stderr and "starting" not in r.stdout
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for serve_flag in (("--serve",), ()):  # the report demo checks its folder first too
        r = run_apisec("demo", *serve_flag, "-o", str(a_file))
        assert r.exit_code == 2 and "not a folder" in r.stderr and "starting" not in r.stdout
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        r = run_apisec("demo", "-o", str(ro / "out"))
        assert r.exit_code == 2 and "not writable" in r.stderr and "starting" not in r.stdout


@pytest.mark.parametrize(
    "argv,marker",
    [
        (("apisec_samples.oauth_server", "secure", "--tls"), "client secret in:"),
        (("apisec_samples.jwt_api",), "keys and tokens in"),
    ],
)
def test_samples_leave_no_secret_behind_on_sigterm(argv, marker) -> None:
    import signal
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        secret = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if marker in line:
                secret = Path(line.rsplit(marker, 1)[1].strip().rstrip(")"))
            if line.startswith("try:"):
                break
        assert secret is not None and secret.exists()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert secret.exists() is False
    folder = secret if marker == "keys and tokens in" else secret.parent
    assert not folder.exists()


def test_jwt_api_removes_its_kid_secret_on_stop() -> None:
    from apisec_samples.jwt_api.app import serve as serve_jwt_api

    handle = serve_jwt_api()
    kid_dir = handle.extra["api"].kid_dir
    assert (kid_dir / "default").is_file()
    handle.stop()
    assert not kid_dir.exists()
