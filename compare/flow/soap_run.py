"""SOAP flow steps: build each message with :mod:`wssec`, send, judge.

The happy path is the step's envelope secured as the operation's
``security`` block says (a :class:`wssec.Signer` and, when the policy
encrypts the Body, a :class:`wssec.Encryptor`).  The variations reuse the
message surgery of the live probes in :mod:`wssec.checks.live` (fresh
copy, Body tampering, signature wrapping, the untrusted self-signed
signer, reply judging), so a flow step and ``apisec soap check --url``
mean the same thing by "wrapped Body" or "accepted".

A step passes only when the service refuses with a SOAP Fault; an
accepted message fails; a refusal that is not a SOAP Fault is a ``warn``
(refused, but outside the SOAP contract).  As on the REST side, when the
happy path is not accepted, refusals prove nothing and are ``error``.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

from compare.findings import Finding, Status, finding, redact
from compare.flow import ids
from compare.flow.model import FlowError, Secrets

_SIGNED_VARIATIONS = {
    "happy-path", "soap-body-changed", "soap-replayed", "soap-expired-timestamp", "soap-wrapped-body",
    "soap-untrusted-signer",
}  # fmt: skip


class _Builder:
    """Secures one operation's envelope per variation."""

    def __init__(self, connection: Mapping[str, Any], op: Mapping[str, Any], secrets: Secrets) -> None:
        from wssec import Signer
        from wssec.keys import load_certificates, load_private_key

        soap = connection.get("soap") or {}
        if not soap:
            raise FlowError("a SOAP flow needs connection.soap (key and cert references)")
        self.security = dict(op.get("security") or {})
        self.key = load_private_key(secrets.path(soap["key"]).read_bytes())
        self.certs = load_certificates(secrets.path(soap["cert"]).read_bytes())
        self.ut: dict[str, Any] = {}
        if soap.get("username") and soap.get("password"):
            self.ut = {
                "username": soap["username"],
                "password": secrets.get(soap["password"], what="password"),
            }
        self.sign_parts = tuple(self.security.get("sign") or ("Body", "Timestamp"))
        if self.ut and "UsernameToken" not in self.sign_parts:
            self.sign_parts += ("UsernameToken",)
        self.signer_kw = {
            "sign": self.sign_parts,
            "timestamp": int(self.security.get("timestamp") or 300),
            "signature_algorithm": self.security.get("signature_algorithm", "rsa-sha256"),
            "digest_algorithm": self.security.get("digest_algorithm", "sha256"),
            "key_identifier": self.security.get("key_identifier", "bst"),
            **self.ut,
        }
        self.signer = Signer(self.key, self.certs, **self.signer_kw)
        self.encryptor = None
        enc = self.security.get("encrypt")
        if enc:
            from cryptography import x509

            from wssec.encryption import Encryptor

            if soap.get("service_cert"):
                target = load_certificates(secrets.path(soap["service_cert"]).read_bytes())[0]
            elif enc.get("service_cert_der_b64"):
                target = x509.load_der_x509_certificate(base64.b64decode(enc["service_cert_der_b64"]))
            else:
                raise FlowError("the policy encrypts the Body: give connection.soap.service_cert")
            kw = {k: v for k, v in enc.items() if k in ("cipher", "key_transport")}
            self.encryptor = Encryptor(target, encrypt=("Body",), **kw)

    def message(self, envelope: str, variation: str) -> list[bytes]:
        """The message(s) the variation sends (replay: the same bytes twice;
        wrapping: one message per wrapping variant)."""
        from lxml import etree

        from wssec import Signer
        from wssec.checks import live
        from wssec.errors import MalformedMessage
        from wssec.safexml import parse_xml
        from wssec.soap import envelope_parts

        sample = parse_xml(envelope.encode("utf-8"), what="the step's envelope")

        def build(*, sign: bool = True, now: Any = None, mutate: Any = None, signer: Any = None,
                  after: Any = None) -> bytes:  # fmt: skip
            root = live._fresh(sample)
            if sign:
                (signer or self.signer).sign_tree(root, now=now)
            if mutate is not None:
                mutate(root)
            data = etree.tostring(root)
            if self.encryptor is not None:
                data = self.encryptor.encrypt(data)
            if after is not None:
                root = parse_xml(data, what="message")
                after(root)
                data = etree.tostring(root)
            return data

        if variation == "happy-path":
            return [build()]
        if variation == "soap-unsigned":
            return [build(sign=False)]
        if variation == "soap-body-changed":

            def tamper(root: Any) -> None:
                _v, _h, body = envelope_parts(root)
                leaf = live._first_text_leaf(body)
                if leaf is not None:
                    leaf.text = live.EVIL_SYMBOL
                else:
                    body.append(etree.Element(f"{{{live.PROBE_NS}}}Tampered"))

            return [build(mutate=tamper)]
        if variation == "soap-replayed":
            data = build()
            return [data, data]
        if variation == "soap-expired-timestamp":
            return [build(now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))]
        if variation == "soap-wrapped-body":
            out = []
            for v in live.XSW_VARIANTS:
                try:
                    out.append(build(mutate=lambda root, v=v: live._wrap(root, v)))
                except MalformedMessage:  # the encryptor refuses duplicate ids: wrap after encryption
                    out.append(build(after=lambda root, v=v: live._wrap(root, v)))
            return out
        if variation == "soap-untrusted-signer":
            key, cert = live._self_signed()
            rogue = Signer(key, cert, **self.signer_kw)
            return [build(signer=rogue)]
        raise FlowError(f"variation {variation!r} is not a SOAP variation")


