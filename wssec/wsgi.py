"""WSGI middleware that puts WS-Security in front of a Python SOAP service.

``SecurityMiddleware(app, verifier=…, decryptor=…, signer=None)`` verifies
(and decrypts) every inbound SOAP POST *before* the application runs:

* the application only sees requests that passed; the verified result is in
  ``environ["wssec.verified"]`` and the envelope the verifier checked (after
  decryption) in ``environ["wssec.envelope"]``, its Body element — the very
  node the signature covers — in ``environ["wssec.body"]``.  ``wsgi.input``
  is replaced by that envelope's bytes, so a legacy app that re-parses the
  input reads the verified message, not the wire bytes;
* a refusal is a proper SOAP 1.1 or 1.2 Fault with the WSS 1.1 fault code
  (``wsse:FailedCheck``, ``wsse:MessageExpired`` …), the spec's canonical
  reason and an opaque event id; no exception text, no stack trace;
* one structured audit line per security event (``accepted``, ``refused``
  with the reason kind, ``replay``) goes to the ``wssec.audit`` logger as
  JSON: who signed, which parts, which peer, how long, never message
  content, passwords or keys;
* with ``signer=`` the application's SOAP responses are signed (faults
  too), so clients can tell a forged response from a real one.

Non-POST requests (``GET ?wsdl``) pass through untouched.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from cryptography import x509
from lxml import etree

from wssec import errors
from wssec.faults import build_fault, content_type, fault_code_for, http_status
from wssec.safexml import parse_xml
from wssec.soap import envelope_parts, security_header
from wssec.trust import subject_dn

AUDIT_LOGGER = "wssec.audit"
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""4 MiB: a SOAP request larger than this is refused before parsing."""

# A library does not decide where logs go: without configuration the audit
# lines are dropped (not dumped on stderr by logging's last-resort handler);
# configure the "wssec.audit" logger (or the root logger) to keep them.  Every
# security event is emitted, "accepted" (INFO) included, whatever the root
# logger's level: an audit trail that silently loses the accepted messages is
# no audit trail.  Set the logger's level yourself to change that.
_audit_logger = logging.getLogger(AUDIT_LOGGER)
_audit_logger.addHandler(logging.NullHandler())
if _audit_logger.level == logging.NOTSET:
    _audit_logger.setLevel(logging.INFO)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (errors.Expired, "expired"),
    (errors.ReplayDetected, "replay"),
    (errors.InvalidSignature, "invalid-signature"),
    (errors.UntrustedKey, "untrusted-key"),
    (errors.DecryptionFailed, "decryption-failed"),
    (errors.AuthenticationFailed, "authentication-failed"),
    (errors.PolicyViolation, "policy-violation"),
    (errors.UnsafeXml, "unsafe-xml"),
    (errors.MalformedMessage, "malformed"),
)


def _kind(exc: BaseException) -> str:
    """A stable, secret-free reason word for the audit log (most specific first)."""
    return next((word for cls, word in _KINDS if isinstance(exc, cls)), "refused")


def _dn(cert: Any) -> str | None:
    """A certificate's subject as an RFC 4514 string: the one per-certificate
    cache of :func:`wssec.trust.subject_dn` (formatting it for every audit
    line cost about a third of a signature verification)."""
    try:
        return subject_dn(cert)
    except Exception:  # noqa: BLE001 - audit must never fail the request
        return None


def _subject(result: Any) -> str | None:
    """The signer's certificate subject from a verification result, if any."""
    for attr in ("signer_certificate", "signer_cert", "certificate", "cert"):
        cert = getattr(result, attr, None)
        if isinstance(cert, x509.Certificate):
            return _dn(cert)
        if cert is not None and hasattr(cert, "subject"):
            try:
                return cert.subject.rfc4514_string()
            except Exception:  # noqa: BLE001 - audit must never fail the request
                return None
    return None


def _signed_parts(result: Any) -> list[str]:
    for attr in ("signed_parts", "parts"):
        parts = getattr(result, attr, None)
        if parts:
            try:
                return sorted({str(p) for p in parts})
            except TypeError:
                return []
    return []


