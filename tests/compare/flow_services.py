"""The sample REST service with everything a flow needs: tokens in an
environment mapping, the public key and an expired token from its issuer,
and the flow generated from its contract and roles matrix (written where a
test wants it).  Every service is a real uvicorn server on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apisec_samples.rest_service import OPENAPI, ROLES, serve
from compare.flow.generate_openapi import generate_openapi
from compare.flow.model import dump_flow, load_flow

LEGACY_FLAWS = {
    # CORS: the legacy config echoes any Origin with credentials (every operation)
    *(f"{op}/cors-foreign-origin" for op in
      ("health", "listOrders", "createOrder", "getOrder", "reports", "listUsers", "deleteOrder")),
    # BOLA: no ownership check
    "getOrder/bola/bob",
    "getOrder/bola/alice",
    # BFLA: no admin-role check
    "listUsers/wrong-role/alice",
    "listUsers/wrong-role/bob",
    # /api/reports is served without authentication although the contract protects it
    *(f"reports/{v}" for v in
      ("no-credentials", "garbage-token", "expired-token", "alg-none", "tampered-token", "key-confusion")),
}  # fmt: skip
"""Step names of the sample flow that must fail on the legacy configuration (and only these)."""


@dataclass
class FlowService:
    url: str
    ca_file: Path
    env: dict[str, str]
    flow_file: Path


@contextmanager
def sample_flow_service(config: str, folder: Path) -> Iterator[FlowService]:
    """Start the sample REST service in ``config`` and write its flow into ``folder``."""
    svc = serve(config)
    try:
        env = {**svc.role_env(), "EXPIRED_TOKEN": svc.mint("alice", ttl=-3600)}
        (folder / "service-public.pem").write_bytes(svc.public_key_pem())
        flow, _notes = generate_openapi(
            OPENAPI,
            roles=ROLES,
            base_url=svc.url,
            expired_token="env:EXPIRED_TOKEN",
            public_key="file:service-public.pem",
        )
        flow_file = folder / "flow.yaml"
        flow_file.write_text(dump_flow(flow), encoding="utf-8")
        load_flow(flow_file)  # what was written reads back
        yield FlowService(svc.url, Path(svc.ca_file), env, flow_file)
    finally:
        svc.stop()
