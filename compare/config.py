"""The targets file: what to assess, with which material, against which bar.

``apisec.toml`` (read with :mod:`tomllib`) or the same structure in YAML::

    [settings]
    concurrency = 4          # checks run at once
    per_host = 0             # at most this many checks at once on one host:port (0: no cap)
    per_host_rate = 0        # at most this many requests/second to one host:port (0: no cap)
    timeout = 120            # seconds one check may take before it is an error
    fail_on = "high"         # CI threshold (the --fail-on default)
    # [thresholds] min_score = 70   # also fail when a side's overall score is below
    profile = "default"      # which [profiles.NAME] applies to targets without one

    [profiles.strict]
    tls_profile = "mozilla-modern"
    rate_limit_probe = 100

    [[soap]]
    name = "orders"
    group = "prod"           # SOAP and REST targets of one group share a matrix
    wsdl = "orders.wsdl"     # path (relative to this file) or URL
    endpoint = "https://soap.example.test/orders"
    sample_request = "order-request.xml"
    signing_key = "client.key"
    signing_cert = "client.pem"
    trust = "ca.pem"

    [[rest]]
    name = "orders-api"
    group = "prod"
    base_url = "https://api.example.test"
    openapi = "openapi.yaml"
    oauth_issuer = "https://auth.example.test"
    client_id = "apisec"
    client_secret = "env:ORDERS_CLIENT_SECRET"
    token = "file:~/.config/orders.token"
    roles = "roles.yaml"

    [[tls]]
    host = "soap.example.test"
    port = 443
    side = "soap"

    [[inventory]]            # more targets from a list, OpenAPI servers or WSDL folder
    path = "inventory.csv"   # (see compare.inventory)

``${VAR}`` and ``${VAR:-default}`` in any string value are read from the
environment when the file is loaded (an unset variable without a default
is an error).

Secrets (tokens, client secrets, header values) are accepted only *by
reference* — ``env:VAR`` or ``file:PATH`` — so the targets file can be
committed and no report ever contains the secret itself: reports print the
reference, never the value.  An inline secret is refused with exit 2.
"""

from __future__ import annotations

import json
import os
import re
import threading
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compare.findings import FAIL_ON_CHOICES, Side


class ConfigError(ValueError):
    """The targets file (or a --soap/--rest value) is unusable: exit 2."""

    exit_code = 2


# ---------------------------------------------------------------- secrets

_RESOLVED: set[str] = set()
_RESOLVED_LOCK = threading.Lock()


def resolved_secrets() -> list[str]:
    """Every secret value resolved in this process, longest first: the engine
    scrubs these exact strings from evidence and raw exchanges, so even an
    opaque token a check echoes (which no pattern recognises) never reaches
    a report."""
    with _RESOLVED_LOCK:
        return sorted(_RESOLVED, key=len, reverse=True)


def _remember(value: str) -> str:
    if len(value) >= 6:  # shorter values would redact ordinary words
        with _RESOLVED_LOCK:
            _RESOLVED.add(value)
    return value


@dataclass(frozen=True)
class SecretRef:
    """A secret named by reference; its value is read only when a check runs.

    ``str()`` and ``repr()`` show the reference (``env:API_TOKEN``), never the
    value, so a SecretRef can travel into reports and logs safely.
    """

    ref: str
    """``env:VAR`` or ``file:PATH`` (``~`` expanded, relative to the targets file)."""
    base: Path = Path(".")
    """Folder ``file:`` paths are relative to."""

    def __post_init__(self) -> None:
        kind, _, rest = self.ref.partition(":")
        if kind not in ("env", "file") or not rest:
            raise ConfigError("a secret must be a reference 'env:VAR' or 'file:PATH' (value not shown)")

    def resolve(self) -> str:
        """The secret's value; a missing variable or file is a :class:`ConfigError`."""
        kind, _, rest = self.ref.partition(":")
        if kind == "env":
            value = os.environ.get(rest)
            if value is None:
                raise ConfigError(f"environment variable {rest} (from {self.ref}) is not set")
            return _remember(value)
        path = Path(rest).expanduser()
        if not path.is_absolute():
            path = self.base / path
        try:
            return _remember(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"cannot read secret {self.ref}: {exc.strerror or exc}") from None

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        return f"SecretRef({self.ref!r})"


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Profile:
    """How hard to probe; a target names one, or gets the default."""

    name: str = "default"
    tls_profile: str = "mozilla-intermediate"
    """Mozilla server-side TLS profile the TLS checks grade against."""
    rate_limit_probe: int = 50
    """How many quick requests the rate-limit probe may send (0: skip it)."""
    live: bool = True
    """False: only static checks (WSDL, OpenAPI, sample messages) and no probes;
    a WSDL or OpenAPI given as a URL is still downloaded."""