class SecurityMiddleware:
    """Verify/decrypt inbound SOAP requests; fault refusals; audit; sign replies.

    verifier: a :class:`wssec.Verifier` (or anything with
        ``verify(envelope) -> result`` raising :mod:`wssec.errors`).  Required:
        a middleware that accepts unverified messages would be a bypass.
    decryptor: a :class:`wssec.Decryptor` applied before verification when the
        verifier does not decrypt itself (sign-then-encrypt messages only).
        Prefer ``Verifier(decrypt_key=…, require_encrypted=("Body",))``: it
        processes the header in order and can insist on encryption.
    signer: a :class:`wssec.Signer` that signs every SOAP response.
    max_bytes: requests larger than this are refused unread.
    audit: the logger for audit lines (default ``logging.getLogger("wssec.audit")``).
    """

    def __init__(
        self,
        app: WsgiApp,
        verifier: Any,
        decryptor: Any = None,
        signer: Any = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        audit: logging.Logger | None = None,
    ) -> None:
        if verifier is None:
            raise ValueError("SecurityMiddleware needs a verifier (refusing to run open)")
        self.app = app
        self.verifier = verifier
        self.decryptor = decryptor
        self.signer = signer
        self.max_bytes = max_bytes
        self.audit = audit or logging.getLogger(AUDIT_LOGGER)

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        event_id = uuid.uuid4().hex[:16]
        version = _version_from_content_type(environ.get("CONTENT_TYPE", ""))
        try:
            data = self._read(environ)
            parsed = root = parse_xml(data, what="SOAP message")
            version, _, _ = envelope_parts(root)
            root, result = self._verify(root)
        except errors.WssecError as exc:
            return self._refuse(environ, start_response, exc, version, event_id, started)
        except Exception as exc:  # noqa: BLE001 - fail closed, never leak
            self.audit.error(
                json.dumps(self._event("error", environ, event_id, started, reason=type(exc).__name__))
            )
            return self._fault(start_response, version, None, event_id, sender=False)

        self.audit.info(
            json.dumps(
                self._event(
                    "accepted",
                    environ,
                    event_id,
                    started,
                    soap_version=version,
                    signer=_subject(result),
                    signed=_signed_parts(result),
                )
            )
        )
        # The bytes the application reads: the wire bytes when verification
        # left the parsed tree as it was (nothing decrypted, no comment
        # removed: the common signed request), else the processed envelope
        # serialised again.
        untouched = (
            root is parsed
            and self.decryptor is None
            and not getattr(result, "encrypted", None)
            and not getattr(result, "rewritten", False)  # e.g. undigested comments removed
        )
        payload = data if untouched else etree.tostring(root)
        _, _, body = envelope_parts(root)
        environ = dict(environ)
        environ["wssec.verified"] = result
        environ["wssec.envelope"] = root
        environ["wssec.body"] = body
        environ["wssec.event_id"] = event_id
        environ["wsgi.input"] = io.BytesIO(payload)
        environ["CONTENT_LENGTH"] = str(len(payload))
        if self.signer is None:
            return self.app(environ, start_response)
        return self._signed_response(environ, start_response, version, event_id)

    # ------------------------------------------------------------------ steps

    def _read(self, environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise errors.MalformedMessage("bad Content-Length") from None
        if length <= 0:
            raise errors.MalformedMessage("empty request")
        if length > self.max_bytes:
            raise errors.MalformedMessage(f"request larger than {self.max_bytes} bytes")
        return environ["wsgi.input"].read(length)

    def _verify(self, root: etree._Element) -> tuple[etree._Element, Any]:
        """Decrypt (when a separate decryptor is configured) then verify.

        Returns the envelope the application must use and the verifier's
        result.  Verifiers that decrypt themselves return the decrypted
        envelope on their result (``.envelope``); we hand that on."""
        if self.decryptor is not None:
            decrypt_tree = getattr(self.decryptor, "decrypt_tree", None)
            if decrypt_tree is not None:
                decrypt_tree(root)  # wssec.Decryptor: in place
            else:
                out = self.decryptor.decrypt(etree.tostring(root))
                root = out if isinstance(out, etree._Element) else parse_xml(bytes(out), what="SOAP message")
            # The key transport is done; a verifier that does not decrypt must
            # not trip over it.  (Sign-then-encrypt only: a signature over the
            # ciphertext cannot verify after decryption; use
            # Verifier(decrypt_key=...) for that and for require_encrypted.)
            sec = security_header(root)
            if sec is not None:
                from wssec.encryption import drop_key_transport  # the one rule, for any decryptor

                drop_key_transport(sec)
        result = self.verifier.verify(root)
        env = getattr(result, "envelope", None)
        if isinstance(env, etree._Element):
            root = env
        return root, result

    def _refuse(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        exc: errors.WssecError,
        version: str,
        event_id: str,
        started: float,
    ) -> Iterable[bytes]:
        kind = _kind(exc)
        event = "replay" if isinstance(exc, errors.ReplayDetected) else "refused"
        self.audit.warning(json.dumps(self._event(event, environ, event_id, started, reason=kind)))
        # Unparsable XML is not a WS-Security matter: a plain Client/Sender fault.
        code = None if isinstance(exc, errors.UnsafeXml) else fault_code_for(exc)
        return self._fault(start_response, version, code, event_id, sender=True)

    def _fault(
        self, start_response: StartResponse, version: str, code: Any, event_id: str, *, sender: bool
    ) -> Iterable[bytes]:
        body = build_fault(
            version,
            code,
            reason=None if code else ("The message could not be processed" if sender else "Internal error"),
            sender=sender,
            event_id=event_id,
        )
        start_response(
            http_status(version, sender),
            [("Content-Type", content_type(version)), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _signed_response(
        self, environ: dict[str, Any], start_response: StartResponse, version: str, event_id: str
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return written.append  # the legacy write() callable, buffered too

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
            body = b"".join(written) + body
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        if "xml" in ctype and body.strip():
            try:
                body = self.signer.sign(parse_xml(body, what="SOAP response"))
            except Exception as exc:  # noqa: BLE001 - never send an unsigned reply we promised to sign
                self.audit.error(
                    json.dumps(
                        self._event(
                            "error", environ, event_id, time.perf_counter(), reason=type(exc).__name__
                        )
                    )
                )
                return self._fault(start_response, version, None, event_id, sender=False)
        headers.append(("Content-Length", str(len(body))))
        start_response(captured.get("status", "500 Internal Server Error"), headers)
        return [body]

    def _event(
        self, event: str, environ: dict[str, Any], event_id: str, started: float, **fields: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": event,
            "event_id": event_id,
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "duration_ms": round((time.perf_counter() - started) * 1000.0, 2),
        }
        out.update({k: v for k, v in fields.items() if v not in (None, [], "")})
        return out


def _version_from_content_type(ctype: str) -> str:
    return "1.2" if "application/soap+xml" in ctype.lower() else "1.1"


__all__ = ["AUDIT_LOGGER", "SecurityMiddleware"]
