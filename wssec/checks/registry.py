"""Every check id of ``apisec soap check``, declared once.

Ids are contracts (CI pipelines baseline on them): static WSDL checks,
WS-I Basic Security Profile 1.1 rules for captured messages (one id per
rule, ``wssec.bsp-rNNNN``, the rule id in ``references``) and live probes.
Dimensions follow the comparison matrix: signatures and tokens →
access-control/token-auth, encryption → encryption, TLS and algorithms →
protocols, faults and parser abuse → resilience, audit → observability.
"""

from __future__ import annotations

from dataclasses import dataclass

from compare.findings import register

SIDE = "soap"
BSP = "WS-I BSP 1.1"
WSS = "OASIS WSS 1.1 SOAP Message Security"
WSSP = "OASIS WS-SecurityPolicy 1.2"
OWASP_XSW = "OWASP WSTG: XML Signature Wrapping"

# ------------------------------------------------------------------ static (WSDL)

register(
    "wssec.no-security-policy",
    "WSDL attaches no WS-SecurityPolicy to an operation",
    side=SIDE,
    dimension="access-control",
    severity="high",
    references=(WSSP, "WS-PolicyAttachment 1.5 §4"),
    remediation="Attach a WS-SecurityPolicy (Asymmetric or Transport binding with signed Body and "
    "Timestamp) to every binding/operation so clients and gateways enforce message security.",
)
register(
    "wssec.weak-algorithm-suite",
    "Policy allows a weak algorithm suite (SHA-1, Basic128, TripleDes, rsa-1_5)",
    side=SIDE,
    dimension="protocols",
    severity="high",
    references=(f"{WSSP} §6.1", "NIST SP 800-131A Rev.2", "CVE-2011-1473 (XML-Enc CBC/RSA1.5)"),
    remediation="Use the Basic256Sha256 suite (RSA-SHA256, SHA-256 digests, AES-256, RSA-OAEP) "
    "and remove alternatives with SHA-1, Basic128, TripleDes or Rsa15 suites.",
)
register(
    "wssec.no-timestamp",
    "Policy does not require a signed Timestamp (replay window unbounded)",
    side=SIDE,
    dimension="token-auth",
    severity="medium",
    references=(f"{WSSP} §6.2 IncludeTimestamp", f"{WSS} §10"),
    remediation="Add sp:IncludeTimestamp to the binding so every message carries a signed, "
    "expiring wsu:Timestamp that the receiver checks (and caches for replay detection).",
)
register(
    "wssec.body-not-signed",
    "Policy does not require the SOAP Body to be signed",
    side=SIDE,
    dimension="access-control",
    severity="high",
    references=(f"{WSSP} §4.1.1 SignedParts",),
    remediation="Add <sp:SignedParts><sp:Body/></sp:SignedParts> (or rely on a TransportBinding "
    "over mutually authenticated TLS) so the payload cannot be altered in transit.",
)
register(
    "wssec.body-not-encrypted",
    "Policy does not require the SOAP Body to be encrypted (and no TLS binding)",
    side=SIDE,
    dimension="encryption",
    severity="medium",
    references=(f"{WSSP} §4.2.1 EncryptedParts",),
    remediation="Add <sp:EncryptedParts><sp:Body/></sp:EncryptedParts> or use a TransportBinding "
    "with an HttpsToken so the payload is confidential end to end.",
)
register(
    "wssec.plaintext-password",
    "UsernameToken sends its password as text without TLS",
    side=SIDE,
    dimension="token-auth",
    severity="high",
    references=("OASIS WSS UsernameToken Profile 1.1 §3.1", f"{WSSP} §5.4.1"),
    remediation="Use sp:HashPassword (PasswordDigest) or carry the UsernameToken only under a "
    "TransportBinding with an HttpsToken (or encrypt it: SignedEncryptedSupportingTokens).",
)
register(
    "wssec.http-endpoint",
    "soap:address is plain http://",
    side=SIDE,
    dimension="protocols",
    severity="medium",
    references=("WS-I Basic Profile 1.2 R5001 (HTTP binding)", "OWASP ASVS V9.1"),
    remediation="Publish https:// endpoint addresses; plain HTTP exposes headers, tokens and "
    "(without message encryption) the payload.",
)

# ------------------------------------------------------------------ live probes

