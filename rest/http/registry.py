"""The check ids of the live HTTP probes (``http.*``) and the roles-matrix
probes (``authz.*``), looked up in the check catalogue
(``compare/catalogue.toml``, the one place they are declared).

Ids, sides and dimensions are contracts the compare engine and CI baselines
rely on.  Dimension choice, kept consistent across the rest side: whether a
request is let in at all is *access-control*; how credentials travel is
*token-auth*; what the transport and response headers do is *protocols*;
surviving abuse and failing quietly is *resilience*; what the service tells
about itself is *observability*.
"""

from __future__ import annotations

from compare.findings import check_info

AUTH_NOT_ENFORCED = check_info("http.auth-not-enforced").check_id
CORS = check_info("http.cors").check_id
SECURITY_HEADERS = check_info("http.security-headers").check_id
ERROR_LEAK = check_info("http.error-leak").check_id
SERVER_BANNER = check_info("http.server-banner").check_id
DANGEROUS_METHODS = check_info("http.dangerous-methods").check_id
PLAIN_HTTP = check_info("http.plain-http").check_id
BASIC_OVER_HTTP = check_info("http.basic-over-http").check_id
APIKEY_IN_QUERY = check_info("http.apikey-in-query").check_id
RATE_LIMIT = check_info("http.rate-limit").check_id
BOLA = check_info("authz.bola").check_id
BFLA = check_info("authz.bfla").check_id

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
