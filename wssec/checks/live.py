"""Live probes of a SOAP service (``apisec soap check --url``).

Each probe sends a request the service must refuse and reports ``fail``
when it is *accepted* — an HTTP 2xx answer without a SOAP Fault — and
``pass`` when it is refused.  Before any probe, a baseline request (the
sample, with a signed Timestamp and a signed Body, encrypted to the
service when its policy asks) must be accepted: otherwise every "refused"
would be meaningless, and :class:`BaselineRefused` (exit 2) says so.

Probes (one check id each):

* ``wssec.unsigned-accepted`` — no signature at all;
* ``wssec.untrusted-accepted`` — signed by a fresh self-signed certificate;
* ``wssec.tampered-accepted`` — Body changed after signing;
* ``wssec.xsw-accepted`` — signature wrapping: the signed Body moved into a
  wrapper (SOAP header, Security header, nested in the new Body, same id),
  an evil Body in its place;
* ``wssec.replay-accepted`` — the same signed request twice;
* ``wssec.expired-accepted`` — validly signed, Timestamp expired an hour ago;
* ``wssec.dtd-accepted`` — a valid request with an internal-entity DOCTYPE;
* ``wssec.fault-leak`` — faults for malformed requests show stack traces,
  file paths or library versions;
* ``wssec.plain-http`` — the service answers SOAP over plain HTTP;
* ``wssec.audit-events`` — refusals are SOAP Faults carrying a correlation
  id (the client-visible half of audit logging).

A probe that cannot run (connection reset, timeout) becomes an ``error``
finding, never a crash of the whole scan.  Requests are bounded: about
fifteen per run, each with a timeout.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from compare.findings import Finding, Status, finding, redact
from wssec.checks import registry as _registry  # noqa: F401  (registers the ids)
from wssec.checks.fetch import HttpReply, fetch, post_soap
from wssec.errors import MalformedMessage, WssecError
from wssec.keys import load_certificates, load_private_key
from wssec.safexml import parse_xml
from wssec.soap import SOAP_NAMESPACES, WSSE_NS, WSU_NS, envelope_parts

PROBE_NS = "urn:apisec:probe"
EVIL_SYMBOL = "EVIL"


class BaselineRefused(WssecError):
    """The properly signed baseline request was not accepted: probing would
    prove nothing (exit 2)."""

    exit_code = 2


# ------------------------------------------------------------------ replies


@dataclass(frozen=True)
class Outcome:
    """What the service did with one probe request."""

    status: int
    accepted: bool
    fault_code: str | None
    fault_reason: str | None
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False, default_factory=dict)
    soap_fault: bool = False

    def describe(self) -> str:
        if self.accepted:
            return f"HTTP {self.status}, no SOAP Fault (accepted)"
        if self.soap_fault:
            reason = (self.fault_reason or "")[:160]
            return f"HTTP {self.status}, SOAP Fault {self.fault_code or '?'}: {reason}"
        return f"HTTP {self.status}, not a SOAP response"


def judge(reply: HttpReply) -> Outcome:
    """Classify a reply: accepted means 2xx and no SOAP Fault in the Body."""
    code = reason = None
    is_fault = False
    try:
        root = parse_xml(reply.body, what="SOAP response") if reply.body.strip() else None
    except MalformedMessage:
        root = None
    if root is not None:
        try:
            _v, _h, body = envelope_parts(root)
            fault = next(
                (c for c in body if isinstance(c.tag, str) and etree.QName(c).localname == "Fault"), None
            )
        except MalformedMessage:
            fault = None
        if fault is not None:
            is_fault = True
            code = (
                fault.findtext("faultcode")
                or " ".join(
                    v.text or ""
                    for v in fault.iter()
                    if isinstance(v.tag, str) and etree.QName(v).localname == "Value"
                ).strip()
                or None
            )
            reason = fault.findtext("faultstring") or next(
                (
                    t.text
                    for t in fault.iter()
                    if isinstance(t.tag, str) and etree.QName(t).localname == "Text"
                ),
                None,
            )
    elif re.search(rb"<(?:\w+:)?Fault[\s>]", reply.body[:65536]):
        is_fault = True
    accepted = 200 <= reply.status < 300 and not is_fault
    return Outcome(reply.status, accepted, code, reason, reply.body, reply.headers, is_fault)


# ------------------------------------------------------------------ message building


def _fresh(sample: etree._Element) -> etree._Element:
    """A copy of the sample without any Security header of its own."""
    root = copy.deepcopy(sample)
    _v, header, _b = envelope_parts(root)
    if header is not None:
        for sec in header.findall(f"{{{WSSE_NS}}}Security"):
            header.remove(sec)
    return root


def _first_text_leaf(body: etree._Element) -> etree._Element | None:
    for el in body.iter():
        if isinstance(el.tag, str) and len(el) == 0 and (el.text or "").strip() and el is not body:
            return el
    return None


def _evil_payload(body: etree._Element) -> list[etree._Element]:
    """The Body's payload with its first text value replaced by ``EVIL``."""
    kids = [copy.deepcopy(c) for c in body if isinstance(c.tag, str)]
    holder = etree.Element("x")
    for k in kids:
        holder.append(k)
    leaf = _first_text_leaf(holder)
    if leaf is not None:
        leaf.text = EVIL_SYMBOL
    else:
        holder.append(etree.Element(f"{{{PROBE_NS}}}Evil"))
    return list(holder)