register(
    "wssec.unsigned-accepted",
    "Service accepts a request without a Security header",
    side=SIDE,
    dimension="access-control",
    severity="critical",
    references=(f"{WSS} §6", WSSP),
    remediation="Verify every request before the application runs (wssec.wsgi.SecurityMiddleware) "
    "and refuse messages without the signature the policy requires.",
)
register(
    "wssec.untrusted-accepted",
    "Service accepts a request signed by a certificate nobody trusts",
    side=SIDE,
    dimension="access-control",
    severity="critical",
    references=("OASIS WSS X.509 Token Profile 1.1 §3", "RFC 5280 §6"),
    remediation="Validate the signing certificate's chain to a configured trust anchor (and its "
    "validity period) before accepting a signature.",
)
register(
    "wssec.tampered-accepted",
    "Service accepts a request whose Body was changed after signing",
    side=SIDE,
    dimension="access-control",
    severity="critical",
    references=("W3C XML-DSig 1.1 §3.2 Core Validation", f"{WSS} §8"),
    remediation="Verify every ds:Reference digest and the SignatureValue; fail closed.",
)
register(
    "wssec.xsw-accepted",
    "Service accepts an XML Signature Wrapping attack (signed Body moved, evil Body in place)",
    side=SIDE,
    dimension="access-control",
    severity="critical",
    references=(
        OWASP_XSW,
        "Somorovsky et al., On Breaking SAML / XSW (2011, 2012)",
        f"{BSP} R5416",
    ),
    remediation="After verification, process only the nodes the signature covered: the Envelope's "
    "own Body element must be one of them (node identity, not an id or QName match).",
)
register(
    "wssec.replay-accepted",
    "Service accepts the same signed request twice",
    side=SIDE,
    dimension="token-auth",
    severity="high",
    references=(f"{WSS} §10 Security Timestamps", "OASIS WSS UsernameToken Profile 1.1 §4"),
    remediation="Cache signature values (or Timestamp+nonce) for the Timestamp's lifetime and "
    "refuse a second message with the same one.",
)
register(
    "wssec.expired-accepted",
    "Service accepts a validly signed request whose Timestamp has expired",
    side=SIDE,
    dimension="token-auth",
    severity="high",
    references=(f"{WSS} §10", f"{BSP} R3203"),
    remediation="Require a signed wsu:Timestamp and refuse messages outside Created…Expires "
    "(allowing only a small clock skew).",
)
register(
    "wssec.dtd-accepted",
    "Service processes a DOCTYPE with an internal entity",
    side=SIDE,
    dimension="resilience",
    severity="high",
    references=("SOAP 1.1 §3 / SOAP 1.2 Part 1 §5 (no DTD)", "CWE-776", "CWE-611", "OWASP XXE"),
    remediation="Parse SOAP with DTDs and entities disabled and refuse any DOCTYPE outright "
    "(wssec.safexml.parse_xml).",
)
register(
    "wssec.fault-leak",
    "A SOAP Fault discloses internals (stack trace, file paths, library versions)",
    side=SIDE,
    dimension="resilience",
    severity="medium",
    references=("CWE-209", "OWASP ASVS V7.4.1"),
    remediation="Answer errors with a generic SOAP Fault (code and short reason); log the detail "
    "server-side with a correlation id instead.",
)
register(
    "wssec.plain-http",
    "Service answers SOAP over plain HTTP",
    side=SIDE,
    dimension="protocols",
    severity="medium",
    references=("OWASP ASVS V9.1.1", "RFC 9110 §4.2.2"),
    remediation="Serve the endpoint over TLS only (and, when message security is off, never "
    "accept requests over plain HTTP).",
)
register(
    "wssec.audit-events",
    "Security refusals are answered as SOAP Faults that reveal no detail and carry a correlation id",
    side=SIDE,
    dimension="observability",
    severity="low",
    references=("OWASP ASVS V7.1", "OWASP Logging Cheat Sheet"),
    remediation="Log one structured audit line per accepted/refused message (wssec.wsgi) and "
    "return the line's event id to the client so incidents can be correlated.",
)


# ------------------------------------------------------------------ WS-I BSP 1.1


@dataclass(frozen=True)
class BspRule:
    rule: str
    text: str
    dimension: str
    severity: str


