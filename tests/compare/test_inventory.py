"""Inventories as plain lists (CSV / JSON Lines), an OpenAPI ``servers`` list
and a folder of WSDLs, read into the same Targets as the targets file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apisec_samples import soap_service
from apisec_samples.rest_service import OPENAPI
from compare.config import ConfigError, RestTarget, SecretRef, SoapTarget, load_targets
from compare.shard import Shard, select

CSV = """url,kind,contract,credentials,name,group,username
https://api-a.test/v1,rest,openapi.yaml,env:TOKEN_A,,prod,
https://api-b.test/v1,rest,,file:secrets/b.token,orders-b,,
https://soap.test/quote,soap,quote.wsdl,env:SOAP_PW,quote,prod,alice
"""


def _folder(tmp_path: Path) -> Path:
    shutil.copy(OPENAPI, tmp_path / "openapi.yaml")
    (tmp_path / "quote.wsdl").write_bytes(soap_service.render_wsdl("secure", "https://soap.test/quote", None))
    return tmp_path


def test_csv_and_jsonl_lists_load_the_same_targets(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "inv.csv").write_text(CSV, encoding="utf-8")
    rows = [
        {"url": "https://api-a.test/v1", "kind": "rest", "contract": "openapi.yaml", "credentials": "env:TOKEN_A",
         "group": "prod"},
        {"url": "https://api-b.test/v1", "kind": "REST", "credentials": "file:secrets/b.token", "name": "orders-b"},
        {"url": "https://soap.test/quote", "kind": "soap", "contract": "quote.wsdl", "credentials": "env:SOAP_PW",
         "name": "quote", "group": "prod", "username": "alice"},
    ]  # fmt: skip
    (folder / "inv.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    a, b = load_targets(folder / "inv.csv"), load_targets(folder / "inv.jsonl")
    assert a.rest == b.rest and a.soap == b.soap
    api_a, api_b = a.rest
    assert api_a == RestTarget(
        name="https://api-a.test/v1", group="prod", base_url="https://api-a.test/v1",
        openapi=str(folder.resolve() / "openapi.yaml"), token=SecretRef("env:TOKEN_A", folder.resolve()),
    )  # fmt: skip
    assert api_b.name == "orders-b" and api_b.openapi is None and api_b.token is not None
    (folder / "secrets").mkdir()
    (folder / "secrets" / "b.token").write_text("opaque-b-token\n")
    assert api_b.token.resolve() == "opaque-b-token"  # file: is relative to the list's folder
    (quote,) = a.soap
    assert quote == SoapTarget(
        name="quote", group="prod", wsdl=str(folder.resolve() / "quote.wsdl"), endpoint="https://soap.test/quote",
        username="alice", password=SecretRef("env:SOAP_PW", folder.resolve()),
    )  # fmt: skip
    assert a.source == str((folder / "inv.csv").resolve())


@pytest.mark.parametrize(
    "name,text,line,message",
    [
        ("inv.csv", "url,kind,credentials\nhttps://a.test,rest,\nhttps://b.test,rest,hunter2-literal\n", 3,
         "credentials must be a reference"),
        ("inv.csv", "url,kind\nhttps://a.test,graphql\n", 2, "kind must be 'rest' or 'soap'"),
        ("inv.csv", "url,kind\n,rest\n", 2, "url is required"),
        ("inv.csv", "url,kind\nftp://a.test,rest\n", 2, "http\\(s\\) URL"),
        ("inv.csv", "url,kind,secret\nhttps://a.test,rest,x\n", 1, "only known columns"),
        ("inv.csv", "url,contract\nhttps://a.test,o.yaml\n", 1, "must name url and kind"),
        ("inv.csv", "url,kind\nhttps://a.test,rest,extra\n", 2, "more cells"),
        ("inv.csv", "url,kind,profile\nhttps://a.test,rest,strict\n", 2, "unknown profile"),
        ("inv.csv", "url,kind\nhttps://a.test,rest\n\nhttps://a.test,rest\n", 0, "names must be unique"),
        ("inv.csv", "", 1, "empty file"),
        ("inv.csv", "url,kind\n", 0, "lists no target"),
        ("inv.jsonl", '{"url": "https://a.test", "kind": "rest"}\n{"url": "https://b.test", "kind": "rest", '
         '"credentials": "Bearer hunter2-literal"}\n', 2, "credentials must be a reference"),
        ("inv.jsonl", '{"url": "https://a.test", "kind": "rest"}\n{"url": \n', 2, "not valid JSON"),
        ("inv.jsonl", '["https://a.test", "rest"]\n', 1, "must be a JSON object"),
        ("inv.jsonl", '{"url": "https://a.test", "kind": "rest", "token": "env:X"}\n', 1, "unknown key"),
        ("inv.jsonl", '{"url": "https://a.test", "kind": "soap", "credentials": "env:PW"}\n', 1,
         "username and password go together"),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_with_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_targets(path)
    text_of = str(info.value)
    assert info.value.exit_code == 2 and "\n" not in text_of
    if line:
        assert text_of.startswith(f"{path}:{line}:"), text_of
    assert "hunter2" not in text_of  # a refused literal secret is never echoed


def test_a_bad_list_exits_2_with_one_line_and_writes_nothing(apisec, tmp_path: Path) -> None:
    inv = tmp_path / "inv.csv"
    inv.write_text("url,kind,credentials\nhttps://a.test,rest,s3cr3t-literal-token\n", encoding="utf-8")
    out = tmp_path / "out"
    r = apisec("compare", "run", "-c", str(inv), "-o", str(out), "-f", "json")
    assert r.exit_code == 2, r.stderr
    assert (
        r.stderr.strip().startswith(f"apisec: error: {inv}:2: credentials")
        and len(r.stderr.splitlines()) == 1
    )
    assert "s3cr3t" not in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert not out.exists()


def _openapi(tmp_path: Path, servers: list[dict]) -> Path:
    import yaml

    doc = yaml.safe_load(OPENAPI.read_text())
    doc["servers"] = servers
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_an_openapi_servers_list_is_one_rest_target_per_server(tmp_path: Path) -> None:
    path = _openapi(
        tmp_path,
        [
            {"url": "https://eu.api.test/v1"},
            {"url": "https://{region}.api.test/v1", "variables": {"region": {"default": "us"}}},
        ],
    )
    t = load_targets(path)
    assert [(r.name, r.base_url, r.openapi) for r in t.rest] == [
        ("https://eu.api.test/v1", "https://eu.api.test/v1", str(path.resolve())),
        ("https://us.api.test/v1", "https://us.api.test/v1", str(path.resolve())),
    ]
    assert not t.soap


@pytest.mark.parametrize(
    "servers,message",
    [
        ([], "declares no servers"),
        ([{"url": "/v1"}], r"servers\[0\]: url must be an http\(s\) URL"),
    ],
)
def test_an_openapi_document_without_usable_servers_is_refused(
    tmp_path: Path, servers: list, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_targets(_openapi(tmp_path, servers))


def test_an_invalid_openapi_document_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {}\npaths: 7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(bad)):
        load_targets(bad)


def test_a_folder_of_wsdls_is_one_soap_target_per_port(tmp_path: Path) -> None:
    folder = tmp_path / "wsdls"
    (folder / "team-b").mkdir(parents=True)
    (folder / "quote.wsdl").write_bytes(soap_service.render_wsdl("secure", "https://a.test/quote", None))
    (folder / "team-b" / "legacy.WSDL").write_bytes(
        soap_service.render_wsdl("legacy", "https://b.test/q", None)
    )
    (folder / "notes.txt").write_text("not a WSDL")
    t = load_targets(folder)
    assert [(s.name, s.endpoint, Path(s.wsdl or "").name) for s in t.soap] == [
        ("quote.wsdl/QuoteService/QuotePort", "https://a.test/quote", "quote.wsdl"),
        ("team-b/legacy.WSDL/QuoteService/QuotePort", "https://b.test/q", "legacy.WSDL"),
    ]


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no \\*.wsdl file"),
        (b"<definitions/>", "no service port"),
        (b"<oops", "not a readable WSDL"),
        (soap_service.render_wsdl("secure", "{{ADDRESS}}", None), "url must be an http\\(s\\) URL"),
    ],
)
def test_bad_wsdl_folders_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    folder = tmp_path / "wsdls"
    folder.mkdir()
    if content is not None:
        (folder / "x.wsdl").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_targets(folder)


def test_inventory_tables_in_a_targets_file_keep_settings_and_profiles(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "lists").mkdir()
    (folder / "lists" / "inv.csv").write_text(
        "url,kind,profile,ca_file\nhttps://a.test/v1,rest,,\nhttps://b.test/v1,rest,deep,b-ca.pem\n",
        encoding="utf-8",
    )
    wsdls = folder / "wsdls"
    wsdls.mkdir()
    (wsdls / "q.wsdl").write_bytes(soap_service.render_wsdl("secure", "https://soap.test/q", None))
    (folder / "apisec.toml").write_text(
        """