def _header(root: etree._Element) -> etree._Element:
    version, header, body = envelope_parts(root)
    if header is None:
        header = etree.Element(f"{{{SOAP_NAMESPACES[version]}}}Header")
        root.insert(list(root).index(body), header)
    return header


def _wrap(root: etree._Element, variant: str) -> None:
    """Signature wrapping: move the signed Body away and put an evil one in place."""
    version, _h, body = envelope_parts(root)
    env = SOAP_NAMESPACES[version]
    body_id = body.get(f"{{{WSU_NS}}}Id") or body.get("Id")
    evil = etree.Element(f"{{{env}}}Body")
    for el in _evil_payload(body):
        evil.append(el)
    header = _header(root)
    root.remove(body)
    wrapper = etree.Element(f"{{{PROBE_NS}}}Wrapper", nsmap={"probe": PROBE_NS})
    wrapper.append(body)
    if variant == "header-wrapper":
        header.append(wrapper)
    elif variant == "security-wrapper":
        sec = header.find(f"{{{WSSE_NS}}}Security")
        (sec if sec is not None else header).append(wrapper)
    elif variant == "same-id":
        # the original first in document order, the evil Body with its id
        header.insert(0, wrapper)
        if body_id:
            evil.set(f"{{{WSU_NS}}}Id", body_id)
    elif variant == "nested-in-body":
        evil.append(wrapper)
    else:  # pragma: no cover - programming error
        raise ValueError(variant)
    root.append(evil)  # the evil Body is the Envelope's Body now


XSW_VARIANTS = ("header-wrapper", "security-wrapper", "same-id", "nested-in-body")


