"""A zeep ``wsse`` plugin backed by wssec.

::

    from zeep import Client
    from wssec.zeep import WsSecurity

    wsse = WsSecurity(
        signer=wssec.Signer(client_key, client_cert),
        encryptor=wssec.Encryptor(service_cert),
        verifier=wssec.Verifier(trust=[ca], require=("Body",)),
    )
    client = Client(wsdl, wsse=wsse)

or, configured from the service's WS-SecurityPolicy::

    wsse = WsSecurity.from_wsdl(wsdl_bytes, key=..., cert=..., trust=[ca])

What it adds over zeep's own ``zeep.wsse`` module: XML encryption of
requests and decryption of responses, SKI/thumbprint/issuer-serial KeyInfo,
a verification that checks Timestamps, replays, the certificate chain and —
against signature wrapping — that the Body zeep will read is *the* node the
signature covers; and an unsigned SOAP Fault is reported as
:class:`wssec.verifier.UnsignedFault` rather than trusted.

zeep calls ``apply(envelope, headers)`` before sending and
``verify(envelope)`` on the parsed response before it looks at the Body.
Because zeep keeps using *its* tree after ``verify``, the plugin replaces
that tree's Header and Body with the verified (decrypted) ones: zeep then
reads exactly what was verified, nothing the wire added around it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from lxml import etree

from wssec.errors import UnsafeXml
from wssec.safexml import parse_xml

__all__ = ["WsSecurity"]


class WsSecurity:
    """zeep wsse plugin: sign/encrypt requests, verify/decrypt responses.

    signer: a :class:`wssec.Signer` for requests (None: requests unsigned).
    encryptor: a :class:`wssec.Encryptor` for requests (None: not encrypted).
    verifier: a :class:`wssec.Verifier` for responses.  Give one whenever the
        service signs its responses; without it responses are *not checked*.
    decryptor: a :class:`wssec.Decryptor` for encrypted responses, when the
        verifier does not decrypt itself (``Verifier(decrypt_key=…)`` is
        preferred: it also enforces ``require_encrypted``).
    order: ``sign-then-encrypt`` (default) or ``encrypt-then-sign``.
    """

    def __init__(
        self,
        signer: Any = None,
        encryptor: Any = None,
        verifier: Any = None,
        decryptor: Any = None,
        *,
        order: str = "sign-then-encrypt",
    ) -> None:
        if order not in ("sign-then-encrypt", "encrypt-then-sign"):
            raise ValueError("order must be 'sign-then-encrypt' or 'encrypt-then-sign'")
        self.signer = signer
        self.encryptor = encryptor
        self.verifier = verifier
        self.decryptor = decryptor
        self.order = order
        self.last_result: Any = None
        """The :class:`wssec.VerifiedMessage` of the last verified response."""

    @classmethod
    def from_wsdl(
        cls,
        wsdl: bytes | str | etree._Element,
        *,
        key: Any,
        cert: Any,
        trust: Iterable[Any] = (),
        service_cert: Any = None,
        operation: str | None = None,
    ) -> WsSecurity:
        """Configure the plugin from the service's WS-SecurityPolicy.

        The request policy decides what is signed (and how the certificate is
        referenced), whether the Body is encrypted (to ``service_cert``, or the
        certificate the WSDL publishes as the port's identity) and in which
        order; the response policy decides what the verifier requires."""
        from wssec import Signer, Verifier
        from wssec.policy import parse_wsdl_policy

        if isinstance(wsdl, str) and not wsdl.lstrip().startswith("<"):
            with open(wsdl, "rb") as fh:
                wsdl = fh.read()
        wp = parse_wsdl_policy(wsdl)
        op = next((o for o in wp.operations if operation in (None, o.operation)), None)
        if op is None:
            raise KeyError(f"no operation {operation!r} in the WSDL")
        out_s = op.input_policy.to_settings()
        in_s = op.output_policy.to_settings()
        signer = Signer(key, cert, **out_s.signer) if out_s.sign else None
        encryptor = None
        if out_s.encrypt:
            from wssec.encryption import Encryptor

            target = service_cert
            if target is None and wp.service_certificates:
                from cryptography import x509

                target = x509.load_der_x509_certificate(wp.service_certificates[0])
            if target is None:
                raise ValueError(
                    "the policy requires encryption: pass service_cert= (the WSDL publishes none)"
                )
            encryptor = Encryptor(target, **(out_s.encryptor or {}))
        verifier = Verifier(trust=list(trust), decrypt_key=key, **in_s.verifier) if in_s.sign else None
        return cls(signer=signer, encryptor=encryptor, verifier=verifier, order=out_s.order)

    # -- zeep's interface ---------------------------------------------------------

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        """Secure an outgoing envelope; returns the new envelope and headers."""
        if self.signer is None and self.encryptor is None:
            return envelope, headers
        data: bytes = etree.tostring(envelope)
        steps = [self.signer, self.encryptor]
        if self.order == "encrypt-then-sign":
            steps.reverse()
        for step in steps:
            if step is None:
                continue
            data = step.sign(data) if step is self.signer else step.encrypt(data)
        return parse_xml(data, what="SOAP message"), headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """Verify (and decrypt) a response in place, or raise a wssec error.

        Raises :class:`wssec.verifier.UnsignedFault` for an unsigned SOAP
        Fault, and the verifier's typed errors (InvalidSignature, Expired,
        ReplayDetected, UntrustedKey…) otherwise.  On success zeep's tree
        holds the verified Header and Body."""
        if self.verifier is None and self.decryptor is None:
            return envelope
        # zeep parsed the response with its own (DTD-permitting) parser; a DOCTYPE is
        # dropped by tostring(), so refuse it here or it would slip past parse_xml.
        docinfo = envelope.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise UnsafeXml("SOAP response contains a DOCTYPE (DTDs and entities are refused)")
        root = parse_xml(etree.tostring(envelope), what="SOAP response")
        if self.decryptor is not None:
            self.decryptor.decrypt_tree(root)
        if self.verifier is not None:
            result = self.verifier.verify(root)
            self.last_result = result
            root = getattr(result, "envelope", root)
        _replace_children(envelope, root)
        return envelope


def _replace_children(target: etree._Element, source: etree._Element) -> None:
    """Make ``target`` (zeep's tree) hold copies of ``source``'s children."""
    for child in list(target):
        target.remove(child)
    for child in source:
        target.append(copy.deepcopy(child))
