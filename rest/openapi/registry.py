"""The check ids of the static OpenAPI audit (``openapi.*``), looked up in the check catalogue
(``compare/catalogue.toml``, the one place they are declared).

Dimensions follow the live probes in :mod:`rest.http.registry`: who may call
an operation is *access-control*, how credentials travel is *token-auth*,
transport is *protocols*, documented throttling is *resilience*.
"""

from __future__ import annotations

from compare.findings import check_info

NO_SECURITY = check_info("openapi.no-security").check_id
UNPROTECTED_OPERATION = check_info("openapi.unprotected-operation").check_id
PUBLIC_OPERATION = check_info("openapi.public-operation").check_id
BASIC_AUTH = check_info("openapi.basic-auth").check_id
APIKEY_IN_QUERY = check_info("openapi.apikey-in-query").check_id

OAUTH2_IMPLICIT = check_info("openapi.oauth2-implicit").check_id

OAUTH2_PASSWORD = check_info("openapi.oauth2-password").check_id
HTTP_SERVER = check_info("openapi.http-server").check_id
NO_RATE_LIMIT_DOC = check_info("openapi.no-rate-limit-doc").check_id

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