def _judge(step: Mapping[str, Any], outcomes: list[Any]) -> tuple[str, str]:
    described = "; ".join(o.describe() for o in outcomes)
    if step["expect"]["outcome"] == "accepted":
        ok = all(o.accepted for o in outcomes)
        return ("pass" if ok else "error"), described
    if step["variation"] == "soap-replayed":
        first, second = outcomes
        if not first.accepted:
            return "error", f"the first copy was refused ({first.describe()}); cannot test replay"
        outcomes = [second]
        described = f"replayed copy: {second.describe()}"
    if any(o.accepted for o in outcomes):
        return "fail", f"accepted: {described}"
    if all(o.soap_fault for o in outcomes):
        return "pass", f"refused with a SOAP Fault: {described}"
    return "warn", f"refused, but not with a SOAP Fault: {described}"


def run_soap(
    flow: Mapping[str, Any],
    connection: Mapping[str, Any],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    secrets: Secrets,
    *,
    ca: Any,
    timeout: float,
) -> list[Finding]:
    """Send the selected SOAP steps; one finding per step."""
    import requests

    from wssec.checks.fetch import post_soap
    from wssec.checks.live import judge
    from wssec.errors import WssecError

    url = connection["base_url"]
    version = (connection.get("soap") or {}).get("soap_version", "1.1")
    session = requests.Session()
    session.trust_env = False
    builders: dict[str, _Builder] = {}
    happy: dict[str, str] = {}
    out: list[Finding] = []
    try:
        for op, step in pairs:
            started = time.perf_counter()
            variation = step["variation"]
            raw: list[dict[str, Any]] = []
            try:
                if op["name"] not in builders:
                    builders[op["name"]] = _Builder(connection, op, secrets)
                envelope = _envelope(op, step)
                outcomes = []
                for data in builders[op["name"]].message(envelope, variation):
                    reply = post_soap(url, data, soap_version=version, soap_action=op.get("soap_action"),
                                      timeout=timeout, verify=str(ca) if ca else True, session=session)  # fmt: skip
                    outcomes.append(judge(reply))
                    raw.append({
                        "request": redact(data[:4096].decode("utf-8", "replace")),
                        "status": reply.status,
                        "response": redact(reply.body[:4096].decode("utf-8", "replace")),
                    })  # fmt: skip
                status, evidence = _judge(step, outcomes)
            except requests.RequestException as exc:
                status, evidence = "error", f"the request could not be completed: {type(exc).__name__}"
            except (FlowError, WssecError, OSError, ValueError) as exc:
                status, evidence = "error", f"step could not run: {exc}"
            if variation == "happy-path":
                happy[op["name"]] = status
            elif status == "pass" and happy.get(op["name"], "pass") != "pass":
                status = "error"
                evidence += (
                    " — but the operation's happy path was not accepted, so this refusal proves nothing"
                )
            out.append(
                finding(
                    ids.check_id(variation, "soap"),
                    Status(status),
                    f"POST {url} [{step['name']}]",
                    evidence,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    raw=raw,
                )  # fmt: skip
            )
    finally:
        session.close()
    return out


def _envelope(op: Mapping[str, Any], step: Mapping[str, Any]) -> str:
    """The step's envelope, else the operation's happy-path envelope."""
    body = (step.get("request") or {}).get("body")
    if body:
        return str(body)
    for s in op["steps"]:
        if s["variation"] == "happy-path" and (s.get("request") or {}).get("body"):
            return str(s["request"]["body"])
    raise FlowError(f"step {step['name']!r}: no envelope (the operation has no happy-path body)")


def preview_soap(
    flow: Mapping[str, Any],
    connection: Mapping[str, Any],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    secrets: Secrets,
) -> list[str]:
    """The envelopes as they would leave (signed/encrypted now; nothing sent)."""
    from wssec.errors import WssecError

    out: list[str] = []
    version = (connection.get("soap") or {}).get("soap_version", "1.1")
    ctype = "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"
    for op, step in pairs:
        out.append(f"\n### {step['name']}  [{step['variation']}]  expect: "
                   + ("accepted (2xx, no Fault)" if step["expect"]["outcome"] == "accepted" else "refused with a SOAP Fault"))  # fmt: skip
        try:
            messages = _Builder(connection, op, secrets).message(_envelope(op, step), step["variation"])
        except (FlowError, WssecError, OSError, ValueError) as exc:
            out.append(f"# cannot build this step now: {exc}")
            continue
        for i, data in enumerate(messages):
            if len(messages) > 1:
                out.append(f"# message {i + 1} of {len(messages)}")
            head = f"POST {connection['base_url']} HTTP/1.1\nContent-Type: {ctype}\n"
            if version != "1.2":
                head += f'SOAPAction: "{op.get("soap_action") or ""}"\n'
            out.append(head + "\n" + redact(data.decode("utf-8", "replace")))
    return out
