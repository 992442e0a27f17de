"""Every check id of ``apisec soap check``, looked up in the check catalogue.

Ids are contracts (CI pipelines baseline on them): static WSDL checks,
WS-I Basic Security Profile 1.1 rules for captured messages (one id per
rule, ``wssec.bsp-rNNNN``, the rule id in ``references``) and live probes.
Their titles, wordings, controls, dimensions and severities are declared
once, as data, in ``compare/catalogue.toml``; this module only lists which
ids each family emits, and the lookups fail at import if one is missing.
"""

from __future__ import annotations

from compare.findings import check_info

BSP_RULE_IDS = (
    "R3227", "R3203", "R3224", "R3221", "R3222", "R3217", "R3223", "R3102", "R5416", "R5411",
    "R5412", "R5423", "R5404", "R5403", "R5401", "R5402", "R5417", "R3061", "R5205", "R5206",
    "R3029", "R3030", "R3031", "R4201", "R4222", "R4223", "R4225", "R4220", "R4221", "R5621",
    "R5620", "R5601", "R5603", "R3208", "R3228",
)  # fmt: skip
"""The WS-I BSP 1.1 rules :func:`wssec.checks.check_message` enforces, in report order."""


def bsp_check_id(rule: str) -> str:
    """``R3227`` → ``wssec.bsp-r3227``."""
    return f"wssec.bsp-{rule.lower()}"


STATIC_CHECKS = (
    "wssec.no-security-policy",
    "wssec.weak-algorithm-suite",
    "wssec.no-timestamp",
    "wssec.body-not-signed",
    "wssec.body-not-encrypted",
    "wssec.plaintext-password",
    "wssec.http-endpoint",
)
LIVE_CHECKS = (
    "wssec.unsigned-accepted",
    "wssec.untrusted-accepted",
    "wssec.tampered-accepted",
    "wssec.xsw-accepted",
    "wssec.replay-accepted",
    "wssec.expired-accepted",
    "wssec.dtd-accepted",
    "wssec.fault-leak",
    "wssec.plain-http",
    "wssec.audit-events",
)
BSP_CHECKS = tuple(bsp_check_id(r) for r in BSP_RULE_IDS)
MESSAGE_CHECKS = ("wssec.bsp-message", "wssec.no-security-header", *BSP_CHECKS, "wssec.strict-transforms")
for _id in (*STATIC_CHECKS, *LIVE_CHECKS, *MESSAGE_CHECKS):
    check_info(_id)  # every id is declared in compare/catalogue.toml (UnknownCheck otherwise)

__all__ = [
    "BSP_CHECKS",
    "BSP_RULE_IDS",
    "LIVE_CHECKS",
    "MESSAGE_CHECKS",
    "STATIC_CHECKS",
    "bsp_check_id",
]
