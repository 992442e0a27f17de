"""The sample REST API (orders), in a ``secure`` and a ``legacy`` configuration.

>>> from apisec_samples.rest_service import serve
>>> svc = serve("legacy")            # https://127.0.0.1:<port>, own RS256 key
>>> token = svc.mint("alice")
>>> svc.stop()

``openapi.yaml`` is its contract and ``roles.yaml`` its access-control
matrix for ``apisec rest check --roles`` (tokens come from the environment:
ALICE_TOKEN, BOB_TOKEN, ADMIN_TOKEN — see :meth:`ServiceHandle.role_env`).
"""

from __future__ import annotations

from pathlib import Path

from .app import build_app
from .auth import TokenVerifier
from .config import CONFIGS, LEGACY, SECURE, ServiceConfig, get_config
from .server import SAMPLE_AUDIENCE, SAMPLE_ISSUER, ServiceHandle, serve

HERE = Path(__file__).parent
OPENAPI = HERE / "openapi.yaml"
ROLES = HERE / "roles.yaml"

__all__ = [
    "CONFIGS",
    "LEGACY",
    "OPENAPI",
    "ROLES",
    "SAMPLE_AUDIENCE",
    "SAMPLE_ISSUER",
    "SECURE",
    "ServiceConfig",
    "ServiceHandle",
    "TokenVerifier",
    "build_app",
    "get_config",
    "serve",
]