@dataclass(frozen=True)
class Settings:
    """Run-wide knobs."""

    concurrency: int = 4
    """Checks running at once (TLS scans of one host never overlap)."""
    per_host: int = 0
    """At most this many checks at once against one host:port (0: no cap
    beyond ``concurrency``): politeness toward a host that many targets share."""
    per_host_rate: float = 0.0
    """At most this many HTTP requests per second to one host:port, shared by
    every target on it (0: no rate of apisec's own; 429/503 Retry-After and
    RateLimit headers are honoured either way)."""
    timeout: float = 120.0
    """Seconds a single check may take before it is recorded as an error."""
    fail_on: str = "high"
    """Default --fail-on threshold."""
    min_score: int | None = None
    """Default --min-score: the gate also trips when a side's overall matrix
    score in any group is below this (0–100)."""
    show_raw: bool = False
    """Keep each probe's redacted raw request/response in the reports."""
    ca_file: Path | None = None
    """CA bundle used for every live target that does not name its own."""


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class SoapTarget:
    """A SOAP service: its contract, its endpoint and the material to talk to it."""

    name: str
    group: str = "default"
    wsdl: str | None = None
    """Path or URL of the WSDL (its WS-Policy is audited statically)."""
    endpoint: str | None = None
    """Service URL for live probes (defaults to the WSDL's soap:address)."""
    sample_request: Path | None = None
    """A SOAP request body the live probe signs and replays, also audited statically."""
    signing_key: Path | None = None
    signing_cert: Path | None = None
    trust: Path | None = None
    """CA certificate(s) the live probe trusts for the service (default: ca_file)."""
    ca_file: Path | None = None
    """CA bundle for the HTTPS connection."""
    encrypt_cert: Path | None = None
    """The service's encryption certificate for the live probe (default: the
    WSDL's endpoint identity when its policy requires an encrypted Body)."""
    soap_action: str | None = None
    """SOAPAction the live probe sends."""
    username: str | None = None
    """UsernameToken user the live probe adds (with ``password``)."""
    password: SecretRef | None = None
    """UsernameToken password, by reference (``env:VAR`` / ``file:PATH``)."""
    profile: Profile = Profile()

    side = Side.SOAP

    @property
    def location(self) -> str:
        return self.endpoint or self.wsdl or self.name


@dataclass(frozen=True)
class RestTarget:
    """A REST API: base URL, contract, identity provider and credentials."""

    name: str
    group: str = "default"
    base_url: str | None = None
    openapi: str | None = None
    """Path or URL of the OpenAPI document."""
    oauth_issuer: str | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None
    token: SecretRef | None = None
    """Bearer token the JWT and HTTP checks present."""
    public_key: Path | None = None
    """Key that verifies the API's tokens (enables the JWT forgery probes)."""
    probe_path: str | None = None
    """Protected path the token probes call (default: the base URL)."""
    roles: Path | None = None
    """Roles matrix (YAML) for the BOLA/BFLA probes; its tokens are ``${VAR}``
    placeholders read from the environment, never inline."""
    headers: Mapping[str, SecretRef] = field(default_factory=dict)
    """Extra credential headers (e.g. an API key), by reference."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Values for the roles file's ``${VAR}`` placeholders on top of the
    environment (programmatic use only, e.g. the demo's minted tokens; never
    read from a targets file)."""
    ca_file: Path | None = None
    profile: Profile = Profile()

    side = Side.REST

    @property
    def location(self) -> str:
        return self.base_url or self.openapi or self.name


@dataclass(frozen=True)
class TlsTarget:
    """A TLS endpoint graded on its own (protocols, ciphers, certificate)."""

    name: str
    host: str
    port: int = 443
    group: str = "default"
    hostname: str | None = None
    side: Side = Side.REST
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    profile: Profile = Profile()

    @property
    def location(self) -> str:
        return f"{self.host}:{self.port}"