def _self_signed() -> tuple[Any, x509.Certificate]:
    """A throw-away signer nobody trusts (for the untrusted probe)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apisec untrusted probe")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


# ------------------------------------------------------------------ the prober


class _Prober:
    def __init__(
        self,
        url: str,
        sample: bytes,
        key: Any,
        cert: Any,
        trust: Any,
        record_raw: bool,
        encrypt_cert: Any,
        soap_action: str | None,
        timeout: float,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        from wssec import Signer

        self.url = url
        self.target = url
        self.record_raw = record_raw
        self.timeout = timeout
        self.sample = parse_xml(sample, what="sample request")
        self.version, _h, _b = envelope_parts(self.sample)
        self.key = load_private_key(key)
        self.certs = load_certificates(cert)
        self._tmp: list[str] = []
        self.verify = self._verify_option(trust)
        self.session = requests.Session()
        self.soap_action = soap_action
        self.encryptor = None
        self.discovered: list[str] = []
        self._discover(encrypt_cert)
        # A UsernameToken (PasswordDigest, signed) when the service also wants one.
        self.ut: dict[str, Any] = (
            {"username": credentials[0], "password": credentials[1]} if credentials else {}
        )
        self.parts: tuple[str, ...] = (
            ("Body", "Timestamp", "UsernameToken") if credentials else ("Body", "Timestamp")
        )
        self.signer = Signer(self.key, self.certs, sign=self.parts, timestamp=300, **self.ut)
        self.raw: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        self.session.close()
        for p in self._tmp:
            try:
                os.unlink(p)
            except OSError:
                pass

    def _verify_option(self, trust: Any) -> bool | str:
        if trust is None:
            return True
        if isinstance(trust, (str, os.PathLike)):
            return os.fspath(trust)
        certs = load_certificates(trust if isinstance(trust, (list, tuple)) else [trust])
        fd, path = tempfile.mkstemp(prefix="apisec-trust-", suffix=".pem")
        with os.fdopen(fd, "wb") as fh:
            for c in certs:
                fh.write(c.public_bytes(serialization.Encoding.PEM))
        self._tmp.append(path)
        return path

    def _discover(self, encrypt_cert: Any) -> None:
        """Read the service's WSDL (``?wsdl``) for the SOAPAction and, when its
        policy wants the Body encrypted, the certificate to encrypt to."""
        wp = None
        try:
            from wssec.policy import parse_wsdl_policy

            wsdl = fetch(
                self.url + ("&" if "?" in self.url else "?") + "wsdl",
                verify=self.verify,
                timeout=self.timeout,
                what="WSDL",
            )
            wp = parse_wsdl_policy(wsdl)
        except (WssecError, ValueError, KeyError):
            wp = None
        policy = wp.policy_for() if wp is not None and wp.operations else None
        if self.soap_action is None and wp is not None and wp.operations:
            self.soap_action = wp.operations[0].soap_action
        target = None
        if encrypt_cert is not None:
            target = load_certificates(encrypt_cert)[0]
        elif (
            policy is not None
            and policy.message_security
            and policy.body_encrypted
            and wp
            and wp.service_certificates
        ):
            target = x509.load_der_x509_certificate(wp.service_certificates[0])
            self.discovered.append("service certificate from the WSDL's endpoint identity")
        if target is not None:
            from wssec.encryption import Encryptor

            self.encryptor = Encryptor(target, encrypt=("Body",))

    # -- building

    def signed(
        self,
        *,
        now: dt.datetime | None = None,
        mutate: Callable[[etree._Element], None] | None = None,
        signer: Any = None,
        encrypt: bool = True,
        sign: bool = True,
        after_encryption: Callable[[etree._Element], None] | None = None,
        prepare: Callable[[etree._Element], None] | None = None,
    ) -> bytes:
        """The sample, changed by ``prepare``, signed (``sign``), changed by
        ``mutate``, encrypted to the service when it wants that, then changed
        by ``after_encryption``."""
        root = _fresh(self.sample)
        if prepare is not None:
            prepare(root)
        if sign:
            (signer or self.signer).sign_tree(root, now=now)
        if mutate is not None:
            mutate(root)
        data = etree.tostring(root)
        if encrypt and self.encryptor is not None:
            data = self.encryptor.encrypt(data)
        if after_encryption is not None:
            root = parse_xml(data, what="probe")
            after_encryption(root)
            data = etree.tostring(root)
        return data

    # -- sending

    def send(self, check_id: str, data: bytes, url: str | None = None) -> Outcome:
        reply = post_soap(
            url or self.url,
            data,
            soap_version=self.version,
            soap_action=self.soap_action,
            timeout=self.timeout,
            verify=self.verify,
            session=self.session,
        )
        out = judge(reply)
        if self.record_raw:
            self.raw.setdefault(check_id, []).append(
                {
                    "request": redact(data[:4096].decode("utf-8", "replace")),
                    "status": reply.status,
                    "response": redact(reply.body[:4096].decode("utf-8", "replace")),
                }
            )
        return out

    def result(self, check_id: str, status: Status, evidence: str, started: float) -> Finding:
        return finding(
            check_id,
            status,
            self.target,
            evidence,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            raw=self.raw.pop(check_id, []),
        )


# ------------------------------------------------------------------ probes


def _refusal(prober: _Prober, check_id: str, data: bytes, started: float, what: str) -> Finding:
    out = prober.send(check_id, data)
    if out.accepted:
        return prober.result(check_id, Status.FAIL, f"{what} was accepted: {out.describe()}", started)
    return prober.result(check_id, Status.PASS, f"{what} was refused: {out.describe()}", started)


def probe_untrusted(p: _Prober) -> Finding:
    from wssec import Signer

    t = time.perf_counter()
    key, cert = _self_signed()
    rogue = Signer(key, cert, sign=p.parts, timestamp=300, **p.ut)
    data = p.signed(signer=rogue)
    return _refusal(
        p, "wssec.untrusted-accepted", data, t, "a request signed by an untrusted self-signed certificate"
    )


def probe_tampered(p: _Prober) -> Finding:
    t = time.perf_counter()

    def tamper(root: etree._Element) -> None:
        _v, _h, body = envelope_parts(root)
        leaf = _first_text_leaf(body)
        if leaf is not None:
            leaf.text = EVIL_SYMBOL
        else:
            body.append(etree.Element(f"{{{PROBE_NS}}}Tampered"))

    return _refusal(
        p, "wssec.tampered-accepted", p.signed(mutate=tamper), t, "a request whose Body changed after signing"
    )


def probe_xsw(p: _Prober) -> Finding:
    t = time.perf_counter()
    accepted: list[str] = []
    refused: list[str] = []
    for variant in XSW_VARIANTS:
        try:
            data = p.signed(mutate=lambda root, v=variant: _wrap(root, v))
        except MalformedMessage:
            # our encryptor refuses duplicate ids: wrap the encrypted message instead
            data = p.signed(after_encryption=lambda root, v=variant: _wrap(root, v))
        out = p.send("wssec.xsw-accepted", data)
        (accepted if out.accepted else refused).append(f"{variant} ({out.describe()})")
    if accepted:
        return p.result(
            "wssec.xsw-accepted",
            Status.FAIL,
            f"{len(accepted)} of {len(XSW_VARIANTS)} wrapping variants accepted: " + "; ".join(accepted),
            t,
        )
    return p.result(
        "wssec.xsw-accepted", Status.PASS, f"all {len(XSW_VARIANTS)} wrapping variants refused", t
    )


def probe_replay(p: _Prober) -> Finding:
    t = time.perf_counter()
    data = p.signed()
    first = p.send("wssec.replay-accepted", data)
    if not first.accepted:
        return p.result(
            "wssec.replay-accepted",
            Status.ERROR,
            f"the first copy of a fresh signed request was refused ({first.describe()}); cannot test replay",
            t,
        )
    second = p.send("wssec.replay-accepted", data)
    if second.accepted:
        return p.result(
            "wssec.replay-accepted",
            Status.FAIL,
            f"the same signed request was accepted twice: {second.describe()}",
            t,
        )
    return p.result(
        "wssec.replay-accepted", Status.PASS, f"the replayed copy was refused: {second.describe()}", t
    )


def probe_expired(p: _Prober) -> Finding:
    t = time.perf_counter()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    data = p.signed(now=past)
    return _refusal(
        p,
        "wssec.expired-accepted",
        data,
        t,
        "a validly signed request whose Timestamp expired 55 minutes ago",
    )


def probe_dtd(p: _Prober) -> Finding:
    """A valid request plus an unsigned header that uses an internal entity:
    a service that processes DTDs accepts it, a hardened one refuses the
    DOCTYPE outright."""
    t = time.perf_counter()

    def add_probe_header(root: etree._Element) -> None:
        el = etree.SubElement(_header(root), f"{{{PROBE_NS}}}Probe", nsmap={"probe": PROBE_NS})
        el.text = "APISEC_ENTITY_MARKER"

    data = p.signed(mutate=add_probe_header)
    root_name = etree.QName(parse_xml(data, what="probe")).localname
    doctype = f'<!DOCTYPE {root_name} [<!ENTITY apisecprobe "apisec-dtd-probe">]>'.encode()
    data = data.replace(b"APISEC_ENTITY_MARKER", b"&apisecprobe;", 1)
    if data.startswith(b"<?xml"):
        end = data.index(b"?>") + 2
        data = data[:end] + doctype + data[end:]
    else:
        data = doctype + data
    return _refusal(p, "wssec.dtd-accepted", data, t, "a request with an internal-entity DOCTYPE")


_LEAK_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("Python traceback", re.compile(rb"Traceback \(most recent call last\)")),
    ("Python stack frame", re.compile(rb'File &quot;[^&]+&quot;, line \d+|File "[^"]+", line \d+')),
    ("Java stack trace", re.compile(rb"\bat (?:java|javax|org|com|sun)\.[\w.$]+\([\w]+\.java:\d+\)")),
    (".NET stack trace", re.compile(rb"\bat [\w.]+\(.*?\) in [A-Za-z]:\\")),
    (
        "file path",
        re.compile(
            rb"(?:/usr/(?:lib|local)/|/site-packages/|/home/\w+/|/opt/\w+/|[A-Za-z]:\\\\?(?:Users|inetpub|Program Files))"
        ),
    ),
    (
        "library version",
        re.compile(
            rb"(?i)\b(?:lxml|libxml2|xmlsec|werkzeug|cpython|python|zeep|spyne|axis2?|cxf|jboss|tomcat|wss4j)[ /-]v?\d+\.\d+"
        ),
    ),
    (
        "exception class",
        re.compile(
            rb"\b(?:[a-z_]+\.)+[A-Z]\w*(?:Error|Exception)\b|\b(?:XMLSyntaxError|AttributeError|KeyError|TypeError|NullPointerException)\b"
        ),
    ),
)
_VERSION_HEADER = re.compile(r"\d+\.\d+")


def _leaks(out: Outcome) -> list[str]:
    return [name for name, pat in _LEAK_PATTERNS if pat.search(out.body[:262144])]


def probe_fault_leak(p: _Prober) -> Finding:
    t = time.perf_counter()
    env = SOAP_NAMESPACES[p.version]
    malformed = [
        ("truncated XML", f'<soap:Envelope xmlns:soap="{env}"><soap:Body><unclosed>'.encode()),
        ("not SOAP", b"<notsoap><x/></notsoap>"),
        ("empty Body", f'<soap:Envelope xmlns:soap="{env}"><soap:Body/></soap:Envelope>'.encode()),
    ]

    def unexpected(root: etree._Element) -> None:
        _v, _h, body = envelope_parts(root)
        for c in list(body):
            body.remove(c)
        body.append(etree.Element(f"{{{PROBE_NS}}}UnexpectedOperation"))

    try:
        malformed.append(("signed request for an unknown operation", p.signed(prepare=unexpected)))
    except WssecError:
        pass
    leaked: list[str] = []
    headers_leak: set[str] = set()
    for what, data in malformed:
        out = p.send("wssec.fault-leak", data)
        found = _leaks(out)
        if found:
            leaked.append(f"{what}: {', '.join(found)} (HTTP {out.status})")
        for h in ("Server", "X-Powered-By", "X-AspNet-Version"):
            v = next((val for k, val in out.headers.items() if k.lower() == h.lower()), None)
            if v and _VERSION_HEADER.search(v):
                headers_leak.add(f"{h}: {v}")
    if leaked:
        return p.result(
            "wssec.fault-leak", Status.FAIL, "faults disclose internals — " + "; ".join(leaked), t
        )
    if headers_leak:
        return p.result(
            "wssec.fault-leak",
            Status.WARN,
            "fault bodies are clean, but headers announce versions: " + ", ".join(sorted(headers_leak)),
            t,
        )
    return p.result(
        "wssec.fault-leak", Status.PASS, f"{len(malformed)} malformed requests: faults show no internals", t
    )


def probe_plain_http(p: _Prober) -> Finding:
    t = time.perf_counter()
    parts = urlsplit(p.url)
    if parts.scheme == "http":
        return p.result("wssec.plain-http", Status.FAIL, "the endpoint itself is plain http://", t)
    plain = urlunsplit(
        ("http", parts.netloc if parts.port else f"{parts.hostname}:443", parts.path, parts.query, "")
    )
    try:
        out = p.send("wssec.plain-http", p.signed(), url=plain)
    except requests.RequestException as exc:
        return p.result(
            "wssec.plain-http", Status.PASS, f"plain HTTP to the TLS port fails ({type(exc).__name__})", t
        )
    if out.accepted:
        return p.result(
            "wssec.plain-http",
            Status.FAIL,
            f"the same port answers SOAP over plain HTTP: {out.describe()}",
            t,
        )
    return p.result("wssec.plain-http", Status.PASS, f"plain HTTP refused: {out.describe()}", t)


_CORRELATION_HEADERS = ("x-request-id", "x-correlation-id", "x-event-id", "request-id", "x-amzn-requestid")


def probe_audit_events(p: _Prober, refusal: Outcome | None) -> Finding:
    t = time.perf_counter()
    cid = "wssec.audit-events"
    if refusal is None or refusal.accepted:
        return p.result(
            cid, Status.SKIP, "the service refused no probe, so there is no security event to observe", t
        )
    if not refusal.soap_fault:
        return p.result(cid, Status.FAIL, f"a refusal is not a SOAP Fault ({refusal.describe()})", t)
    correlated = any(k.lower() in _CORRELATION_HEADERS for k in refusal.headers) or bool(
        re.search(rb"(?i)<(?:\w+:)?(?:EventId|CorrelationId|RequestId|IncidentId)\b", refusal.body)
    )
    if correlated:
        return p.result(
            cid, Status.PASS, f"refusal is a SOAP Fault with a correlation id ({refusal.fault_code})", t
        )
    return p.result(
        cid, Status.WARN, f"refusal is a SOAP Fault ({refusal.fault_code}) without a correlation id", t
    )


# ------------------------------------------------------------------ entry point


@dataclass(frozen=True)
class ProbeOptions:
    """How to talk to the service under probe: one object that both
    ``apisec soap check --url`` and the compare engine build, so the two
    cannot drift apart on what a live probe can be told."""

    trust: Any = None
    """CA certificate(s) for the service's TLS certificate (path or objects)."""
    record_raw: bool = False
    """Keep redacted request/response excerpts on each finding."""
    encrypt_cert: Any = None
    """The service's encryption certificate; by default taken from the WSDL's
    endpoint identity when its policy requires an encrypted Body."""
    soap_action: str | None = None
    """SOAPAction (SOAP 1.1) or action parameter (SOAP 1.2) to send."""
    timeout: float = 10.0
    """Seconds per request."""
    only: tuple[str, ...] | None = None
    """Run only these check ids (the baseline always runs)."""
    username: str | None = None
    """Add a UsernameToken (PasswordDigest) to every signed probe."""
    password: str | None = field(default=None, repr=False)
    """The UsernameToken password; never shown in findings or ``repr``."""


