"""The sample SOAP quote service, in two configurations.

``secure``
    HTTPS (TLS 1.2+, the PKI's service certificate) and
    :class:`wssec.wsgi.SecurityMiddleware` configured *from the WSDL's own
    WS-SecurityPolicy* (:meth:`wssec.policy.Policy.to_settings`): a signed
    Timestamp and a signed, encrypted Body are required, the signer must
    chain to the PKI's CA, replays are refused, responses are signed with
    the service key.  The WSDL publishes the service's encryption
    certificate as the port's WS-Addressing identity.
``legacy``
    Plain HTTP, no message security at all, and a WSDL advertising a weak
    policy (3DES/RSA-1.5, no Timestamp, nothing signed, a text password):
    what ``apisec soap check`` exists to find.

``serve(config, host="127.0.0.1", port=0, pki=…)`` starts a real threaded
WSGI server and returns a handle with ``.url``, ``.wsdl_url`` and ``.stop()``.
"""

from __future__ import annotations

import base64
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from apisec_samples.soap_service.quote import QUOTE_NS, make_quote_app
from apisec_samples.soap_service.server import ServerHandle, start_wsgi

CONFIGS = ("secure", "legacy")
PATH = "/quote"
SOAP_ACTION = "urn:apisec:samples:quote/GetQuote"

__all__ = ["CONFIGS", "PATH", "QUOTE_NS", "SOAP_ACTION", "build_app", "request_xml", "serve", "wsdl_template"]


def wsdl_template(config: str) -> str:
    """The WSDL text of ``config`` with ``{{ADDRESS}}``/``{{SERVICE_CERT}}`` placeholders."""
    if config not in CONFIGS:
        raise ValueError(f"unknown configuration {config!r} (choose {', '.join(CONFIGS)})")
    return resources.files(__package__).joinpath(f"quote-{config}.wsdl").read_text("utf-8")


def request_xml() -> bytes:
    """The sample GetQuote request (unsigned; probes and clients secure it)."""
    return resources.files(__package__).joinpath("request.xml").read_bytes()


def render_wsdl(config: str, address: str, service_cert: Any = None) -> bytes:
    text = wsdl_template(config).replace("{{ADDRESS}}", address)
    if "{{SERVICE_CERT}}" in text:
        der = service_cert.public_bytes(serialization.Encoding.DER) if service_cert is not None else b""
        text = text.replace("{{SERVICE_CERT}}", base64.b64encode(der).decode("ascii"))
    return text.encode("utf-8")


def build_app(config: str, pki: Any, address: str) -> Any:
    """The WSGI application of ``config`` for a service reachable at ``address``."""
    wsdl = render_wsdl(config, address, pki.service.cert if pki is not None else None)
    app = make_quote_app(lambda _env: wsdl)
    if config == "legacy":
        return app
    # secure: the middleware is configured from the WSDL's own policy, so what
    # is published is exactly what is enforced.
    from wssec import Signer, Verifier
    from wssec.policy import parse_wsdl_policy
    from wssec.wsgi import SecurityMiddleware

    wp = parse_wsdl_policy(wsdl)
    op = wp.operations[0]
    inbound = op.input_policy.to_settings()
    outbound = op.output_policy.to_settings()
    verifier = Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key, **inbound.verifier)
    signer = Signer(pki.service.key, pki.service.cert, **outbound.signer) if outbound.sign else None
    return SecurityMiddleware(app, verifier=verifier, signer=signer)


def serve(
    config: str = "secure",
    host: str = "127.0.0.1",
    port: int = 0,
    pki: Any = None,
) -> ServerHandle:
    """Start the quote service in ``config`` on ``host:port`` (0: ephemeral).

    ``pki`` is an :class:`apisec_samples.pki.TestPKI`; when omitted a fresh
    throw-away PKI is generated in a temporary folder (removed on stop)."""
    if config not in CONFIGS:
        raise ValueError(f"unknown configuration {config!r} (choose {', '.join(CONFIGS)})")
    tmp = None
    if pki is None:
        from apisec_samples.pki import make_pki

        tmp = tempfile.TemporaryDirectory(prefix="apisec-soap-")
        pki = make_pki(Path(tmp.name))
    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    tls = config == "secure"
    handle = start_wsgi(
        dispatch,
        host=host,
        port=port,
        path=PATH,
        tls_cert=str(pki.service.cert_path) if tls else None,
        tls_key=str(pki.service.key_path) if tls else None,
    )
    try:
        holder["app"] = build_app(config, pki, handle.url)
    except BaseException:
        handle.stop()
        raise
    handle.extra.update(config=config, pki=pki, ca_path=str(pki.ca.cert_path), tmp=tmp)
    return handle
