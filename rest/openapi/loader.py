"""Load an OpenAPI 3.0/3.1 document safely, validate it with
openapi-spec-validator, and expose the parts the security audit and the live
per-operation probes need.

Why not ``yaml.safe_load`` + dict walking:

* the contract is validated against the official OpenAPI JSON Schemas first
  (openapi-spec-validator), so the audit never reasons about a document the
  spec itself rejects;
* ``$ref`` is resolved by jsonschema-path/referencing, the resolver the
  validator itself uses, so a scheme or path item behind a ``$ref`` is seen
  exactly as tools see it;
* resolution is **confined**: no network (a ``$ref`` to
  ``http://169.254.169.254/…`` is refused, not fetched) and local files only
  inside the spec's own folder;
* YAML is read by :mod:`rest.safeyaml` (safe loader, libyaml's C parser
  when present, a cap on aliases: a "billion laughs" document is refused
  before anything walks it).
"""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import yaml

from rest import safeyaml
from rest.errors import BadInput

if TYPE_CHECKING:  # imported lazily: the validator costs ~0.3 s and every apisec command imports this module
    from jsonschema_path import SchemaPath

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
STATE_CHANGING = frozenset({"post", "put", "patch", "delete"})
MAX_SPEC_BYTES = 32 * 1024 * 1024


def parse_document(data: bytes, *, name: str = "spec") -> Any:
    """JSON or YAML bytes → Python data (JSON first: it is stricter and faster)."""
    if len(data) > MAX_SPEC_BYTES:
        raise BadInput(f"{name} is larger than {MAX_SPEC_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig", "strict") if data else ""
    except UnicodeDecodeError as exc:
        raise BadInput(f"{name} is not UTF-8 text (byte {exc.start})") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        data = safeyaml.load(text)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise BadInput(f"{name} is not valid YAML: {reason}") from None
    try:  # to the JSON data model: unquoted `200:` response keys become "200"
        return json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{name} holds YAML values JSON cannot represent: {exc}") from None