def probe_service(
    url: str,
    sample: bytes,
    key: Any,
    cert: Any,
    trust: Any = None,
    record_raw: bool = False,
    *,
    options: ProbeOptions | None = None,
    encrypt_cert: Any = None,
    soap_action: str | None = None,
    timeout: float = 10.0,
    only: Iterable[str] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> list[Finding]:
    """Probe the SOAP service at ``url``; see the module docstring.

    url: the endpoint (http or https).
    sample: a SOAP request the service accepts when properly signed.
    key / cert: the client identity the service trusts (paths, PEM bytes or objects).
    trust: CA certificate(s) for the service's TLS certificate (path or objects).
    record_raw: keep redacted request/response excerpts on each finding.
    encrypt_cert: the service's encryption certificate; by default taken from
        the WSDL's endpoint identity when its policy requires an encrypted Body.
    only: run only these check ids (the baseline always runs).
    username / password: add a UsernameToken (PasswordDigest) to every signed
        probe, for services that authenticate users as well as signers.  The
        password never appears in findings (raw excerpts are redacted).

    Raises :class:`BaselineRefused` (exit 2) when the baseline is refused or
    the service cannot be reached, and :class:`MalformedMessage` (exit 2) for
    an unusable sample.

    options: a :class:`ProbeOptions` instead of the keyword arguments (when
    given, it is the whole configuration and the keywords are ignored)."""
    if options is not None:
        trust, record_raw, encrypt_cert, soap_action = (
            options.trust,
            options.record_raw,
            options.encrypt_cert,
            options.soap_action,
        )
        timeout, only, username, password = options.timeout, options.only, options.username, options.password
    if (username is None) != (password is None):
        raise ValueError("username and password go together")
    credentials = (username, password) if username is not None and password is not None else None
    prober = _Prober(
        url, sample, key, cert, trust, record_raw, encrypt_cert, soap_action, timeout, credentials
    )
    try:
        try:
            base = prober.send("baseline", prober.signed())
        except requests.RequestException as exc:
            raise BaselineRefused(f"cannot reach {url}: {type(exc).__name__}") from None
        if not base.accepted:
            hint = "" if prober.encryptor else " (if the service requires encryption, pass its certificate)"
            raise BaselineRefused(
                f"baseline refused: a properly signed request (Timestamp, Body+Timestamp signed) got "
                f"{base.describe()}{hint}"
            )
        prober.raw.pop("baseline", None)
        wanted = set(only) if only else None
        findings: list[Finding] = []
        refusal: dict[str, Outcome] = {}

        def run(check_id: str, fn: Callable[[], Finding]) -> None:
            if wanted is not None and check_id not in wanted:
                return
            t = time.perf_counter()
            try:
                findings.append(fn())
            except requests.RequestException as exc:
                findings.append(
                    prober.result(check_id, Status.ERROR, f"probe failed: {type(exc).__name__}", t)
                )
            except WssecError as exc:
                findings.append(prober.result(check_id, Status.ERROR, f"probe could not be built: {exc}", t))

        def unsigned() -> Finding:
            t = time.perf_counter()
            out = prober.send("wssec.unsigned-accepted", prober.signed(sign=False))
            refusal["unsigned"] = out
            verdict = Status.FAIL if out.accepted else Status.PASS
            word = "accepted" if out.accepted else "refused"
            return prober.result(
                "wssec.unsigned-accepted",
                verdict,
                f"a request without a signature was {word}: {out.describe()}",
                t,
            )

        run("wssec.unsigned-accepted", unsigned)
        run("wssec.untrusted-accepted", lambda: probe_untrusted(prober))
        run("wssec.tampered-accepted", lambda: probe_tampered(prober))
        run("wssec.xsw-accepted", lambda: probe_xsw(prober))
        run("wssec.replay-accepted", lambda: probe_replay(prober))
        run("wssec.expired-accepted", lambda: probe_expired(prober))
        run("wssec.dtd-accepted", lambda: probe_dtd(prober))
        run("wssec.fault-leak", lambda: probe_fault_leak(prober))
        run("wssec.plain-http", lambda: probe_plain_http(prober))
        run("wssec.audit-events", lambda: probe_audit_events(prober, refusal.get("unsigned")))
        return findings
    finally:
        prober.close()


__all__ = ["BaselineRefused", "Outcome", "ProbeOptions", "XSW_VARIANTS", "judge", "probe_service"]
