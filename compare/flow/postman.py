"""``apisec flow export --postman``: a flow as a Postman Collection v2.1.

A folder per operation, a request per step, and a ``pm.test`` per step that
asserts the step's expected outcome the way ``apisec flow run`` judges it,
so newman and ``flow run`` reach the same verdicts step by step.  The base
URL and every credential are collection variables; credentials are
declared *empty* (values come from an environment, e.g. ``newman
--env-var ALICE_TOKEN=…``), so a collection can be shared.  Forged tokens
(alg none, tampered payload, key confusion) are built by a pre-request
script from the identity's token at run time, as ``flow run`` builds them
with :mod:`rest.jwt.forge`.

Fail closed, as in ``flow run``: a step whose credential variable is unset
fails its test instead of passing on the 401 an empty token provokes, and a
refusal passes only after the operation's happy path was accepted in the
same run.

Steps a static collection cannot run honestly are left out and returned
with the reason: the plain-HTTP variation (its pass is "no answer", which
Postman reports as a request error, not a test result) and SOAP steps that
need a fresh signature, Timestamp or nonce per request.  The collection is
validated against the vendored Postman Collection v2.1.0 schema before it
is returned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from compare.flow.model import FlowError

POSTMAN_SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "postman-collection-v2.1.0.json"
BASE_URL_VAR = "baseUrl"
FORGED = "<forged>"
"""Marker in a test's list of needed inputs: the forged token was built."""

_JS_HELPERS = """const cjs = require('crypto-js');
function b64u(words) {
  return cjs.enc.Base64.stringify(words).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_');
}
function json64u(obj) { return b64u(cjs.enc.Utf8.parse(JSON.stringify(obj))); }
function unjson64u(seg) {
  let s = seg.replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) { s += '='; }
  return JSON.parse(cjs.enc.Base64.parse(s).toString(cjs.enc.Utf8));
}"""

_FORGERS = {
    "alg-none": "const h = unjson64u(parts[0]); h.alg = 'none';\nforged = json64u(h) + '.' + parts[1] + '.';",
    "tampered": (
        "const claims = unjson64u(parts[1]); claims.apisec_probe = 'tampered';\n"
        "forged = parts[0] + '.' + json64u(claims) + '.' + parts[2];"
    ),
    "key-confusion": (
        "const pem = pm.variables.get('{key_var}');\n"
        "if (pem) {{\n"
        "  const h = unjson64u(parts[0]); h.alg = 'HS256';\n"
        "  const input = json64u(h) + '.' + parts[1];\n"
        "  forged = input + '.' + b64u(cjs.HmacSHA256(input, pem));\n"
        "}}"
    ),
}


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def validate_collection(collection: Mapping[str, Any]) -> None:
    """Raise :class:`FlowError` when ``collection`` is not a valid v2.1 collection."""
    errors = list(_validator().iter_errors(collection))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise FlowError(f"exported collection is not Postman v2.1 at {where}: {first.message[:200]}")