Target = SoapTarget | RestTarget | TlsTarget


@dataclass(frozen=True)
class Targets:
    """Everything one assessment covers."""

    soap: tuple[SoapTarget, ...] = ()
    rest: tuple[RestTarget, ...] = ()
    tls: tuple[TlsTarget, ...] = ()
    settings: Settings = Settings()
    source: str | None = None
    """The targets file these came from (SARIF anchors results to it)."""

    def all(self) -> list[Target]:
        return [*self.soap, *self.rest, *self.tls]

    def __bool__(self) -> bool:
        return bool(self.soap or self.rest or self.tls)

    def merged(self, other: Targets) -> Targets:
        """These targets plus ``other``'s (command-line targets add to the file's)."""
        return replace(
            self,
            soap=self.soap + other.soap,
            rest=self.rest + other.rest,
            tls=self.tls + other.tls,
        )


# ---------------------------------------------------------------- loading

_SECRET_KEYS = {"token", "client_secret"}
_TOP_KEYS = {"settings", "profiles", "thresholds", "soap", "rest", "tls", "inventory"}


def load_targets(path: str | Path) -> Targets:
    """Read ``apisec.toml`` (or ``.yaml``/``.yml``/``.json``) into :class:`Targets`.

    Relative paths in the file are relative to the file's folder, so a
    targets file and its material can move together.  ``path`` may also be
    an inventory (:mod:`compare.inventory`): a ``.csv``/``.jsonl`` list, an
    OpenAPI document (one target per server) or a folder of WSDLs.
    """
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in (".csv", ".jsonl", ".ndjson"):
        from compare.inventory import load_source

        if not p.exists():
            raise ConfigError(f"inventory not found: {p}")
        base = (p if p.is_dir() else p.resolve().parent).resolve()
        soap, rest = load_source(p, _Ctx(base, {"default": Profile()}, Profile(), None))
        return _checked(Targets(soap=tuple(soap), rest=tuple(rest), source=str(p.resolve())))
    try:
        text = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"targets file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read targets file {p}: {exc.strerror or exc}") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{p}: not valid JSON: {exc}") from None
    elif p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"{p}: not valid YAML{where}") from None
    else:
        try:
            data = tomllib.loads(text.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a table/mapping")
    if "openapi" in data or "swagger" in data:  # an OpenAPI document: one REST target per server
        from compare.inventory import load_source

        base = p.resolve().parent
        _, rest = load_source(p, _Ctx(base, {"default": Profile()}, Profile(), None))
        return _checked(Targets(rest=tuple(rest), source=str(p.resolve())))
    return targets_from_mapping(data, base=p.resolve().parent, source=str(p.resolve()))


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_vars(value: Any, where: str = "") -> Any:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in every string of a parsed
    targets file (tables and lists walked), from the environment.

    Why: one committed file can point at different places without editing
    it — ``samples/apisec.toml`` names the example hosts by default and the
    live services of ``apisec demo --serve`` once its ``serve.env`` is
    sourced.  A variable that is unset and has no default is a ConfigError
    (exit 2), never an empty string.  Secrets still go through ``env:VAR`` /
    ``file:PATH`` references: an expanded value that is not one is refused
    like any inline secret.
    """
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            got = os.environ.get(m.group(1))
            if got is None or (got == "" and m.group(2) is not None):
                if m.group(2) is None:
                    raise ConfigError(
                        f"{where or 'targets file'}: environment variable {m.group(1)} is not set"
                    )
                return m.group(2)
            return got

        return _VAR.sub(sub, value)
    if isinstance(value, Mapping):
        return {k: expand_vars(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_vars(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def targets_from_mapping(data: Mapping[str, Any], *, base: Path, source: str | None = None) -> Targets:
    """Build :class:`Targets` from the parsed file (shared by TOML and YAML);
    ``${VAR}`` / ``${VAR:-default}`` in its strings are expanded first
    (:func:`expand_vars`)."""
    data = expand_vars(data)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(sorted(map(str, unknown)))} (known: {', '.join(sorted(_TOP_KEYS))})"
        )
    settings_raw = _table(data, "settings")
    thresholds = _table(data, "thresholds")
    profiles = {"default": Profile()}
    for pname, praw in _table(data, "profiles").items():
        profiles[pname] = _profile(pname, _as_table(praw, f"profiles.{pname}"))
    default_profile = profiles.get(str(settings_raw.get("profile", "default")))
    if default_profile is None:
        raise ConfigError(f"settings.profile names unknown profile {settings_raw.get('profile')!r}")
    fail_on = str(thresholds.get("fail_on", settings_raw.get("fail_on", "high")))
    if fail_on not in FAIL_ON_CHOICES:
        raise ConfigError(f"fail_on must be one of {', '.join(FAIL_ON_CHOICES)}, got {fail_on!r}")
    settings = Settings(
        concurrency=_int(settings_raw.get("concurrency", 4), "settings.concurrency", 1, 64),
        per_host=_int(settings_raw.get("per_host", 0), "settings.per_host", 0, 64),
        per_host_rate=_rate(settings_raw.get("per_host_rate", 0), "settings.per_host_rate"),
        timeout=float(_int(settings_raw.get("timeout", 120), "settings.timeout", 1, 3600)),
        fail_on=fail_on,
        min_score=_int(thresholds["min_score"], "thresholds.min_score", 0, 100)
        if thresholds.get("min_score") is not None
        else None,
        show_raw=bool(settings_raw.get("show_raw", False)),
        ca_file=_path(settings_raw.get("ca_file"), base),
    )
    ctx = _Ctx(base, profiles, default_profile, settings.ca_file)
    soap = tuple(_soap(i, _as_table(t, f"soap[{i}]"), ctx) for i, t in enumerate(_list(data, "soap")))
    rest = tuple(_rest(i, _as_table(t, f"rest[{i}]"), ctx) for i, t in enumerate(_list(data, "rest")))
    tls = tuple(_tls(i, _as_table(t, f"tls[{i}]"), ctx) for i, t in enumerate(_list(data, "tls")))
    if data.get("inventory"):
        from compare.inventory import load_entries

        more_soap, more_rest = load_entries(_list(data, "inventory"), ctx)
        soap, rest = soap + tuple(more_soap), rest + tuple(more_rest)
    return _checked(Targets(soap=soap, rest=rest, tls=tls, settings=settings, source=source))


def _checked(targets: Targets) -> Targets:
    """``targets`` if their names are unique (reports, fingerprints and shards key on them)."""
    names = [t.name for t in targets.all()]
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)
    if dupes:
        shown = ", ".join(dupes[:5]) + (f" and {len(dupes) - 5} more" if len(dupes) > 5 else "")
        raise ConfigError(f"target names must be unique: {shown}")
    return targets


@dataclass(frozen=True)
class _Ctx:
    base: Path
    profiles: Mapping[str, Profile]
    default_profile: Profile
    ca_file: Path | None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return _as_table(data.get(key) or {}, key)


def _as_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table/mapping")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list of tables ([[{key}]])")
    return value


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if not lo <= n <= hi:
        raise ConfigError(f"{where} must be between {lo} and {hi}, got {n}")
    return n


MAX_RATE = 10_000.0
"""Upper bound of a per-host request rate (requests/second)."""


def _rate(value: Any, where: str) -> float:
    """A request rate: a finite number from 0 (no cap) to :data:`MAX_RATE`."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if not 0 <= r <= MAX_RATE:  # NaN fails this too
        raise ConfigError(f"{where} must be between 0 and {MAX_RATE:g} requests/second, got {value!r}")
    return r


def _path(value: Any, base: Path) -> Path | None:
    if value in (None, ""):
        return None
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base / p


def _split(s: str, where: str) -> Any:
    """``urlsplit`` that refuses what it cannot split (``https://a[b/``:
    "Invalid IPv6 URL", found by fuzzing the targets file) as a ConfigError."""
    try:
        return urlsplit(s)
    except ValueError as exc:
        raise ConfigError(f"{where} is not a valid URL ({exc}): {s!r}") from None


def _doc(value: Any, base: Path) -> str | None:
    """A document location: URL kept as is, file path made absolute."""
    if value in (None, ""):
        return None
    s = str(value)
    if _split(s, "document location").scheme in ("http", "https"):
        return s
    return str(_path(s, base))


def _url(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    s = str(value)
    parts = _split(s, where)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} must be an http(s) URL, got {s!r}")
    return s


def _secret(value: Any, where: str, base: Path) -> SecretRef | None:
    if value in (None, ""):
        return None
    s = str(value)
    if not s.startswith(("env:", "file:")):
        raise ConfigError(
            f"{where} must be a reference (env:VAR or file:PATH), not an inline secret; "
            "inline secrets end up in version control and reports"
        )
    return SecretRef(s, base)


def _check_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")


def _profile(name: str, raw: Mapping[str, Any]) -> Profile:
    _check_keys(raw, {"tls_profile", "rate_limit_probe", "live"}, f"profiles.{name}")
    return Profile(
        name=name,
        tls_profile=str(raw.get("tls_profile", "mozilla-intermediate")),
        rate_limit_probe=_int(raw.get("rate_limit_probe", 50), f"profiles.{name}.rate_limit_probe", 0, 10000),
        live=bool(raw.get("live", True)),
    )


def _pick_profile(raw: Mapping[str, Any], ctx: _Ctx, where: str) -> Profile:
    name = raw.get("profile")
    if name is None:
        return ctx.default_profile
    try:
        return ctx.profiles[str(name)]
    except KeyError:
        raise ConfigError(f"{where}: unknown profile {name!r}") from None


_SOAP_KEYS = {
    "name", "group", "wsdl", "endpoint", "sample_request", "signing_key", "signing_cert",
    "trust", "ca_file", "profile", "encrypt_cert", "soap_action", "username", "password",
}  # fmt: skip
_REST_KEYS = {
    "name", "group", "base_url", "openapi", "oauth_issuer", "client_id", "client_secret", "token",
    "public_key", "probe_path", "roles", "headers", "ca_file", "profile",
}  # fmt: skip
_TLS_KEYS = {
    "name", "group", "host", "port", "hostname", "side", "ca_file", "client_cert", "client_key", "profile",
}  # fmt: skip


def _soap(i: int, raw: Mapping[str, Any], ctx: _Ctx, where: str | None = None) -> SoapTarget:
    where = where or f"soap[{i}]"
    _check_keys(raw, _SOAP_KEYS, where)
    if not (raw.get("wsdl") or raw.get("endpoint") or raw.get("sample_request")):
        raise ConfigError(f"{where}: needs at least one of wsdl, endpoint, sample_request")
    key, cert = _path(raw.get("signing_key"), ctx.base), _path(raw.get("signing_cert"), ctx.base)
    if (key is None) != (cert is None):
        raise ConfigError(f"{where}: signing_key and signing_cert go together")
    endpoint = _url(raw.get("endpoint"), f"{where}.endpoint")
    wsdl = _doc(raw.get("wsdl"), ctx.base)
    username = str(raw["username"]) if raw.get("username") is not None else None
    password = _secret(raw.get("password"), f"{where}.password", ctx.base)
    if (username is None) != (password is None):
        raise ConfigError(f"{where}: username and password go together")
    return SoapTarget(
        name=str(raw.get("name") or f"soap-{i + 1}"),
        group=str(raw.get("group", "default")),
        wsdl=wsdl,
        endpoint=endpoint,
        sample_request=_path(raw.get("sample_request"), ctx.base),
        signing_key=key,
        signing_cert=cert,
        trust=_path(raw.get("trust"), ctx.base),
        ca_file=_path(raw.get("ca_file"), ctx.base) or ctx.ca_file,
        encrypt_cert=_path(raw.get("encrypt_cert"), ctx.base),
        soap_action=str(raw["soap_action"]) if raw.get("soap_action") is not None else None,
        username=username,
        password=password,
        profile=_pick_profile(raw, ctx, where),
    )


def _rest(i: int, raw: Mapping[str, Any], ctx: _Ctx, where: str | None = None) -> RestTarget:
    where = where or f"rest[{i}]"
    _check_keys(raw, _REST_KEYS, where)
    if not (raw.get("base_url") or raw.get("openapi") or raw.get("oauth_issuer")):
        raise ConfigError(f"{where}: needs at least one of base_url, openapi, oauth_issuer")
    headers_raw = _as_table(raw.get("headers") or {}, f"{where}.headers")
    headers = {str(k): _secret(v, f"{where}.headers.{k}", ctx.base) for k, v in headers_raw.items()}
    return RestTarget(
        name=str(raw.get("name") or f"rest-{i + 1}"),
        group=str(raw.get("group", "default")),
        base_url=_url(raw.get("base_url"), f"{where}.base_url"),
        openapi=_doc(raw.get("openapi"), ctx.base),
        oauth_issuer=_url(raw.get("oauth_issuer"), f"{where}.oauth_issuer"),
        client_id=str(raw["client_id"]) if raw.get("client_id") else None,
        client_secret=_secret(raw.get("client_secret"), f"{where}.client_secret", ctx.base),
        token=_secret(raw.get("token"), f"{where}.token", ctx.base),
        public_key=_path(raw.get("public_key"), ctx.base),
        probe_path=str(raw["probe_path"]) if raw.get("probe_path") else None,
        roles=_path(raw.get("roles"), ctx.base),
        headers={k: v for k, v in headers.items() if v is not None},
        ca_file=_path(raw.get("ca_file"), ctx.base) or ctx.ca_file,
        profile=_pick_profile(raw, ctx, where),
    )


def _tls(i: int, raw: Mapping[str, Any], ctx: _Ctx) -> TlsTarget:
    where = f"tls[{i}]"
    _check_keys(raw, _TLS_KEYS, where)
    host = raw.get("host")
    if not host:
        raise ConfigError(f"{where}: host is required")
    side = str(raw.get("side", "rest"))
    if side not in ("soap", "rest"):
        raise ConfigError(f"{where}.side must be 'soap' or 'rest'")
    port = _int(raw.get("port", 443), f"{where}.port", 1, 65535)
    return TlsTarget(
        name=str(raw.get("name") or f"{host}:{port}"),
        host=str(host),
        port=port,
        group=str(raw.get("group", "default")),
        hostname=str(raw["hostname"]) if raw.get("hostname") else None,
        side=Side(side),
        ca_file=_path(raw.get("ca_file"), ctx.base) or ctx.ca_file,
        client_cert=_path(raw.get("client_cert"), ctx.base),
        client_key=_path(raw.get("client_key"), ctx.base),
        profile=_pick_profile(raw, ctx, where),
    )


# ---------------------------------------------------------------- command-line targets


def targets_from_cli(soap: list[str], rest: list[str], tls: list[str] | None = None) -> Targets:
    """``--soap URL/WSDL``, ``--rest URL``, ``--tls HOST:PORT`` as ad-hoc targets.

    A ``--soap`` value that is a file, ends in ``.wsdl`` or carries ``?wsdl``
    is a WSDL (the endpoint is then taken from its soap:address by the
    checks); any other URL is an endpoint.
    """
    soap_targets: list[SoapTarget] = []
    for i, value in enumerate(soap):
        is_url = _split(value, "--soap").scheme in ("http", "https")
        if not is_url and not Path(value).is_file():
            raise ConfigError(f"--soap {value!r} is neither an http(s) URL nor an existing WSDL file")
        is_wsdl = (
            (not is_url) or value.lower().endswith(".wsdl") or "wsdl" in _split(value, "--soap").query.lower()
        )
        name = f"soap-{i + 1}"
        if is_wsdl:
            soap_targets.append(SoapTarget(name=name, wsdl=value if is_url else str(Path(value).resolve())))
        else:
            soap_targets.append(SoapTarget(name=name, endpoint=value))
    rest_targets: list[RestTarget] = []
    for i, value in enumerate(rest):
        parts = _split(value, "--rest")
        if parts.scheme in ("http", "https") and parts.hostname:
            rest_targets.append(RestTarget(name=f"rest-{i + 1}", base_url=value))
        elif Path(value).is_file():
            rest_targets.append(RestTarget(name=f"rest-{i + 1}", openapi=str(Path(value).resolve())))
        else:
            raise ConfigError(f"--rest {value!r} is neither an http(s) URL nor an existing OpenAPI file")
    tls_targets: list[TlsTarget] = []
    for value in tls or []:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"--tls {value!r} must be HOST:PORT")
        tls_targets.append(TlsTarget(name=value, host=host.strip("[]"), port=int(port)))
    return Targets(soap=tuple(soap_targets), rest=tuple(rest_targets), tls=tuple(tls_targets))


__all__ = [
    "ConfigError",
    "Profile",
    "RestTarget",
    "SecretRef",
    "Settings",
    "SoapTarget",
    "Target",
    "Targets",
    "TlsTarget",
    "load_targets",
    "targets_from_cli",
    "targets_from_mapping",
]
