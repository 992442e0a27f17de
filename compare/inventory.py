"""Inventories in the forms security teams already hold, as :class:`Targets`.

Besides the targets file (``apisec.toml``), ``apisec compare run -c`` reads:

* a **plain list**, CSV (``.csv``, a header row) or JSON Lines (``.jsonl``
  / ``.ndjson``, one object per line), with the fields ``url``, ``kind``
  (``rest`` | ``soap``), ``contract`` (OpenAPI or WSDL path/URL),
  ``credentials`` (``env:VAR`` / ``file:PATH`` only) and optionally
  ``name``, ``group``, ``profile``, ``ca_file`` and ``username`` (a SOAP
  target's UsernameToken user; its password is ``credentials``);
* an **OpenAPI document** (a YAML/JSON file whose top level has ``openapi``
  or ``swagger``): one REST target per entry of its ``servers`` list, the
  document being every target's contract;
* a **folder of WSDLs** (``*.wsdl``, searched recursively): one SOAP target
  per service port with a ``soap:address``/``soap12:address``.

A targets file can also list such sources under ``[[inventory]]`` (keys
``path``, ``group``, ``profile``, ``ca_file``, ``credentials``, and ``rest``
/ ``soap`` tables of further target keys applied to every target the source
yields), so a large inventory keeps its ``[settings]`` and ``[profiles]``.

Why here and not in the engine: every form ends in the same
:class:`~compare.config.RestTarget` / :class:`~compare.config.SoapTarget`,
built and validated by the same code as a ``[[rest]]``/``[[soap]]`` table,
so a row obeys the same rules (secrets by reference only, http(s) URLs,
unique names).  A bad row is a :class:`~compare.config.ConfigError` naming
``file:line`` (exit 2) and nothing is assessed.  A target's default name is
its URL (for a WSDL folder ``file/service/port``), never a row number, so
re-ordering the list changes no name, fingerprint or shard.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from compare.config import (
    ConfigError,
    RestTarget,
    SoapTarget,
    _check_keys,
    _Ctx,
    _doc,
    _path,
    _rest,
    _secret,
    _soap,
    _url,
)

LIST_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""File suffixes read as a plain list of targets."""
FIELDS = ("url", "kind", "contract", "credentials", "name", "group", "profile", "ca_file", "username")
"""The columns/keys a list row may carry (``url`` and ``kind`` are required)."""
ENTRY_KEYS = {"path", "group", "profile", "ca_file", "credentials", "rest", "soap"}
"""Keys of one ``[[inventory]]`` table in a targets file."""
_MAX_ROWS = 100_000

Found = tuple[list[SoapTarget], list[RestTarget]]


def is_openapi(data: Any) -> bool:
    """A parsed YAML/JSON document that is an OpenAPI (or Swagger) contract."""
    return isinstance(data, Mapping) and ("openapi" in data or "swagger" in data)


def is_inventory(path: Path) -> bool:
    """``path`` is a list file or a folder (not a targets file)."""
    return path.is_dir() or path.suffix.lower() in LIST_SUFFIXES


def load_source(path: Path, ctx: _Ctx, entry: Mapping[str, Any] | None = None) -> Found:
    """The targets of one inventory source (list file, OpenAPI document or
    WSDL folder); ``entry`` is its ``[[inventory]]`` table, if any."""
    entry = entry or {}
    if path.is_dir():
        return _from_wsdl_folder(path, ctx, entry)
    kind = LIST_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        return _from_list(path, kind, ctx, entry)
    return [], _from_openapi(path, ctx, entry)


