"""The forged-token steps are real forgeries, in ``flow run`` (rest.jwt.forge)
and in the Postman export (pre-request scripts): against the flawed JWT API
sample, each is accepted exactly by the route with the matching flaw, and
newman and ``flow run`` agree on every step."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import jwt

from apisec_samples.jwt_api.app import JwtApi, serve
from compare.flow.generate_openapi import generate_openapi
from compare.flow.model import dump_flow, load_flow
from compare.flow.postman import export_postman
from compare.flow.run import run_flow
from tests.compare.test_flow_postman import _newman

ROUTES = ("/secure", "/flaw/none-alg", "/flaw/unsigned", "/flaw/key-confusion")
# (route, variation) pairs that must be accepted; every other credential step is refused
ACCEPTED = {
    ("flaw-none-alg", "alg-none"),
    ("flaw-unsigned", "alg-none"),
    ("flaw-unsigned", "tampered-token"),
    ("flaw-unsigned", "key-confusion"),
    ("flaw-unsigned", "expired-token"),
    ("flaw-key-confusion", "key-confusion"),
}


def _contract() -> dict:
    ok = {"200": {"description": "ok"}, "401": {"description": "no"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "flawed jwt api", "version": "1"},
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            r: {"get": {"operationId": r.strip("/").replace("/", "-"), "responses": ok}} for r in ROUTES
        },
    }


def test_forged_tokens_are_accepted_exactly_where_the_flaw_is(tmp_path: Path) -> None:
    api = JwtApi()
    server = serve(api)
    try:
        (tmp_path / "openapi.json").write_text(json.dumps(_contract()))
        (tmp_path / "api-public.pem").write_bytes(api.public_pem)
        flow, _ = generate_openapi(tmp_path / "openapi.json", base_url=server.url, token="env:API_TOKEN",
                                   expired_token="env:EXPIRED_TOKEN", public_key="file:api-public.pem")  # fmt: skip
        # keep the credential variations (no CORS / plain HTTP steps: not what this test is about)
        for op in flow["operations"]:
            op["steps"] = [
                s for s in op["steps"] if s["variation"] not in ("cors-foreign-origin", "plain-http")
            ]
        path = tmp_path / "flow.yaml"
        path.write_text(dump_flow(flow))
        now = int(time.time())
        expired = jwt.encode(api.claims(iat=now - 7200, exp=now - 3600), api.rsa_key, algorithm="RS256",
                             headers={"kid": "api-key-1"})  # fmt: skip
        env = {"API_TOKEN": api.token_for("/secure"), "EXPIRED_TOKEN": expired}
        findings = run_flow(load_flow(path), env=env)
        run_verdicts = {f.target.rsplit("[", 1)[1].rstrip("]"): f.status.value for f in findings}

        collection, _ = export_postman(load_flow(path))
        (tmp_path / "c.json").write_text(json.dumps(collection))
        report = tmp_path / "newman.json"
        args = [_newman(), "run", str(tmp_path / "c.json"), "-r", "json", "--reporter-json-export", str(report),
                "--env-var", f"baseUrl={server.url}", "--env-var", f"PUBLIC_KEY_PEM={api.public_pem.decode()}"]  # fmt: skip
        for k, v in env.items():
            args += ["--env-var", f"{k}={v}"]
        subprocess.run(args, capture_output=True, text=True, timeout=180)
        doc = json.loads(report.read_text())
    finally:
        server.stop()
    newman = {
        ex["item"]["name"]: all(not a.get("error") for a in ex["assertions"])
        for ex in doc["run"]["executions"]
    }
    expected_fail = {f"{op}/{v}" for op, v in ACCEPTED}
    assert {n for n, s in run_verdicts.items() if s == "fail"} == expected_fail
    assert {n for n, s in run_verdicts.items() if s != "fail"} == {
        n for n in run_verdicts if n not in expected_fail
    }
    assert all(s == "pass" for n, s in run_verdicts.items() if n not in expected_fail), run_verdicts
    assert newman == {n: s == "pass" for n, s in run_verdicts.items()}
