"""The check ids of the live HTTP probes (``http.*``) and the roles-matrix
probes (``authz.*``), declared once.

Ids, sides and dimensions are contracts the compare engine and CI baselines
rely on.  Dimension choice, kept consistent across the rest side: whether a
request is let in at all is *access-control*; how credentials travel is
*token-auth*; what the transport and response headers do is *protocols*;
surviving abuse and failing quietly is *resilience*; what the service tells
about itself is *observability*.
"""

from __future__ import annotations

from compare.findings import register

AUTH_NOT_ENFORCED = register(
    "http.auth-not-enforced",
    "Authentication is enforced (no credentials or a garbage token is refused)",
    side="rest",
    dimension="access-control",
    severity="critical",
    references=("OWASP API2:2023", "RFC 6750 §3.1", "RFC 9110 §15.5.2"),
    remediation=(
        "Authenticate every protected route in one place (middleware/gateway) and answer 401 "
        "with WWW-Authenticate when the credential is missing, malformed or fails verification."
    ),
).check_id

CORS = register(
    "http.cors",
    "CORS does not reflect arbitrary or null origins with credentials",
    side="rest",
    dimension="protocols",
    severity="high",
    references=("OWASP API8:2023", "Fetch Standard §3.2 (CORS protocol)", "CWE-942"),
    remediation=(
        "Answer Access-Control-Allow-Origin only for an explicit allow-list of origins; never echo "
        "the Origin header or 'null' back together with Access-Control-Allow-Credentials: true."
    ),
).check_id

SECURITY_HEADERS = register(
    "http.security-headers",
    "Authenticated responses carry the API security headers",
    side="rest",
    dimension="protocols",
    severity="medium",
    references=(
        "OWASP API8:2023",
        "OWASP REST Security Cheat Sheet (Security Headers)",
        "RFC 6797 (HSTS)",
        "RFC 9111 §5.2.2.5 (no-store)",
    ),
    remediation=(
        "Send X-Content-Type-Options: nosniff, Cache-Control: no-store, "
        "Content-Security-Policy: frame-ancestors 'none' (or X-Frame-Options: DENY) and, over HTTPS, "
        "Strict-Transport-Security with a max-age on every authenticated response."
    ),
).check_id

ERROR_LEAK = register(
    "http.error-leak",
    "Error responses do not leak stack traces, paths, SQL errors or versions",
    side="rest",
    dimension="resilience",
    severity="medium",
    references=("OWASP API8:2023", "CWE-209", "CWE-497"),
    remediation=(
        "Turn debug mode off and map every exception to a generic error body (a problem+json with "
        "a correlation id); log the details server-side only."
    ),
).check_id

SERVER_BANNER = register(
    "http.server-banner",
    "Server / X-Powered-By headers do not disclose product versions",
    side="rest",
    dimension="observability",
    severity="low",
    references=("OWASP API8:2023", "CWE-200", "RFC 9110 §10.2.4"),
    remediation="Drop X-Powered-By and reduce Server to a product name without a version (or remove it).",
).check_id

DANGEROUS_METHODS = register(
    "http.dangerous-methods",
    "TRACE / TRACK are disabled",
    side="rest",
    dimension="protocols",
    severity="medium",
    references=("OWASP API8:2023", "RFC 9110 §9.3.8", "CWE-693 (cross-site tracing)"),
    remediation="Refuse TRACE and TRACK with 405 (or 501) at the server and any proxy in front of it.",
).check_id

PLAIN_HTTP = register(
    "http.plain-http",
    "The API is not served over plain HTTP (or plain HTTP only redirects to HTTPS)",
    side="rest",
    dimension="protocols",
    severity="high",
    references=("OWASP API8:2023", "RFC 9110 §4.2.2", "RFC 6750 §5.3", "RFC 6797"),
    remediation=(
        "Serve the API only over TLS; if a plain-HTTP listener must exist, answer every request "
        "with a redirect (301/308) to https:// and never process it."
    ),
).check_id

BASIC_OVER_HTTP = register(
    "http.basic-over-http",
    "Basic credentials are not accepted or requested over plain HTTP",
    side="rest",
    dimension="token-auth",
    severity="critical",
    references=("RFC 7617 §4", "OWASP API2:2023", "CWE-319"),
    remediation="Never challenge for or accept Basic authentication on a cleartext listener; require TLS.",
).check_id

APIKEY_IN_QUERY = register(
    "http.apikey-in-query",
    "Credentials are not accepted in the query string",
    side="rest",
    dimension="token-auth",
    severity="medium",
    references=("RFC 6750 §2.3 and §5.3", "OWASP API2:2023", "CWE-598"),
    remediation=(
        "Accept tokens and API keys only in a header (Authorization or a dedicated header); URLs end "
        "up in access logs, proxies, browser history and Referer headers."
    ),
).check_id

RATE_LIMIT = register(
    "http.rate-limit",
    "A burst of requests is throttled with 429 and Retry-After / RateLimit headers",
    side="rest",
    dimension="resilience",
    severity="medium",
    references=(
        "OWASP API4:2023",
        "RFC 6585 §4",
        "RFC 9110 §10.2.3 (Retry-After)",
        "draft-ietf-httpapi-ratelimit-headers",
    ),
    remediation=(
        "Limit requests per client/credential and answer 429 Too Many Requests with Retry-After "
        "(and RateLimit / RateLimit-Policy headers) when the quota is spent."
    ),
).check_id

BOLA = register(
    "authz.bola",
    "A user cannot reach another user's object (object-level authorization)",
    side="rest",
    dimension="access-control",
    severity="high",
    references=("OWASP API1:2023", "CWE-639"),
    remediation=(
        "Check on every object access that the authenticated subject owns (or may see) that object; "
        "never trust an id from the path or body alone."
    ),
).check_id

BFLA = register(
    "authz.bfla",
    "A lower role cannot call a higher role's function (function-level authorization)",
    side="rest",
    dimension="access-control",
    severity="high",
    references=("OWASP API5:2023", "CWE-285"),
    remediation=(
        "Deny by default and grant each administrative or privileged operation to explicit roles/"
        "scopes, checked server-side for every method of the route."
    ),
).check_id

ALL = (
    AUTH_NOT_ENFORCED,
    CORS,
    SECURITY_HEADERS,
    ERROR_LEAK,
    SERVER_BANNER,
    DANGEROUS_METHODS,
    PLAIN_HTTP,
    BASIC_OVER_HTTP,
    APIKEY_IN_QUERY,
    RATE_LIMIT,
    BOLA,
    BFLA,
)
