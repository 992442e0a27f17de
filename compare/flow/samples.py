"""The flows of apisec's sample services: the files committed under
``samples/`` (regenerated and compared by the tests, so they cannot drift
from the generator) and the flows plus Postman exports ``apisec demo``
writes into its report folder.

References in these flows are relative to the flow file: the REST flow
reads the sample users' tokens from ``ALICE_TOKEN``/``BOB_TOKEN``/
``ADMIN_TOKEN`` (what ``python -m apisec_samples.rest_service`` prints), an
expired token from ``EXPIRED_TOKEN`` and the service's public key from
``service-public.pem``; the SOAP flows read the client identity and the
service certificate from ``pki/`` (``apisec_samples.pki`` writes that
layout).  No key or token is in any of them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compare.flow.generate_openapi import generate_openapi
from compare.flow.generate_wsdl import generate_wsdl
from compare.flow.model import dump_flow

SOAP_PKI = {
    "key": "file:pki/client.key",
    "cert": "file:pki/client.pem",
    "service_cert": "file:pki/service.pem",
}
SAMPLE_ADDRESSES = {"secure": "https://127.0.0.1:8443/quote", "legacy": "http://127.0.0.1:8080/quote"}


def rest_flow(base_url: str | None = None) -> dict[str, Any]:
    """The sample order API's flow (contract + roles matrix of samples/rest_service)."""
    from apisec_samples import rest_service

    flow, _ = generate_openapi(
        rest_service.OPENAPI,
        roles=rest_service.ROLES,
        base_url=base_url,
        expired_token="env:EXPIRED_TOKEN",
        public_key="file:service-public.pem",
    )
    flow["source"] = "samples/rest_service/openapi.yaml (+ roles.yaml)"
    return flow


def soap_flow(config: str, base_url: str | None = None) -> dict[str, Any]:
    """The quote service's flow from its ``config`` WSDL and sample request."""
    from apisec_samples import soap_service

    with tempfile.TemporaryDirectory(prefix="apisec-flow-") as tmp:
        wsdl = Path(tmp) / f"quote-{config}.wsdl"
        wsdl.write_bytes(soap_service.render_wsdl(config, base_url or SAMPLE_ADDRESSES[config], None))
        request = Path(tmp) / "request.xml"
        request.write_bytes(soap_service.request_xml())
        flow, _ = generate_wsdl(wsdl, request=request, **SOAP_PKI)
    flow["source"] = f"samples/soap_service/quote-{config}.wsdl"
    return flow


def sample_flow_files() -> dict[str, str]:
    """``samples/``-relative path → YAML text of every committed sample flow."""
    out = {"rest_service/flow.yaml": dump_flow(rest_flow())}
    for config in ("secure", "legacy"):
        out[f"soap_service/flow-{config}.yaml"] = dump_flow(soap_flow(config))
    return out


def write_sample_flows(samples: Path | None = None) -> list[Path]:
    """(Re)write the committed sample flows under ``samples/`` of a checkout."""
    root = samples or Path(__file__).resolve().parents[2] / "samples"
    out = []
    for rel, text in sample_flow_files().items():
        (root / rel).write_text(text, encoding="utf-8")
        out.append(root / rel)
    return out


def write_demo_flows(
    folder: Path, rest_urls: Mapping[str, str], soap_urls: Mapping[str, str]
) -> dict[str, Path]:
    """Generate the running demo services' flows and Postman exports into
    ``folder`` (``flows/`` of the report); returns name → written path."""
    from compare.fileio import atomic_write
    from compare.flow.postman import export_postman

    folder.mkdir(parents=True, exist_ok=True)
    flows = {f"rest-{c}": rest_flow(u) for c, u in rest_urls.items()}
    flows |= {f"soap-{c}": soap_flow(c, u) for c, u in soap_urls.items()}
    written: dict[str, Path] = {}
    for name, flow in flows.items():
        path = folder / f"{name}.flow.yaml"
        atomic_write(path, dump_flow(flow))
        written[f"flow {name}"] = path
        collection, _left_out = export_postman(flow)
        path = folder / f"{name}.postman.json"
        atomic_write(path, json.dumps(collection, indent=2, ensure_ascii=False) + "\n")
        written[f"postman {name}"] = path
    return written
