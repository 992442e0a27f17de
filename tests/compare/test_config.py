"""The targets file: TOML and YAML forms, secrets only by reference, clear
one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare.config import ConfigError, SecretRef, load_targets, targets_from_cli
from compare.findings import Side

TOML = """
[settings]
concurrency = 3
timeout = 30
ca_file = "ca.pem"

[thresholds]
fail_on = "medium"

[profiles.strict]
tls_profile = "mozilla-modern"
rate_limit_probe = 10

[[soap]]
name = "orders-soap"
group = "prod"
wsdl = "orders.wsdl"
endpoint = "https://soap.example.test/orders"
sample_request = "req.xml"
signing_key = "client.key"
signing_cert = "client.pem"
trust = "ca.pem"
profile = "strict"

[[rest]]
name = "orders-api"
group = "prod"
base_url = "https://api.example.test"
openapi = "openapi.yaml"
oauth_issuer = "https://auth.example.test"
client_id = "apisec"
client_secret = "env:APISEC_TEST_CLIENT_SECRET"
token = "file:token.txt"
headers = { "X-Api-Key" = "env:APISEC_TEST_API_KEY" }

[[tls]]
host = "soap.example.test"
port = 8443
side = "soap"
"""

YAML = """
settings: {concurrency: 3, timeout: 30, ca_file: ca.pem}
thresholds: {fail_on: medium}
profiles:
  strict: {tls_profile: mozilla-modern, rate_limit_probe: 10}
soap:
  - name: orders-soap
    group: prod
    wsdl: orders.wsdl
    endpoint: https://soap.example.test/orders
    sample_request: req.xml
    signing_key: client.key
    signing_cert: client.pem
    trust: ca.pem
    profile: strict
rest:
  - name: orders-api
    group: prod
    base_url: https://api.example.test
    openapi: openapi.yaml
    oauth_issuer: https://auth.example.test
    client_id: apisec
    client_secret: env:APISEC_TEST_CLIENT_SECRET
    token: file:token.txt
    headers: {X-Api-Key: "env:APISEC_TEST_API_KEY"}
tls:
  - {host: soap.example.test, port: 8443, side: soap}