class _ConfinedFileHandler:
    """``file://`` resolver for relative ``$ref``s that stays inside one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def __call__(self, uri: str) -> Any:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise BadInput(f"$ref {uri!r} is not a local file; apisec never fetches remote references")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root):
            raise BadInput(f"$ref {uri!r} points outside the spec's folder")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"$ref {uri!r} cannot be read: {exc.strerror or exc}") from None
        return parse_document(data, name=path.name)  # already JSON data


@dataclass(frozen=True)
class SecurityScheme:
    """One entry of ``components.securitySchemes`` (``$ref`` resolved)."""

    name: str
    type: str
    scheme: str = ""
    """For ``type: http``: ``basic``, ``bearer``, … (lower-cased)."""
    location: str = ""
    """For ``type: apiKey``: ``header``, ``query`` or ``cookie``."""
    param_name: str = ""
    """For ``type: apiKey``: the header/query/cookie name."""
    flows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """For ``type: oauth2``: flow name → flow object."""
    openid_url: str = ""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    example: Any = None
    schema_type: str = ""
    schema_format: str = ""


@dataclass(frozen=True)
class Operation:
    """One operation with its *effective* security (operation-level, else global)."""

    method: str
    path: str
    pointer: str
    """JSON pointer of the operation in the document (for finding targets)."""
    operation_id: str
    security: tuple[Mapping[str, tuple[str, ...]], ...] | None
    """Effective requirements; ``None`` when neither the operation nor the
    document declares any."""
    security_declared_on_operation: bool
    parameters: tuple[Parameter, ...]
    servers: tuple[str, ...]
    responses: tuple[str, ...]

    @property
    def state_changing(self) -> bool:
        return self.method in STATE_CHANGING

    @property
    def public(self) -> bool:
        """No credentials needed: no requirement, ``[]``, or an empty ``{}`` alternative."""
        return not self.security or any(len(req) == 0 for req in self.security)


@dataclass(frozen=True)
class OpenAPIDocument:
    """A validated OpenAPI 3.x document, reduced to what security checks need."""

    source: str
    version: str
    servers: tuple[str, ...]
    security: tuple[Mapping[str, tuple[str, ...]], ...] | None
    schemes: Mapping[str, SecurityScheme]
    operations: tuple[Operation, ...]
    data: Mapping[str, Any]


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


_ABSENT = object()


class _DataPath:
    """The part of ``SchemaPath``'s interface :func:`_index` uses, walking the
    parsed data itself until a node holds a ``$ref``: from that node on, the
    real ``SchemaPath`` takes over (jsonschema-path resolves it, confined to
    the spec's folder, exactly as before).  Walking every operation of a
    500-operation contract through ``SchemaPath`` cost a third of the load
    (each step re-resolves its path from the root); most contracts hold few
    ``$ref``s on the way to what the index reads."""

    __slots__ = ("_value", "_root", "_parts")

    def __init__(self, value: Any, root: SchemaPath, parts: tuple[Any, ...] = ()) -> None:
        self._value = value
        self._root = root
        self._parts = parts

    def __truediv__(self, key: Any) -> Any:
        value, parts = self._value, (*self._parts, key)
        child: Any = _ABSENT
        if isinstance(value, dict):
            child = value.get(key, _ABSENT)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            child = value[key]
        if isinstance(child, dict) and "$ref" in child:
            sp = self._root
            for part in parts:
                sp = sp / part
            return sp
        return _DataPath(child, self._root, parts)

    def exists(self) -> bool:
        return self._value is not _ABSENT

    def read_value(self) -> Any:
        if self._value is _ABSENT:
            raise KeyError(self._parts[-1] if self._parts else "")
        return self._value

    def keys(self) -> Any:
        value = self._value
        if isinstance(value, dict):
            return value.keys()
        return range(len(value)) if isinstance(value, list) else ()

    def __iter__(self) -> Any:
        return (self / key for key in self.keys())


def _read(sp: SchemaPath, default: Any = None) -> Any:
    try:
        return sp.read_value() if sp.exists() else default
    except (KeyError, TypeError):
        return default


def _str(sp: SchemaPath, key: str) -> str:
    value = _read(sp / key, "")
    return value if isinstance(value, str) else ""


def _requirements(sp: SchemaPath) -> tuple[Mapping[str, tuple[str, ...]], ...]:
    out = []
    for req in sp:
        entry: dict[str, tuple[str, ...]] = {}
        for name in req.keys():
            scopes = _read(req / name, [])
            entry[str(name)] = tuple(str(s) for s in scopes) if isinstance(scopes, list) else ()
        out.append(entry)
    return tuple(out)


def _servers(sp: SchemaPath) -> tuple[str, ...]:
    if not sp.exists():
        return ()
    urls = []
    for server in sp:
        url = _str(server, "url")
        variables = server / "variables"
        if variables.exists():
            for var in variables.keys():
                default = _read(variables / var / "default", "")
                url = url.replace("{" + str(var) + "}", str(default))
        urls.append(url)
    return tuple(urls)


def _parameter(p: SchemaPath) -> Parameter:
    schema = p / "schema"
    example = _read(p / "example")
    stype = sformat = ""
    if schema.exists():
        stype = _str(schema, "type")
        sformat = _str(schema, "format")
        for key in ("example", "default"):
            if example is None:
                example = _read(schema / key)
        if example is None:
            enum = _read(schema / "enum")
            if isinstance(enum, list) and enum:
                example = enum[0]
            examples = _read(schema / "examples")
            if example is None and isinstance(examples, list) and examples:
                example = examples[0]
    if example is None and (p / "examples").exists():
        for ex in (p / "examples").keys():
            example = _read(p / "examples" / ex / "value")
            break
    return Parameter(
        name=_str(p, "name"),
        location=_str(p, "in"),
        required=bool(_read(p / "required", False)),
        example=example,
        schema_type=stype,
        schema_format=sformat,
    )


def _validator_for(data: Mapping[str, Any]) -> type:
    """openapi-spec-validator's validator class for the document's version.

    It checks the document against the official OpenAPI JSON Schema, then
    runs its own checks (``$ref`` targets, unique operationIds, declared path
    parameters, schema defaults, ...).  The JSON Schema pass runs on the
    library's ``jsonschema-rs`` backend, which it selects by itself when that
    package is installed (an apisec dependency): the pure-Python backend took
    1.3 s of a 500-operation contract's 1.9 s load, most of it re-crawling the
    schema registry for every ``$dynamicRef``, for the same verdicts
    (``tests/rest/test_openapi_validation.py`` runs both backends on valid
    and invalid contracts).  ``OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND``
    still chooses, as the library documents.
    """
    from openapi_spec_validator import (
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
        OpenAPIV32SpecValidator,
    )

    version = data.get("openapi")
    if not isinstance(version, str):
        if "swagger" in data:
            raise BadInput("Swagger 2.0 documents are not supported; convert to OpenAPI 3.0/3.1 first")
        raise BadInput("not an OpenAPI document: no 'openapi' version field")
    if version.startswith("3.0."):
        return OpenAPIV30SpecValidator
    if version.startswith("3.1."):
        return OpenAPIV31SpecValidator
    if version.startswith("3.2."):
        return OpenAPIV32SpecValidator
    raise BadInput(f"unsupported OpenAPI version {version!r} (3.0.x, 3.1.x or 3.2.x)")


_CACHE: dict[tuple[str, int, int, int], bytes] = {}
"""Pickled documents (made here, from validated data; never read from outside)."""
_CACHE_LOCK = threading.Lock()
_LOADING: dict[tuple[str, int, int, int], threading.Lock] = {}
_CACHE_MAX = 64


def _cache_key(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return None


def load_spec(spec: str | Path | Mapping[str, Any]) -> OpenAPIDocument:
    """Read, validate and index an OpenAPI document.

    ``spec`` is a file path (JSON or YAML) or an already parsed mapping.
    Any problem (unreadable, not OpenAPI 3, schema-invalid, unresolvable or
    remote ``$ref``) raises :class:`rest.errors.BadInput` with one line.

    A file is loaded and validated once per (path, mtime, size, inode): an
    inventory whose targets share one contract file (or the OpenAPI audit
    and the HTTP checks of one target) reuses the validated document.  Each
    caller gets its own copy (unpickled from the cache: ~4 ms for a
    500-operation contract, against ~1 s to load it), so a caller that
    changes its ``data`` cannot corrupt what the next caller reads.  A
    changed file is read again (a change to a file it only ``$ref``s is not
    noticed until the document itself changes); failures are not cached.
    """
    if isinstance(spec, Mapping):
        return _load_spec(spec)
    key = _cache_key(Path(spec))
    if key is None:
        return _load_spec(spec)
    with _CACHE_LOCK:
        blob = _CACHE.get(key)
        if blob is None:
            loading = _LOADING.setdefault(key, threading.Lock())
    if blob is not None:
        return pickle.loads(blob)  # noqa: S301 - bytes this module pickled itself
    with loading:  # concurrent callers of one file wait for the first load instead of repeating it
        with _CACHE_LOCK:
            blob = _CACHE.get(key)
        if blob is not None:
            return pickle.loads(blob)  # noqa: S301 - bytes this module pickled itself
        try:
            doc = _load_spec(spec)
            blob = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            with _CACHE_LOCK:
                if len(_CACHE) >= _CACHE_MAX:
                    _CACHE.clear()
                _CACHE[key] = blob
        finally:
            with _CACHE_LOCK:
                _LOADING.pop(key, None)
        return doc  # the first caller's own: the cache holds only the pickled copy


def _load_spec(spec: str | Path | Mapping[str, Any]) -> OpenAPIDocument:
    if isinstance(spec, Mapping):
        data: Any = json.loads(json.dumps(spec))
        info = data.get("info") if isinstance(data, dict) else None
        source = str(info.get("title", "spec")) if isinstance(info, dict) else "spec"
        root = Path.cwd()
        base_uri = ""
    else:
        path = Path(spec)
        if not path.is_file():
            raise BadInput(f"OpenAPI spec not found: {path}")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read OpenAPI spec {path}: {exc.strerror or exc}") from None
        data = parse_document(raw, name=f"OpenAPI spec {path.name}")
        source = str(path)
        root = path.resolve().parent
        base_uri = path.resolve().as_uri()
    if not isinstance(data, dict):
        raise BadInput("OpenAPI spec must be a mapping at the top level")
    validator_cls = _validator_for(data)
    from jsonschema_path import SchemaPath

    handlers = {"file": _ConfinedFileHandler(root)}
    try:
        sp = SchemaPath.from_dict(data, base_uri=base_uri, handlers=handlers)
        errors = list(validator_cls(sp).iter_errors())
    except BadInput:
        raise
    except Exception as exc:  # referencing.Unresolvable and friends
        raise _ref_error(exc) from None
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in getattr(first, "path", ())) or "(root)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        reason = _one_line(str(first.message).split("\n\n")[0])  # the Rust backend appends the instance
        raise BadInput(f"invalid OpenAPI {data['openapi']} document at {where}: {reason}{more}")
    try:
        return _index(_DataPath(data, sp), data, source)
    except BadInput:
        raise
    except Exception as exc:
        raise _ref_error(exc) from None


def _ref_error(exc: BaseException) -> BadInput:
    """The one-line reason of a failed ``$ref`` resolution (ours if we refused it)."""
    inner: BaseException | None = exc
    for _ in range(8):
        if inner is None:
            break
        if isinstance(inner, BadInput):
            return inner
        inner = inner.__cause__ or inner.__context__
    if isinstance(exc, KeyError):  # openapi-spec-validator read a required field that is not there
        return BadInput(f"invalid OpenAPI document: field {_one_line(exc)} is missing or of the wrong type")
    ref = getattr(exc, "ref", None)
    return BadInput(f"OpenAPI spec has an unresolvable $ref: {ref or _one_line(exc)}")


def _one_line(exc: Any) -> str:
    return " ".join(str(exc).split())[:240]


def _index(sp: SchemaPath, data: Mapping[str, Any], source: str) -> OpenAPIDocument:
    global_security = _requirements(sp / "security") if (sp / "security").exists() else None
    global_servers = _servers(sp / "servers")
    schemes: dict[str, SecurityScheme] = {}
    schemes_sp = sp / "components" / "securitySchemes"
    if schemes_sp.exists():
        for name in schemes_sp.keys():
            s = schemes_sp / name
            flows: dict[str, Mapping[str, Any]] = {}
            if (s / "flows").exists():
                for flow in (s / "flows").keys():
                    value = _read(s / "flows" / flow, {})
                    flows[str(flow)] = value if isinstance(value, dict) else {}
            schemes[str(name)] = SecurityScheme(
                name=str(name),
                type=_str(s, "type"),
                scheme=_str(s, "scheme").lower(),
                location=_str(s, "in"),
                param_name=_str(s, "name"),
                flows=flows,
                openid_url=_str(s, "openIdConnectUrl"),
            )
    operations: list[Operation] = []
    paths = sp / "paths"
    if paths.exists():
        for path in paths.keys():
            item = paths / path
            path_params = (
                [_parameter(p) for p in item / "parameters"] if (item / "parameters").exists() else []
            )
            path_servers = _servers(item / "servers")
            for method in HTTP_METHODS:
                op = item / method
                if not op.exists():
                    continue
                params = {(p.name, p.location): p for p in path_params}
                if (op / "parameters").exists():
                    for p in op / "parameters":
                        prm = _parameter(p)
                        params[(prm.name, prm.location)] = prm
                declared = (op / "security").exists()
                security = _requirements(op / "security") if declared else global_security
                responses = (
                    tuple(str(k) for k in (op / "responses").keys()) if (op / "responses").exists() else ()
                )
                operations.append(
                    Operation(
                        method=method,
                        path=str(path),
                        pointer=_pointer("paths", str(path), method),
                        operation_id=_str(op, "operationId"),
                        security=security,
                        security_declared_on_operation=declared,
                        parameters=tuple(params.values()),
                        servers=_servers(op / "servers") or path_servers or global_servers,
                        responses=responses,
                    )
                )
    return OpenAPIDocument(
        source=source,
        version=str(data.get("openapi")),
        servers=global_servers,
        security=global_security,
        schemes=schemes,
        operations=tuple(operations),
        data=data,
    )
