"""Check ids of flow steps (``flow.<variation>``), one per variation.

A flow step tests the same control as an existing probe (the alg-none step
tests what ``jwt.none-alg`` tests), so each flow id has that check's side,
control, dimension, severity, references and remediation: the same control
keeps the same severity wherever it is tested.  The ids are declared once,
as data, in ``compare/catalogue.toml`` (a test checks each flow id against
the check it names here); the happy path has its own entry (a happy path
that is not accepted leaves the flow without proof, reported as ``error``).
"""

from __future__ import annotations

from compare.findings import check_info

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

HAPPY_PATH = check_info("flow.happy-path").check_id
SOAP_HAPPY_PATH = check_info("flow.soap-happy-path").check_id

IDS: dict[str, str] = {"happy-path": HAPPY_PATH} | {v: check_info(f"flow.{v}").check_id for v in CONTROLS}


def check_id(variation: str, kind: str = "rest") -> str:
    """The check id a step of ``variation`` reports under."""
    if variation == "happy-path":
        return SOAP_HAPPY_PATH if kind == "soap" else HAPPY_PATH
    return IDS[variation]
