"""SOAP compliance checks: static WSDL policy checks, WS-I BSP 1.1 rules for
captured messages and live probes against a running service.

The three entry points are the contract the compare engine calls::

    check_wsdl(path_or_url) -> list[Finding]
    check_message(data, target="message") -> list[Finding]
    probe_service(url, sample, key, cert, trust=None, record_raw=False) -> list[Finding]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wssec.checks import registry  # noqa: F401  (registers every check id)
from wssec.checks.bsp import check_message
from wssec.checks.static import check_wsdl

if TYPE_CHECKING:
    from compare.findings import Finding


def probe_service(
    url: str, sample: bytes, key: Any, cert: Any, trust: Any = None, record_raw: bool = False, **kwargs: Any
) -> list[Finding]:
    """Live probes (see :func:`wssec.checks.live.probe_service`); imported lazily
    because it needs the signer."""
    from wssec.checks.live import probe_service as _probe

    return _probe(url, sample, key, cert, trust=trust, record_raw=record_raw, **kwargs)


__all__ = ["check_message", "check_wsdl", "probe_service", "registry"]
