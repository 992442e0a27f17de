"""apisec's HTTP-level checks against Flask, FastAPI and Django apps (flask-cors,
Starlette's CORSMiddleware, django-cors-headers, each framework's debug mode)
over HTTPS on 127.0.0.1: per app the check ids that must fail, and a correct
app of each framework that fails nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compare.findings import Status
from rest.http import check
from tests.realworld import http_apps
from tests.realworld.servers import asgi_server, wsgi_server

ROOT = Path(__file__).resolve().parents[2]
FLAWS = {"http.cors", "http.error-leak", "http.auth-not-enforced", "authz.bola", "authz.bfla"}


def _django(mode: str, api: http_apps.Api, pki):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.realworld.django_app", mode, str(pki.service.cert_path), str(pki.service.key_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    proc.stdin.write(";".join(f"{u} {t}" for u, t in api.tokens.items()) + "\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"django app did not start: {line} {proc.stderr.read()[-2000:]}")
    return proc, f"https://localhost:{int(line.split()[1])}"


@pytest.fixture(
    scope="module",
    params=[(f, m) for f in ("flask", "fastapi", "django") for m in ("flawed", "correct")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def app(request, pki):
    framework, mode = request.param
    api = http_apps.Api(flawed=mode == "flawed")
    tls = (pki.service.cert_path, pki.service.key_path)
    if framework == "flask":
        with wsgi_server(http_apps.flask_app(api), tls) as url:
            yield framework, mode, api, url
    elif framework == "fastapi":
        with asgi_server(http_apps.fastapi_app(api), tls) as url:
            yield framework, mode, api, url
    else:
        proc, url = _django(mode, api, pki)
        try:
            yield framework, mode, api, url
        finally:
            proc.kill()
            proc.wait()


def test_http_controls(app, pki):
    framework, mode, api, url = app
    findings = check(
        url + "/api/orders", token=api.tokens["alice"], openapi=http_apps.OPENAPI,
        roles=http_apps.roles_matrix(api.tokens), ca_file=str(pki.ca_path), rate_limit_probe=20,
    )  # fmt: skip
    failed = {f.check_id: f.evidence for f in findings if f.status is Status.FAIL}
    errors = [(f.check_id, f.evidence) for f in findings if f.status is Status.ERROR]
    assert not errors, errors
    expected = FLAWS if mode == "flawed" else set()
    assert set(failed) == expected, failed
    if mode == "flawed":
        unprotected = [
            f for f in findings if f.check_id == "http.auth-not-enforced" and f.status is Status.FAIL
        ]
        assert any("DELETE" in f.target or "DELETE" in f.evidence for f in unprotected), unprotected
        assert "reflected with Access-Control-Allow-Credentials" in failed["http.cors"]
