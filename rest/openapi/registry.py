"""The check ids of the static OpenAPI audit (``openapi.*``), declared once.

Dimensions follow the live probes in :mod:`rest.http.registry`: who may call
an operation is *access-control*, how credentials travel is *token-auth*,
transport is *protocols*, documented throttling is *resilience*.
"""

from __future__ import annotations

from compare.findings import register

NO_SECURITY = register(
    "openapi.no-security",
    "The contract declares security schemes and applies them (globally or per operation)",
    side="rest",
    dimension="access-control",
    severity="high",
    references=("OWASP API2:2023", "OpenAPI 3.1 §4.8.30 (Security Requirement Object)"),
    remediation=(
        "Declare components.securitySchemes and a top-level security requirement so every operation "
        "is protected unless it explicitly opts out."
    ),
).check_id

UNPROTECTED_OPERATION = register(
    "openapi.unprotected-operation",
    "No operation that modifies or deletes (or inherits public access) is unauthenticated",
    side="rest",
    dimension="access-control",
    severity="high",
    references=("OWASP API2:2023", "OWASP API5:2023", "OpenAPI 3.1 §4.8.10 (Operation Object security)"),
    remediation=(
        "Remove 'security: []' (or the empty '{}' alternative) from POST/PUT/PATCH/DELETE operations; "
        "only read-only public resources may opt out of authentication."
    ),
).check_id

PUBLIC_OPERATION = register(
    "openapi.public-operation",
    "Operations declared public on purpose (POST with 'security: []') are known and intended",
    side="rest",
    dimension="access-control",
    severity="low",
    references=("OWASP API2:2023", "OWASP API6:2023", "OpenAPI 3.1 §4.8.10 (Operation Object security)"),
    remediation=(
        "Keep 'security: []' only on operations that must be anonymous (sign-in, sign-up, password "
        "reset) and give them rate limits and answers that reveal nothing (no account enumeration)."
    ),
).check_id

BASIC_AUTH = register(
    "openapi.basic-auth",
    "No HTTP Basic security scheme",
    side="rest",
    dimension="token-auth",
    severity="medium",
    references=("RFC 7617 §4", "OWASP API2:2023"),
    remediation=(
        "Replace Basic (a reusable password on every request) with OAuth 2.0 bearer tokens or mTLS; "
        "if Basic must stay, restrict it to TLS-only servers and machine clients."
    ),
).check_id

APIKEY_IN_QUERY = register(
    "openapi.apikey-in-query",
    "No API key passed in the query string",
    side="rest",
    dimension="token-auth",
    severity="medium",
    references=("RFC 6750 §2.3 and §5.3", "OWASP API2:2023", "CWE-598"),
    remediation="Move the API key to a header ('in: header'); URLs are logged by servers and proxies.",
).check_id

OAUTH2_IMPLICIT = register(
    "openapi.oauth2-implicit",
    "No OAuth 2.0 implicit flow",
    side="rest",
    dimension="token-auth",
    severity="medium",
    references=("RFC 9700 §2.1.2", "OAuth 2.1 draft §10.1"),
    remediation="Use the authorization code flow with PKCE (S256) instead of the implicit flow.",
).check_id

OAUTH2_PASSWORD = register(
    "openapi.oauth2-password",
    "No OAuth 2.0 resource owner password credentials flow",
    side="rest",
    dimension="token-auth",
    severity="high",
    references=("RFC 9700 §2.4", "OAuth 2.1 draft §10.4"),
    remediation=(
        "Drop the password flow (it MUST NOT be used per RFC 9700); use authorization code + PKCE for "
        "users and client credentials for machines."
    ),
).check_id

HTTP_SERVER = register(
    "openapi.http-server",
    "Servers and OAuth endpoints use https:// only",
    side="rest",
    dimension="protocols",
    severity="high",
    references=("OWASP API8:2023", "RFC 6750 §5.3", "RFC 6749 §3.1 / §3.2 (TLS required)"),
    remediation="Publish only https:// server, authorizationUrl, tokenUrl and openIdConnectUrl values.",
).check_id

NO_RATE_LIMIT_DOC = register(
    "openapi.no-rate-limit-doc",
    "Throttling is documented (429 responses)",
    side="rest",
    dimension="resilience",
    severity="info",
    references=("OWASP API4:2023", "RFC 6585 §4"),
    remediation=(
        "Document a 429 response (with Retry-After / RateLimit headers) on the operations, or once in "
        "components.responses referenced by them, so clients know how throttling looks."
    ),
).check_id

ALL = (
    NO_SECURITY,
    UNPROTECTED_OPERATION,
    PUBLIC_OPERATION,
    BASIC_AUTH,
    APIKEY_IN_QUERY,
    OAUTH2_IMPLICIT,
    OAUTH2_PASSWORD,
    HTTP_SERVER,
    NO_RATE_LIMIT_DOC,
)
