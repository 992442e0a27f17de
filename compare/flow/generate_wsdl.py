"""``apisec flow generate --wsdl``: a SOAP flow from a WSDL and its
WS-SecurityPolicy.

Per operation: the happy path secured as the operation's input policy
demands — the settings :meth:`wssec.policy.Policy.to_settings` derives
(algorithms, signed parts, Timestamp, Body encryption, key identifier),
signing at least the Body and a Timestamp even when the policy asks for
less, as ``apisec soap check --url`` does: a variation that removes a
signature proves nothing without one — then the six message-security
variations, each of which must be refused with a SOAP Fault.  The request
body is the ``--request`` sample, else one built from the WSDL's schema
(zeep) with placeholder values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compare.flow.model import FLOW_VERSION, FlowError

SOAP_VARIATIONS = (
    "soap-unsigned",
    "soap-body-changed",
    "soap-replayed",
    "soap-expired-timestamp",
    "soap-wrapped-body",
    "soap-untrusted-signer",
)
_PLACEHOLDERS = {"string": "example", "int": 1, "integer": 1, "decimal": 1, "boolean": True, "double": 1.0}


def _security(policy: Any) -> dict[str, Any]:
    """The flow's ``security`` block: what the happy path applies, from the policy."""
    s = policy.to_settings()
    signer = dict(s.signer) if s.sign else {}
    sign = list(dict.fromkeys([*signer.get("sign", []), "Body", "Timestamp"]))
    out: dict[str, Any] = {
        "sign": sign,
        "timestamp": signer.get("timestamp") or 300,
        "signature_algorithm": signer.get("signature_algorithm", "rsa-sha256"),
        "digest_algorithm": signer.get("digest_algorithm", "sha256"),
        "key_identifier": signer.get("key_identifier", s.key_identifier),
        "encrypt": dict(s.encryptor) if s.encrypt and s.encryptor else None,
        "username_token": bool(policy.username_tokens),
        "policy_demands": {"sign": s.sign, "encrypt": s.encrypt},
    }
    return out


def _example_body(wsdl: Path, operation: str) -> str:
    """An envelope for ``operation`` built by zeep from the WSDL's types."""
    import zeep
    from lxml import etree

    try:
        client = zeep.Client(str(wsdl), settings=zeep.Settings(forbid_dtd=True, forbid_entities=True,
                                                               forbid_external=True))  # fmt: skip
        for service in client.wsdl.services.values():
            for port in service.ports.values():
                op = port.binding._operations.get(operation)
                if op is None:
                    continue
                body = op.input.body
                kwargs = {}
                for name, el in getattr(body.type, "elements", []):
                    kwargs[name] = _PLACEHOLDERS.get(getattr(el.type, "name", ""), "example")
                env = client.create_message(client.bind(service.name, port.name), operation, **kwargs)
                return etree.tostring(env, encoding="unicode")
    except Exception as exc:  # noqa: BLE001 - zeep raises many types; one line for the user
        raise FlowError(
            f"cannot build a request for {operation} from {wsdl}: {exc}; give --request"
        ) from None
    raise FlowError(f"operation {operation} has no SOAP binding in {wsdl}; give --request")


def generate_wsdl(
    wsdl: str | Path,
    *,
    key: str,
    cert: str,
    base_url: str | None = None,
    service_cert: str | None = None,
    request: str | Path | None = None,
    ca_file: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Build a SOAP flow from the WSDL file ``wsdl``.

    ``key``/``cert`` are ``file:`` references to the client identity the
    service trusts; ``service_cert`` one to the certificate to encrypt to
    (default: the WSDL's endpoint identity, embedded in the flow as it is
    public).  Returns the flow (validated by
    :func:`~compare.flow.model.dump_flow` when it is written) and notes."""
    from wssec.policy import parse_wsdl_policy
    from wssec.safexml import parse_xml

    path = Path(wsdl)
    data = path.read_bytes()
    wp = parse_wsdl_policy(data)
    if not wp.operations:
        raise FlowError(f"{path} declares no SOAP operation")
    notes: list[str] = []
    address = base_url or next((op.address for op in wp.operations if op.address), None)
    if not address:
        raise FlowError("no endpoint: give --base-url (the WSDL has no soap:address)")
    soap: dict[str, Any] = {"key": key, "cert": cert}
    body_text = None
    if request is not None:
        raw = Path(request).read_bytes()
        parse_xml(raw, what="sample request")  # refuses DTDs, bombs, non-XML
        body_text = raw.decode("utf-8")
    operations = []
    for op in wp.operations:
        security = _security(op.input_policy)
        if security["encrypt"]:
            if service_cert:
                soap["service_cert"] = service_cert
            elif wp.service_certificates:
                import base64

                security["encrypt"]["service_cert_der_b64"] = base64.b64encode(
                    wp.service_certificates[0]
                ).decode()
            else:
                notes.append(f"{op.operation}: the policy encrypts the Body; give --encrypt-cert")
        if security["username_token"]:
            notes.append(
                f"{op.operation}: the policy wants a UsernameToken; add connection.soap username/password"
            )
        if op.soap_version:
            soap["soap_version"] = op.soap_version
        envelope = body_text or _example_body(path, op.operation)
        name = op.operation
        steps = [
            {"name": f"{name}/happy-path", "variation": "happy-path", "request": {"body": envelope},
             "expect": {"outcome": "accepted"}},
        ] + [
            {"name": f"{name}/{v}", "variation": v, "expect": {"outcome": "soap-fault"}} for v in SOAP_VARIATIONS
        ]  # fmt: skip
        operations.append({"name": name, "soap_action": op.soap_action, "security": security, "steps": steps})
    if body_text is None:
        notes.append(
            "request bodies built from the WSDL types with placeholder values; give --request for real ones"
        )
    connection: dict[str, Any] = {"base_url": address}
    if ca_file:
        connection["ca_file"] = ca_file
    connection["soap"] = soap
    flow = {
        "apisec_flow": FLOW_VERSION,
        "name": wp.operations[0].service or path.stem,
        "kind": "soap",
        "source": str(wsdl),
        "connection": connection,
        "operations": operations,
    }
    return flow, notes  # validated once, by dump_flow when it is written (and load_flow when read)