def _var_name(ref: str, fallback: str) -> str:
    kind, _, name = ref.partition(":")
    if kind == "env":
        return name
    return re.sub(r"[^A-Za-z0-9_]", "_", fallback).upper()


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Exporter:
    def __init__(self, flow: Mapping[str, Any]) -> None:
        self.flow = flow
        self.conn = flow["connection"]
        self.variables: dict[str, dict[str, Any]] = {
            BASE_URL_VAR: {
                "key": BASE_URL_VAR,
                "value": self.conn["base_url"],
                "type": "string",
                "description": "Base URL of the service (not a secret; override with --env-var baseUrl=…).",
            }
        }
        self.left_out: list[tuple[str, str]] = []

    def credential(self, ref: str, fallback: str, what: str) -> str:
        name = _var_name(ref, fallback)
        self.variables.setdefault(
            name,
            {
                "key": name,
                "value": "",
                "type": "string",  # v2.1 knows no 'secret' type: the empty value is what keeps it out
                "description": f"{what} (from {ref} in the flow); set it in an environment, never here.",
            },
        )
        return name

    def identity_vars(self, who: str) -> tuple[str | None, dict[str, str]]:
        ident = self.conn["identities"][who]
        token = (
            self.credential(ident["token"], f"{who}_token", f"bearer token of {who}")
            if "token" in ident
            else None
        )
        headers = {
            h: self.credential(ref, f"{who}_{h}", f"header {h} of {who}")
            for h, ref in (ident.get("headers") or {}).items()
        }
        return token, headers

    def item(self, op_index: int, op: Mapping[str, Any], step: Mapping[str, Any]) -> dict[str, Any] | None:
        if self.flow["kind"] == "soap":
            return self.soap_item(op_index, op, step)
        req = step.get("request") or {}
        if req.get("scheme") == "http":
            self.left_out.append(
                (
                    step["name"],
                    "its pass is 'no answer over plain HTTP', which Postman reports as a request error",
                )
            )
            return None
        happy_var = f"apisec_happy_{op_index}"
        needed: list[str] = []  # variables that must be set, or the test fails
        headers: list[dict[str, str]] = []
        prerequest: list[str] = []
        body = None
        if "json" in req:
            body = {"mode": "raw", "raw": json.dumps(req["json"]), "options": {"raw": {"language": "json"}}}
            headers.append({"key": "Content-Type", "value": "application/json"})
        for k, v in (req.get("headers") or {}).items():
            headers.append({"key": str(k), "value": str(v)})
        who = req.get("identity")
        if who is not None:
            token_var, header_vars = self.identity_vars(who)
            for h, var in header_vars.items():
                headers.append({"key": h, "value": "{{" + var + "}}"})
                needed.append(var)
            kind = req.get("token", "valid")
            if token_var is not None:
                if kind == "valid":
                    headers.append({"key": "Authorization", "value": "Bearer {{" + token_var + "}}"})
                    needed.append(token_var)
                elif kind == "garbage":
                    from compare.flow.rest_steps import GARBAGE_TOKEN

                    headers.append({"key": "Authorization", "value": f"Bearer {GARBAGE_TOKEN}"})
                elif kind == "expired":
                    var = self.credential(self.conn["expired_token"], "expired_token", "an expired token")
                    headers.append({"key": "Authorization", "value": "Bearer {{" + var + "}}"})
                    needed.append(var)
                else:
                    key_var = ""
                    if kind == "key-confusion":
                        key_var = self.credential(
                            self.conn["public_key"], "public_key_pem", "the API's public key (PEM)"
                        )
                        needed.append(key_var)
                    prerequest += [
                        "(function () {",
                        _JS_HELPERS,
                        f"const parts = (pm.variables.get('{token_var}') || '').split('.');",
                        "let forged = '';",
                        "if (parts.length === 3) {",
                        _FORGERS[kind].format(key_var=key_var),
                        "}",
                        "pm.request.headers.upsert({key: 'Authorization', value: 'Bearer ' + forged});",
                        "})();",
                    ]
                    # replaced by the pre-request script; shown so the request reads as what it is
                    headers.append(
                        {"key": "Authorization", "value": f"Bearer <{kind} forgery of {{{{{token_var}}}}}>"}
                    )
                    needed.append(FORGED)
        if step["variation"] == "happy-path":
            prerequest.insert(0, f"pm.collectionVariables.set('{happy_var}', '');")
        path = str(req.get("path", "")).lstrip("/")
        request: dict[str, Any] = {
            "method": req.get("method", "GET"),
            "header": headers,
            "url": "{{" + BASE_URL_VAR + "}}/" + path,
        }
        if body is not None:
            request["body"] = body
        item: dict[str, Any] = {
            "name": step["name"],
            "request": request,
            "event": [],
        }
        if step.get("description"):
            item["description"] = step["description"]
        if prerequest:
            item["event"].append(
                {
                    "listen": "prerequest",
                    "script": {"type": "text/javascript", "exec": "\n".join(prerequest).split("\n")},
                }
            )
        item["event"].append(
            {
                "listen": "test",
                "script": {"type": "text/javascript", "exec": self.test(step, needed, happy_var, op)},
            }
        )
        return item

    def test(
        self, step: Mapping[str, Any], needed: list[str], happy_var: str, op: Mapping[str, Any]
    ) -> list[str]:
        e = step["expect"]
        outcome = e["outcome"]
        lines = [f"pm.test({_js(step['name'] + ': ' + _title(e))}, function () {{"]
        for var in needed:
            if var == FORGED:
                lines.append(
                    "  pm.expect(pm.request.headers.get('Authorization'), 'the forged token was built')"
                    ".to.match(/^Bearer [\\w-]+\\.[\\w-]+\\.[\\w-]*$/);"
                )
            else:
                lines.append(
                    f"  pm.expect(pm.variables.get({_js(var)}), {_js(var + ' is set')}).to.be.a('string').and.not.empty;"
                )
        if outcome == "accepted":
            lines.append("  pm.expect(pm.response.code).to.be.within(200, 299);")
            if step["variation"] == "happy-path":
                lines.append(f"  pm.collectionVariables.set({_js(happy_var)}, 'accepted');")
        elif outcome in ("refused", "soap-fault"):
            lines.append(
                f"  pm.expect(pm.collectionVariables.get({_js(happy_var)}), "
                f"{_js('the happy path of ' + op['name'] + ' was accepted first')}).to.eql('accepted');"
            )
            if outcome == "refused":
                lines.append(
                    f"  pm.expect(pm.response.code).to.be.oneOf({_js(e.get('status') or [401, 403])});"
                )
            else:
                lines.append("  pm.expect(pm.response.text()).to.match(/<(?:[\\w-]+:)?Fault[\\s>]/);")
        elif outcome == "no-cors-grant":
            lines.append(
                "  const acao = (pm.response.headers.get('Access-Control-Allow-Origin') || '').trim();"
            )
            lines.append(f"  pm.expect({_js([e.get('origin', ''), '*', 'null'])}).to.not.include(acao);")
        else:
            raise FlowError(f"step {step['name']!r}: outcome {outcome!r} cannot be exported")
        lines.append("});")
        return lines

    def soap_item(
        self, op_index: int, op: Mapping[str, Any], step: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Only the unsigned variation is static; every other SOAP step needs a
        fresh signature, Timestamp or nonce per request and is left out."""
        if step["variation"] != "soap-unsigned":
            self.left_out.append(
                (
                    step["name"],
                    "needs a fresh WS-Security signature/Timestamp per request (run it with apisec flow run)",
                )
            )
            return None
        from compare.flow.soap_run import _envelope

        version = (self.conn.get("soap") or {}).get("soap_version", "1.1")
        headers = [{"key": "Content-Type", "value": "application/soap+xml; charset=utf-8" if version == "1.2"
                    else "text/xml; charset=utf-8"}]  # fmt: skip
        if version != "1.2":
            headers.append({"key": "SOAPAction", "value": f'"{op.get("soap_action") or ""}"'})
        tests = [
            f"pm.test({_js(step['name'] + ': refused with a SOAP Fault')}, function () {{",
            "  pm.expect(pm.response.text()).to.match(/<(?:[\\w-]+:)?Fault[\\s>]/);",
            "});",
        ]
        note = (
            "The request without any WS-Security header (no signature, no encryption): the service must "
            "answer a SOAP Fault. The signed happy path and the other variations need a fresh signature "
            "per request and are run by 'apisec flow run'; a refusal here proves most after that run "
            "showed the secured request is accepted."
        )
        return {
            "name": step["name"],
            "description": note,
            "request": {"method": "POST", "header": headers, "url": "{{" + BASE_URL_VAR + "}}",
                        "body": {"mode": "raw", "raw": _envelope(op, step), "options": {"raw": {"language": "xml"}}}},
            "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}],
        }  # fmt: skip


def _title(expect: Mapping[str, Any]) -> str:
    outcome = expect["outcome"]
    if outcome == "refused":
        return "refused (" + "/".join(str(s) for s in expect.get("status") or [401, 403]) + ")"
    return {
        "accepted": "accepted (2xx)",
        "no-cors-grant": f"no CORS grant for {expect.get('origin', '')}",
        "soap-fault": "refused with a SOAP Fault",
    }.get(outcome, outcome)


def export_postman(flow: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The flow as a Postman Collection v2.1 and the steps left out (name, reason)."""
    ex = _Exporter(flow)
    folders = []
    for i, op in enumerate(flow["operations"]):
        items = [it for step in op["steps"] if (it := ex.item(i, op, step)) is not None]
        if items:
            folders.append({"name": op["name"], "item": items})
    description = (
        f"Generated by apisec flow export from the {flow['kind'].upper()} flow {flow['name']!r}"
        + (f" ({flow['source']})" if flow.get("source") else "")
        + ". Credentials are collection variables without values: set them in an environment "
        "(newman --env-var NAME=value). Each request's test asserts the outcome the step expects."
    )
    if ex.left_out:
        description += " Left out (cannot be honest in a static collection): " + "; ".join(
            f"{n}: {why}" for n, why in ex.left_out
        )
    collection = {
        "info": {
            "name": f"apisec flow: {flow['name']}",
            "description": description,
            "schema": POSTMAN_SCHEMA_URL,
        },
        "item": folders,
        "variable": list(ex.variables.values()),
    }
    validate_collection(collection)
    return collection, ex.left_out