[settings]
concurrency = 8

[profiles.quick]
rate_limit_probe = 0
[profiles.deep]
rate_limit_probe = 200

[[inventory]]
path = "lists/inv.csv"
profile = "quick"
ca_file = "ca.pem"
credentials = "env:TEAM_TOKEN"
rest = { probe_path = "/api/orders" }

[[inventory]]
path = "wsdls"
group = "soap-estate"
soap = { sample_request = "request.xml" }

[[inventory]]
path = "openapi.yaml"
""",
        encoding="utf-8",
    )
    t = load_targets(folder / "apisec.toml")
    assert t.settings.concurrency == 8
    a, b, served = t.rest
    assert (a.profile.name, a.ca_file, a.probe_path, a.token) == (
        "quick", folder / "ca.pem", "/api/orders", SecretRef("env:TEAM_TOKEN", folder),
    )  # fmt: skip
    assert (b.profile.name, b.ca_file) == ("deep", folder.resolve() / "lists" / "b-ca.pem")
    assert served.base_url == "https://127.0.0.1:8443"
    (q,) = t.soap
    assert (q.group, q.endpoint, q.sample_request) == (
        "soap-estate",
        "https://soap.test/q",
        folder / "request.xml",
    )


@pytest.mark.parametrize(
    "entry,message",
    [
        ('[[inventory]]\ngroup = "x"\n', "path is required"),
        ('[[inventory]]\npath = "nope.csv"\n', "inventory not found"),
        ('[[inventory]]\npath = "inv.csv"\nrecursive = true\n', "unknown key"),
        ('[[inventory]]\npath = "inv.csv"\ncredentials = "hunter2-literal"\n', "must be a reference"),
        ('[[inventory]]\npath = "inv.csv"\nrest = { tokn = "env:X" }\n', "unknown key"),
        ('[[inventory]]\npath = "inv.csv"\n[[rest]]\nname = "https://a.test"\nbase_url = "https://a.test"\n',
         "names must be unique"),
    ],
)  # fmt: skip
def test_bad_inventory_tables_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "inv.csv").write_text("url,kind\nhttps://a.test,rest\n", encoding="utf-8")
    (tmp_path / "apisec.toml").write_text(entry, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_targets(tmp_path / "apisec.toml")
    assert "hunter2" not in str(info.value)


def test_list_order_moves_no_target_between_shards(tmp_path: Path) -> None:
    lines = [f"https://h{i % 7}.test/api/{i},rest" for i in range(40)]
    (tmp_path / "a.csv").write_text("url,kind\n" + "\n".join(lines) + "\n")
    (tmp_path / "b.csv").write_text("url,kind\n" + "\n".join(reversed(lines)) + "\n")
    a, b = load_targets(tmp_path / "a.csv"), load_targets(tmp_path / "b.csv")
    for k in (1, 2, 3):
        names_a = {t.name for t in select(a, Shard(k, 3))[0].all()}
        names_b = {t.name for t in select(b, Shard(k, 3))[0].all()}
        assert names_a == names_b
    assert select(a, Shard(1, 3))[1]["inventory"] == select(b, Shard(1, 3))[1]["inventory"]


def test_a_list_runs_through_the_engine(apisec, tmp_path: Path) -> None:
    """The static part of a run from a list: its OpenAPI contract is audited per target."""
    folder = _folder(tmp_path)
    (folder / "inv.csv").write_text(
        "url,kind,contract\nhttps://a.test/v1,rest,openapi.yaml\nhttps://b.test/v1,rest,openapi.yaml\n"
    )
    (folder / "apisec.toml").write_text(
        '[profiles.static]\nlive = false\n[[inventory]]\npath = "inv.csv"\nprofile = "static"\n'
    )
    r = apisec("compare", "run", "-c", str(folder / "apisec.toml"), "-f", "json", "--fail-on", "never")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["targets"][:2] == ["https://a.test/v1", "https://b.test/v1"]
    audited = {f["target_name"] for f in doc["findings"] if f["check_id"].startswith("openapi.")}
    assert audited == {"https://a.test/v1", "https://b.test/v1"}
