"""Raw request/response exchanges (``--show-raw``) as people read them.

The same transcript style as ``apisec rest check --show-raw`` on a terminal:
``> POST url`` and request headers, a blank line and the body; ``< 200``,
response headers and body.  XML and JSON bodies are pretty-printed (XML
through apisec's hardened parser; a body it refuses stays as it is) and the
whole text passes :func:`compare.findings.redact` once more, so a secret the
engine's scrub missed still never reaches a report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from compare.findings import redact

MAX_BODY = 6000
"""Characters of one pretty-printed body kept in a report."""


def pretty_body(body: Any) -> str:
    """A body as readable text: indented JSON or XML, else as received."""
    if body is None or body == "":
        return ""
    if not isinstance(body, str):
        return json.dumps(body, indent=2, ensure_ascii=False)
    text = body.strip()
    if text[:1] in "{[":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return body
    if text.startswith("<"):
        try:
            from lxml import etree

            from wssec.safexml import parse_xml

            root = parse_xml(text.encode("utf-8"))
            etree.indent(root, space="  ")  # re-indent: recorded bodies often carry their own whitespace
            return etree.tostring(root, encoding="unicode")
        except Exception:  # noqa: BLE001 - a body the hardened parser refuses is shown verbatim
            return body
    return body


def _cut(text: str) -> str:
    return (
        text if len(text) <= MAX_BODY else text[:MAX_BODY] + f"\n… ({len(text) - MAX_BODY} more characters)"
    )


def _side(mark: str, first: str, headers: Mapping[str, Any] | None, body: Any) -> list[str]:
    """One side of an exchange (``>`` request, ``<`` response): the first
    line, the headers, then the pretty body after an empty marker line."""
    lines = [f"{mark} {first}", *(f"{mark} {k}: {v}" for k, v in (headers or {}).items())]
    text = pretty_body(body)
    if text:
        lines += [mark, *(f"{mark} {line}" for line in _cut(text).splitlines())]
    return lines


def exchange_text(ex: Mapping[str, Any], target: str = "") -> str:
    """One exchange as a ``>``/``<`` transcript.

    Two shapes are recorded: the HTTP probes' ``{"request": {method, url,
    headers, body}, "response": {status, headers, body}}`` and the SOAP
    probes' ``{"request": xml, "status": n, "response": xml}`` (POSTed to
    ``target``)."""
    lines: list[str] = []
    if ex.get("note"):
        lines.append(f"# {ex['note']}")
    req, resp = ex.get("request"), ex.get("response")
    if isinstance(req, Mapping):
        lines += _side(
            ">", f"{req.get('method', '?')} {req.get('url', target)}", req.get("headers"), req.get("body")
        )
    else:
        lines += _side(">", f"POST {target}", None, req)
    if isinstance(resp, Mapping):
        lines += _side("<", f"{resp.get('status', '?')}", resp.get("headers"), resp.get("body"))
    else:
        lines += _side("<", f"{ex.get('status', '?')}", None, resp)
    return redact("\n".join(lines))


__all__ = ["MAX_BODY", "exchange_text", "pretty_body"]
