"""``apisec rest check`` as users run it (real subprocess), against the
sample service in its secure and legacy configurations."""

from __future__ import annotations

import json

import pytest

from apisec_samples.rest_service import OPENAPI, ROLES, serve
from compare.cli import run

DATA = __import__("pathlib").Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def services(pki):
    secure = serve("secure", pki=pki)
    legacy = serve("legacy", pki=pki)
    yield {"secure": secure, "legacy": legacy}
    secure.stop()
    legacy.stop()


def verdicts(stdout: str) -> dict[tuple[str, str], str]:
    doc = json.loads(stdout)
    assert doc["tool"] == "apisec"
    return {(f["check_id"], f["target"]): f["status"] for f in doc["findings"]}


def by_id(stdout: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in json.loads(stdout)["findings"]:
        out.setdefault(f["check_id"], set()).add(f["status"])
    return out


def test_secure_vs_legacy_differ_as_expected(apisec, services, monkeypatch):
    results = {}
    tokens = []
    for name, svc in services.items():
        env = svc.role_env()
        tokens += list(env.values())
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        token = svc.mint("alice")
        tokens.append(token)
        r = apisec(
            "rest", "check", svc.url + "/api/orders",
            "--token", token,
            "--openapi", str(OPENAPI),
            "--roles", str(ROLES),
            "--ca-file", str(svc.ca_file),
            "--format", "json",
        )  # fmt: skip
        results[name] = r
        for t in tokens:
            assert t not in r.stdout and t not in r.stderr
    secure, legacy = results["secure"], results["legacy"]
    assert secure.exit_code == 0, secure.stdout + secure.stderr
    assert legacy.exit_code == 1
    s, lg = by_id(secure.stdout), by_id(legacy.stdout)
    assert all(statuses == {"pass"} for statuses in s.values()), s
    for check_id in (
        "http.cors",
        "http.security-headers",
        "http.error-leak",
        "http.dangerous-methods",
        "http.apikey-in-query",
        "http.rate-limit",
        "http.auth-not-enforced",  # /api/reports is served without credentials
        "authz.bola",
        "authz.bfla",
    ):
        assert "fail" in lg[check_id], check_id
    assert lg["http.server-banner"] == {"warn"}
    # the contract is the same for both: the static audit agrees
    assert s["openapi.no-security"] == lg["openapi.no-security"] == {"pass"}


def test_fail_on_never_and_text_output_with_raw(apisec, services):
    svc = services["legacy"]
    token = svc.mint("alice")
    r = apisec(
        "rest", "check", svc.url + "/api/orders", "--token", token, "--ca-file", str(svc.ca_file),
        "--no-rate-limit-probe", "--show-raw", "--fail-on", "never",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "http.cors" in r.stdout and "FAIL" in r.stdout
    assert "> GET " in r.stdout and "Authorization: Bearer [REDACTED]" in r.stdout
    assert token not in r.stdout and token.split(".")[2] not in r.stdout


def test_token_from_environment(apisec, services, monkeypatch):
    svc = services["secure"]
    monkeypatch.setenv("APISEC_TOKEN", svc.mint("alice"))
    r = apisec(
        "rest", "check", svc.url + "/api/orders", "--ca-file", str(svc.ca_file), "--no-rate-limit-probe"
    )
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "http.security-headers" in r.stdout


def cli(capsys, *args):
    """The real CLI entry (compare.cli.run) in-process: same code path as the
    console script, without a 1-10 s interpreter start per call."""
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_static_audit_exit_codes(capsys):
    code, out, err = cli(capsys, "rest", "check", "--openapi", str(DATA / "good-openapi.json"))
    assert code == 0, out + err
    code, out, err = cli(
        capsys, "rest", "check", "--openapi", str(DATA / "bad-openapi.yaml"), "--format", "json"
    )
    assert code == 1
    assert {"openapi.oauth2-password", "openapi.http-server"} <= {
        f["check_id"] for f in json.loads(out)["findings"] if f["status"] == "fail"
    }
    assert (
        cli(capsys, "rest", "check", "--openapi", str(DATA / "bad-openapi.yaml"), "--fail-on", "never")[0]
        == 0
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "give a URL"),
        (("--openapi", "/nonexistent/spec.yaml"), "not found"),
        (("--openapi", str(DATA / "invalid-openapi.yaml")), "invalid OpenAPI"),
        (("--openapi", str(DATA / "swagger2.json")), "Swagger 2.0"),
        (("https://127.0.0.1:1/api", "--token", "abcdefgh-secret"), "cannot reach"),
        (("ftp://example.test/x",), "not an http(s) URL"),
        (("https://127.0.0.1:1/api", "--header", "no colon here"), "Name: value"),
        (("--openapi", str(DATA / "good-openapi.json"), "--roles", str(ROLES)), "need a URL"),
    ],
)
def test_input_errors_exit_2_with_one_line(args, message, capsys):
    code, out, err = cli(capsys, "rest", "check", *args)
    assert code == 2, out + err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "abcdefgh-secret" not in err
    assert out == ""


def test_bad_roles_file_exit_2(services, tmp_path, capsys):
    svc = services["secure"]
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "roles:\n  alice:\n    token: ${APISEC_TEST_UNSET_VAR}\nrequests:\n  - {path: /x, check: bola, deny: [alice]}\n"
    )
    code, out, err = cli(
        capsys, "rest", "check", svc.url + "/api/orders", "--token", svc.mint("alice"), "--ca-file", str(svc.ca_file),
        "--roles", str(roles),
    )  # fmt: skip
    assert code == 2 and "APISEC_TEST_UNSET_VAR is not set" in err and out == ""


def test_token_env_and_token_file(apisec, services, monkeypatch, tmp_path):
    """The secret vocabulary: --token-env VAR / --token-file PATH (docs/cli.md)."""
    svc = services["secure"]
    monkeypatch.delenv("APISEC_TOKEN", raising=False)
    monkeypatch.setenv("MY_TOKEN", svc.mint("alice"))
    base = ("rest", "check", svc.url + "/api/orders", "--ca-file", str(svc.ca_file), "--no-rate-limit-probe")
    r = apisec(*base, "--token-env", "MY_TOKEN")
    assert r.exit_code == 0, r.stdout + r.stderr
    tok = tmp_path / "token"
    tok.write_text(svc.mint("alice") + "\n")
    r = apisec(*base, "--token-file", str(tok))
    assert r.exit_code == 0, r.stdout + r.stderr
    r = apisec(*base, "--token-env", "NOT_SET_ANYWHERE")
    assert r.exit_code == 2 and "--token-env: environment variable NOT_SET_ANYWHERE is not set" in r.stderr
    r = apisec(*base, "--token-file", str(tok), "--token-env", "MY_TOKEN")
    assert r.exit_code == 2 and "give one of" in r.stderr
    # a wrong token read from a file is refused by the API like any other (the check fails, exit 2 baseline)
    tok.write_text("not-a-token\n")
    assert apisec(*base, "--token-file", str(tok)).exit_code != 0