BSP_RULES: tuple[BspRule, ...] = (
    BspRule("R3227", "The Security header must not hold more than one Timestamp", "token-auth", "medium"),
    BspRule("R3203", "A Timestamp must hold exactly one Created", "token-auth", "medium"),
    BspRule("R3224", "A Timestamp must not hold more than one Expires", "token-auth", "medium"),
    BspRule("R3221", "Timestamp Created must precede its sibling Expires", "token-auth", "low"),
    BspRule("R3222", "A Timestamp holds only Created and Expires", "token-auth", "low"),
    BspRule("R3217", "Timestamp Created must be an xsd:dateTime in UTC", "token-auth", "low"),
    BspRule("R3223", "Timestamp Expires must be an xsd:dateTime in UTC", "token-auth", "low"),
    BspRule("R3102", "A Signature must not be an enveloping signature", "access-control", "medium"),
    BspRule("R5416", "Every signature Reference must have Transforms", "access-control", "low"),
    BspRule("R5411", "Every Transforms must hold at least one Transform", "access-control", "low"),
    BspRule(
        "R5412",
        "The last Transform must be exc-c14n, STR-Transform or an attachment transform",
        "access-control",
        "low",
    ),
    BspRule(
        "R5423",
        "Transforms are limited to exc-c14n, XPath Filter 2, STR, enveloped and attachment transforms",
        "access-control",
        "medium",
    ),
    BspRule(
        "R5404", "CanonicalizationMethod must be exclusive C14N without comments", "access-control", "low"
    ),
    BspRule("R5403", "A Signature must not contain a ds:Manifest", "access-control", "medium"),
    BspRule("R5401", "SignatureMethod must not carry HMACOutputLength", "access-control", "high"),
    BspRule("R5402", "A signature KeyInfo holds exactly one child", "access-control", "low"),
    BspRule("R5417", "A signature KeyInfo must hold a SecurityTokenReference", "access-control", "low"),
    BspRule("R3061", "A SecurityTokenReference provides exactly one token reference", "token-auth", "low"),
    BspRule(
        "R5205",
        "An internal security token precedes every SecurityTokenReference to it",
        "token-auth",
        "low",
    ),
    BspRule(
        "R5206",
        "A KeyIdentifier to an X.509 token uses SubjectKeyIdentifier or ThumbprintSHA1",
        "token-auth",
        "low",
    ),
    BspRule("R3029", "A BinarySecurityToken must have an EncodingType", "token-auth", "low"),
    BspRule("R3030", "BinarySecurityToken EncodingType must be Base64Binary", "token-auth", "low"),
    BspRule("R3031", "A BinarySecurityToken must have a ValueType", "token-auth", "low"),
    BspRule("R4201", "A UsernameToken Password must have a Type", "token-auth", "low"),
    BspRule("R4222", "A UsernameToken holds at most one Password", "token-auth", "medium"),
    BspRule("R4223", "A UsernameToken holds at most one Created", "token-auth", "medium"),
    BspRule("R4225", "A UsernameToken holds at most one Nonce", "token-auth", "medium"),
    BspRule("R4220", "A Nonce must have an EncodingType", "token-auth", "low"),
    BspRule("R4221", "Nonce EncodingType must be Base64Binary", "token-auth", "low"),
    BspRule(
        "R5621", "EncryptedKey key transport must be rsa-oaep-mgf1p (or rsa-1_5)", "encryption", "medium"
    ),
    BspRule("R5620", "EncryptedData must use AES-128/256-CBC or 3DES-CBC", "encryption", "medium"),
    BspRule("R5601", "EncryptedData must have an EncryptionMethod", "encryption", "low"),
    BspRule("R5603", "EncryptedKey must have an EncryptionMethod", "encryption", "low"),
    BspRule(
        "R3208",
        "An EncryptedKey precedes the EncryptedData it references in the Security header",
        "encryption",
        "low",
    ),
    BspRule(
        "R3228",
        "A SOAP Header must not have EncryptedData children (use EncryptedHeader)",
        "encryption",
        "low",
    ),
)


def bsp_check_id(rule: str) -> str:
    """``R3227`` → ``wssec.bsp-r3227``."""
    return f"wssec.bsp-{rule.lower()}"


for _r in BSP_RULES:
    register(
        bsp_check_id(_r.rule),
        f"BSP {_r.rule}: {_r.text}",
        side=SIDE,
        dimension=_r.dimension,
        severity=_r.severity,
        references=(f"{BSP} {_r.rule}",),
        remediation=f"Produce messages that satisfy WS-I BSP 1.1 {_r.rule} ({_r.text.lower()}); "
        "conformant stacks (WSS4J, WCF, apisec) interoperate and refuse ambiguous security headers.",
    )

register(
    "wssec.bsp-message",
    "Captured message is a processable SOAP envelope",
    side=SIDE,
    dimension="resilience",
    severity="medium",
    references=(BSP, "SOAP 1.1 §4 / SOAP 1.2 Part 1 §5"),
    remediation="Supply one well-formed SOAP 1.1/1.2 envelope without a DOCTYPE.",
)

register(
    "wssec.no-security-header",
    "Captured message carries no wsse:Security header (no message-level security at all)",
    side=SIDE,
    dimension="access-control",
    severity="high",
    references=(f"{WSS} §5", BSP),
    remediation="Sign (and where needed encrypt) every message with WS-Security: a wsse:Security "
    "header with a signed Timestamp and a signature over the Body, as the service's policy requires.",
)
register(
    "wssec.strict-transforms",
    "Every signature Reference carries exactly one exc-c14n transform (apisec strict profile)",
    side=SIDE,
    dimension="access-control",
    severity="low",
    references=(f"{BSP} R5423", "W3C XML-DSig 1.1 §6.6.4 Enveloped Signature Transform"),
    remediation="Sign each Reference with the exclusive-C14N transform alone (node-soap: "
    "signatureTransformations: ['http://www.w3.org/2001/10/xml-exc-c14n#']).  The "
    "enveloped-signature transform BSP allows is accepted by default and refused by "
    "Verifier(strict_transforms=True).",
)

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
BSP_CHECKS = tuple(bsp_check_id(r.rule) for r in BSP_RULES)
MESSAGE_CHECKS = ("wssec.bsp-message", "wssec.no-security-header", *BSP_CHECKS, "wssec.strict-transforms")

__all__ = [
    "BSP_CHECKS",
    "BSP_RULES",
    "BspRule",
    "LIVE_CHECKS",
    "MESSAGE_CHECKS",
    "STATIC_CHECKS",
    "bsp_check_id",
]