"""


@pytest.mark.parametrize("name,text", [("apisec.toml", TOML), ("apisec.yaml", YAML)])
def test_toml_and_yaml_load_the_same_targets(tmp_path: Path, name: str, text: str) -> None:
    cfg = tmp_path / name
    cfg.write_text(text, encoding="utf-8")
    t = load_targets(cfg)
    assert t.settings.concurrency == 3 and t.settings.timeout == 30 and t.settings.fail_on == "medium"
    (soap,) = t.soap
    assert soap.name == "orders-soap" and soap.group == "prod"
    assert soap.wsdl == str(tmp_path / "orders.wsdl")  # relative to the targets file
    assert soap.signing_key == tmp_path / "client.key"
    assert soap.profile.tls_profile == "mozilla-modern" and soap.profile.rate_limit_probe == 10
    (rest,) = t.rest
    assert rest.openapi == str(tmp_path / "openapi.yaml")
    assert rest.ca_file == tmp_path / "ca.pem"  # inherited from settings
    assert str(rest.client_secret) == "env:APISEC_TEST_CLIENT_SECRET"
    assert rest.profile.name == "default"
    (tls,) = t.tls
    assert (tls.host, tls.port, tls.side) == ("soap.example.test", 8443, Side.SOAP)


def test_secret_references_resolve_only_on_demand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "apisec.toml"
    cfg.write_text(TOML, encoding="utf-8")
    (tmp_path / "token.txt").write_text("s3cr3t-token-value\n", encoding="utf-8")
    t = load_targets(cfg)
    rest = t.rest[0]
    assert rest.token.resolve() == "s3cr3t-token-value"
    assert "s3cr3t" not in repr(rest) and "s3cr3t" not in str(rest.token)
    monkeypatch.setenv("APISEC_TEST_CLIENT_SECRET", "hunter2")
    assert rest.client_secret.resolve() == "hunter2"
    monkeypatch.delenv("APISEC_TEST_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="APISEC_TEST_API_KEY"):
        rest.headers["X-Api-Key"].resolve()


@pytest.mark.parametrize(
    "snippet,message",
    [
        ('[[rest]]\nbase_url = "https://a.test"\ntoken = "eyJhbGciOi.abc.def"\n', "inline secret"),
        ('[[rest]]\nbase_url = "https://a.test"\nclient_secret = "hunter2"\n', "inline secret"),
        ('[[rest]]\nbase_url = "https://a.test"\nheaders = { "X-Api-Key" = "k" }\n', "inline secret"),
        ('[[rest]]\nbase_url = "ftp://a.test"\n', "http\\(s\\) URL"),
        ('[[soap]]\nname = "x"\n', "needs at least one of"),
        ('[[soap]]\nwsdl = "a.wsdl"\nsigning_key = "k.pem"\n', "go together"),
        ("[[tls]]\nport = 443\n", "host is required"),
        ('[[tls]]\nhost = "a"\nport = 70000\n', "between 1 and 65535"),
        ('[settings]\nfail_on = "severe"\n', "fail_on must be one of"),
        ('[[soap]]\nwsdl = "a.wsdl"\nprofile = "nope"\n', "unknown profile"),
        ('[[soap]]\nwsdl = "a.wsdl"\nwsld = "typo"\n', "unknown key"),
        ("[surprise]\n", "unknown section"),
        ('[[soap]]\nname = "a"\nwsdl = "a.wsdl"\n[[rest]]\nname = "a"\nopenapi = "o.yaml"\n', "unique"),
        ("[[soap]\n", "not valid TOML"),
    ],
)
def test_bad_targets_files_are_refused_with_one_line(tmp_path: Path, snippet: str, message: str) -> None:
    cfg = tmp_path / "apisec.toml"
    cfg.write_text(snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_targets(cfg)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)
    # the refused value itself never appears in the message
    assert "hunter2" not in str(info.value) and "eyJhbGciOi" not in str(info.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_targets(tmp_path / "nope.toml")
    bad = tmp_path / "t.yaml"
    bad.write_text("soap: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_targets(bad)


def test_secret_ref_rejects_non_references() -> None:
    with pytest.raises(ConfigError):
        SecretRef("plain-value")
    assert repr(SecretRef("env:X")) == "SecretRef('env:X')"


def test_command_line_targets(tmp_path: Path) -> None:
    wsdl = tmp_path / "svc.wsdl"
    wsdl.write_text("<definitions/>", encoding="utf-8")
    t = targets_from_cli(
        [str(wsdl), "https://soap.test/svc?wsdl", "https://soap.test/svc"],
        ["https://api.test/v1"],
        ["api.test:8443"],
    )
    assert t.soap[0].wsdl == str(wsdl.resolve())
    assert t.soap[1].wsdl == "https://soap.test/svc?wsdl" and t.soap[1].endpoint is None
    assert t.soap[2].endpoint == "https://soap.test/svc" and t.soap[2].wsdl is None
    assert t.rest[0].base_url == "https://api.test/v1"
    assert (t.tls[0].host, t.tls[0].port) == ("api.test", 8443)
    with pytest.raises(ConfigError):
        targets_from_cli(["not-a-file.wsdl"], [])
    with pytest.raises(ConfigError):
        targets_from_cli([], [], ["no-port"])


def test_the_shipped_example_targets_file_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "samples" / "apisec.toml"
    t = load_targets(example)
    assert [s.name for s in t.soap] == ["quote-soap"] and [r.name for r in t.rest] == ["orders-api"]
    assert t.soap[0].profile.tls_profile == "mozilla-modern"
    assert str(t.rest[0].token) == "env:ORDERS_ACCESS_TOKEN"
    assert t.tls[0].side is Side.SOAP


def test_the_yaml_example_matches_the_toml_one() -> None:
    from dataclasses import replace

    samples = Path(__file__).resolve().parents[2] / "samples"
    from_yaml, from_toml = load_targets(samples / "apisec.yaml"), load_targets(samples / "apisec.toml")
    assert from_yaml.source == str(samples / "apisec.yaml")  # absolute: SARIF anchors survive a cd
    assert from_yaml == replace(from_toml, source=from_yaml.source)