def load_entries(entries: list[Any], ctx: _Ctx) -> Found:
    """Every ``[[inventory]]`` table of a targets file."""
    soap: list[SoapTarget] = []
    rest: list[RestTarget] = []
    for i, raw in enumerate(entries):
        where = f"inventory[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a table/mapping")
        _check_keys(raw, ENTRY_KEYS, where)
        if not raw.get("path"):
            raise ConfigError(
                f"{where}: path is required (a .csv/.jsonl list, an OpenAPI file or a WSDL folder)"
            )
        for side in ("rest", "soap"):
            if not isinstance(raw.get(side) or {}, Mapping):
                raise ConfigError(f"{where}.{side} must be a table of [[{side}]] keys")
        path = _path(raw["path"], ctx.base)
        assert path is not None
        if not path.exists():
            raise ConfigError(f"{where}: inventory not found: {path}")
        s, r = load_source(path, ctx, raw)
        soap += s
        rest += r
    return soap, rest


# ---------------------------------------------------------------- one row -> one target


def _template(entry: Mapping[str, Any], side: str, ctx: _Ctx) -> dict[str, Any]:
    """The entry-wide keys for targets of ``side`` (entry keys, then its side table).

    Paths in the template are made absolute against the targets file (``ctx``)
    so that a row's own relative paths can be read against the list's folder."""
    out: dict[str, Any] = {k: entry[k] for k in ("group", "profile") if entry.get(k) is not None}
    if entry.get("ca_file"):
        out["ca_file"] = str(_path(entry["ca_file"], ctx.base))
    for key, value in (entry.get(side) or {}).items():
        out[str(key)] = value
    return out


def _build(
    row: Mapping[str, Any], where: str, ctx: _Ctx, row_base: Path, entry: Mapping[str, Any]
) -> SoapTarget | RestTarget:
    """One list row (or one server / WSDL port, given as a row) as a target."""
    kind = str(row.get("kind") or "").strip().lower()
    if kind not in ("rest", "soap"):
        raise ConfigError(f"{where}: kind must be 'rest' or 'soap', got {row.get('kind')!r}")
    url = str(row.get("url") or "").strip()
    if not url:
        raise ConfigError(f"{where}: url is required")
    _url(url, f"{where}: url")
    raw = _template(entry, kind, ctx)
    # a row's own fields win over the entry's; its paths are relative to the list's folder
    for key in ("group", "profile", "username"):
        if row.get(key):
            raw[key] = str(row[key])
    if row.get("ca_file"):
        raw["ca_file"] = str(_path(row["ca_file"], row_base))
    contract = _doc(row["contract"], row_base) if row.get("contract") else None
    credentials = row.get("credentials") or entry.get("credentials")
    cred_base = row_base if row.get("credentials") else ctx.base
    if credentials is not None and not isinstance(credentials, str):
        raise ConfigError(f"{where}: credentials must be a reference string (env:VAR or file:PATH)")
    secret = _secret(credentials, f"{where}: credentials", cred_base)  # refuses an inline secret
    raw["name"] = str(row.get("name") or "").strip() or url
    if kind == "rest":
        raw["base_url"] = url
        if contract:
            raw["openapi"] = contract
        if secret is not None:
            raw["token"] = secret.ref
        target: SoapTarget | RestTarget = _rest(0, raw, ctx, where=where)
        return replace(target, token=secret) if secret is not None else target
    raw["endpoint"] = url
    if contract:
        raw["wsdl"] = contract
    if secret is not None:
        raw["password"] = secret.ref
    target = _soap(0, raw, ctx, where=where)
    return replace(target, password=secret) if secret is not None else target


def _split(targets: list[SoapTarget | RestTarget]) -> Found:
    return [t for t in targets if isinstance(t, SoapTarget)], [
        t for t in targets if isinstance(t, RestTarget)
    ]


# ---------------------------------------------------------------- plain lists


