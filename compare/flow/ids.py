"""Check ids of flow steps (``flow.<variation>``), one per variation.

A flow step tests the same control as an existing probe (the alg-none step
tests what ``jwt.none-alg`` tests), so each flow id takes its side,
dimension, severity, references and remediation from that control's entry:
the same control keeps the same severity wherever it is tested.  The ids
are declared here once; the happy path has its own entry (a happy path that
is not accepted leaves the flow without proof, reported as ``error``).
"""

from __future__ import annotations

from compare.findings import check_info, register
from rest.http import registry as _http  # noqa: F401  (registers http.* and authz.*)
from rest.jwt import checks as _jwt  # noqa: F401  (registers jwt.*)
from wssec.checks import registry as _wssec  # noqa: F401  (registers wssec.*)

CONTROLS: dict[str, tuple[str, str]] = {
    # variation: (control check id, what the step shows when it passes)
    "no-credentials": ("http.auth-not-enforced", "A request without credentials is refused"),
    "garbage-token": ("http.auth-not-enforced", "A garbage bearer token is refused"),
    "expired-token": ("jwt.expired", "An expired token is refused"),
    "alg-none": ("jwt.none-alg", "A token re-labelled alg 'none' without signature is refused"),
    "tampered-token": (
        "jwt.tampered-payload",
        "A token with changed claims under the old signature is refused",
    ),
    "key-confusion": ("jwt.key-confusion", "An HS256 token keyed with the API's public key is refused"),
    "wrong-role": ("authz.bfla", "A role the roles matrix denies cannot call the operation"),
    "bola": ("authz.bola", "A user cannot reach another user's object"),
    "cors-foreign-origin": ("http.cors", "A CORS preflight from a foreign origin is not granted"),
    "plain-http": ("http.plain-http", "The operation is not served over plain HTTP"),
    "soap-unsigned": ("wssec.unsigned-accepted", "An unsigned request is refused with a SOAP Fault"),
    "soap-body-changed": (
        "wssec.tampered-accepted",
        "A Body changed after signing is refused with a SOAP Fault",
    ),
    "soap-replayed": ("wssec.replay-accepted", "A replayed signed request is refused with a SOAP Fault"),
    "soap-expired-timestamp": ("wssec.expired-accepted", "An expired Timestamp is refused with a SOAP Fault"),
    "soap-wrapped-body": ("wssec.xsw-accepted", "A wrapped (XSW) Body is refused with a SOAP Fault"),
    "soap-untrusted-signer": ("wssec.untrusted-accepted", "An untrusted signer is refused with a SOAP Fault"),
}

HAPPY_PATH = register(
    "flow.happy-path",
    "The flow's happy-path request is accepted (the variations of the operation prove something)",
    side="rest",
    dimension="observability",
    severity="medium",
    references=(),
    remediation=(
        "Fix the flow's connection (base URL, identities, keys) or the request built from the contract "
        "until the happy path is accepted; until then the operation's refusals prove nothing."
    ),
).check_id

SOAP_HAPPY_PATH = register(
    "flow.soap-happy-path",
    "The flow's secured SOAP request is accepted (the variations of the operation prove something)",
    side="soap",
    dimension="observability",
    severity="medium",
    references=(),
    remediation=(
        "Fix the flow's connection (endpoint, client key and certificate the service trusts, service "
        "certificate) until the secured request is accepted; until then refusals prove nothing."
    ),
).check_id


def _declare(variation: str, control: str, title: str) -> str:
    info = check_info(control)
    return register(
        f"flow.{variation}",
        title,
        side=info.side,
        dimension=info.dimension,
        severity=info.severity,
        references=(f"apisec {control}", *info.references),
        remediation=info.remediation,
    ).check_id


IDS: dict[str, str] = {"happy-path": HAPPY_PATH} | {
    v: _declare(v, control, title) for v, (control, title) in CONTROLS.items()
}


def check_id(variation: str, kind: str = "rest") -> str:
    """The check id a step of ``variation`` reports under."""
    if variation == "happy-path":
        return SOAP_HAPPY_PATH if kind == "soap" else HAPPY_PATH
    return IDS[variation]