def _rows(path: Path, kind: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(line, row)`` of a CSV or JSON Lines file; a malformed line raises."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read inventory {path}: {exc.strerror or exc}") from None
    if kind == "jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{n}: each line must be a JSON object")
            unknown = set(row) - set(FIELDS)
            if unknown:
                raise ConfigError(
                    f"{path}:{n}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (known: {', '.join(FIELDS)})"
                )
            yield n, row
        return
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not header:
            raise ConfigError(f"{path}:1: empty file; the first row names the columns ({', '.join(FIELDS)})")
        unknown = [h for h in header if h not in FIELDS]
        if unknown or not {"url", "kind"} <= set(header):
            raise ConfigError(
                f"{path}:1: the header must name url and kind and only known columns "
                f"({', '.join(FIELDS)}), got {', '.join(header)}"
            )
        reader.fieldnames = header
        for row in reader:
            if None in row:
                raise ConfigError(f"{path}:{reader.line_num}: more cells than header columns")
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}
    except csv.Error as exc:
        raise ConfigError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None


def _from_list(path: Path, kind: str, ctx: _Ctx, entry: Mapping[str, Any]) -> Found:
    targets: list[SoapTarget | RestTarget] = []
    for n, row in _rows(path, kind):
        if len(targets) >= _MAX_ROWS:
            raise ConfigError(f"{path}:{n}: more than {_MAX_ROWS} targets in one list; split the inventory")
        targets.append(_build(row, f"{path}:{n}", ctx, path.resolve().parent, entry))
    if not targets:
        raise ConfigError(f"{path}: the inventory lists no target")
    return _split(targets)


# ---------------------------------------------------------------- an OpenAPI document's servers


def _from_openapi(path: Path, ctx: _Ctx, entry: Mapping[str, Any]) -> list[RestTarget]:
    """One REST target per ``servers`` URL (server variables take their defaults)."""
    from rest.errors import BadInput
    from rest.openapi import load_spec

    try:
        servers = load_spec(path).servers  # validated once; the audit reuses the cached document
    except BadInput as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not servers:
        raise ConfigError(f"{path}: the OpenAPI document declares no servers (nothing to assess)")
    contract = str(path.resolve())
    out = []
    for i, url in enumerate(servers):
        row = {"url": url, "kind": "rest", "contract": contract}
        target = _build(row, f"{path}: servers[{i}]", ctx, path.resolve().parent, entry)
        assert isinstance(target, RestTarget)
        out.append(target)
    return out


# ---------------------------------------------------------------- a folder of WSDLs


def _ports(wsdl: Path) -> list[tuple[str, str, str]]:
    """``(service, port, address)`` of every SOAP port of a WSDL 1.1 file."""
    from wssec.safexml import parse_xml_file

    try:
        root = parse_xml_file(str(wsdl))
    except Exception as exc:  # noqa: BLE001 - any unreadable WSDL is one input error
        raise ConfigError(
            f"{wsdl}: not a readable WSDL ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    w = "{http://schemas.xmlsoap.org/wsdl/}"
    soap_ns = ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")
    out = []
    for svc in root.iter(w + "service"):
        for port in svc.iter(w + "port"):
            for ns in soap_ns:
                el = port.find(f"{{{ns}}}address")
                if el is not None and el.get("location"):
                    out.append((svc.get("name", ""), port.get("name", ""), el.get("location", "")))
                    break
    return out


def _from_wsdl_folder(folder: Path, ctx: _Ctx, entry: Mapping[str, Any]) -> Found:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".wsdl")
    if not files:
        raise ConfigError(f"{folder}: no *.wsdl file in the folder")
    targets: list[SoapTarget | RestTarget] = []
    for wsdl in files:
        ports = _ports(wsdl)
        if not ports:
            raise ConfigError(
                f"{wsdl}: no service port with a soap:address (list it in a [[soap]] table instead)"
            )
        rel = wsdl.relative_to(folder).as_posix()
        for service, port, address in ports:
            row = {
                "url": address,
                "kind": "soap",
                "contract": str(wsdl.resolve()),
                "name": f"{rel}/{service}/{port}",
            }
            targets.append(_build(row, f"{wsdl}: port {service}/{port}", ctx, folder.resolve(), entry))
    return _split(targets)


__all__ = [
    "ENTRY_KEYS",
    "FIELDS",
    "LIST_SUFFIXES",
    "is_inventory",
    "is_openapi",
    "load_entries",
    "load_source",
]
