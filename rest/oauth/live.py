"""Live OAuth checks, run only when client credentials are given.

Each request is one an attacker or a careless client could send; the
server's *answer* is judged, not its metadata:

* ``oauth.token-password-refused``: a password grant must be refused as
  ``unsupported_grant_type``/``unauthorized_client``; any other error means
  the server processed the grant (it only disliked the dummy user).
* ``oauth.token-implicit-refused``: ``response_type=token`` must not yield an
  access token in the redirect.
* ``oauth.token-client-credentials``: the client-credentials grant works…
* ``oauth.token-jwt``: …and a JWT access token passes the
  :class:`rest.jwt.Validator` against the issuer's own JWKS (``iss``, RFC 9068
  ``typ``, signature, lifetime).
* ``oauth.token-no-store``: token responses carry ``Cache-Control: no-store``
  (RFC 6749 §5.1).
* ``oauth.token-introspection-auth``: introspection refuses callers without
  client authentication (RFC 7662 §2.1).

Tokens and the client secret never reach findings.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from compare.findings import Finding, Status, check_info, finding
from rest.errors import BadInput, RestCheckError, TokenRejected
from rest.oauth.metadata import Metadata, bounded_request

CHECK_IDS: tuple[str, ...] = tuple(
    check_info(check_id).check_id  # looked up in compare/catalogue.toml
    for check_id in (
        "oauth.token-password-refused",
        "oauth.token-implicit-refused",
        "oauth.token-client-credentials",
        "oauth.token-jwt",
        "oauth.token-no-store",
        "oauth.token-introspection-auth",
    )
)
"""The check ids this module emits (declared in the catalogue, verified at import)."""


class _Client:
    def __init__(
        self, md: Metadata, client_id: str, client_secret: str, ca_file: str | None, timeout: Any
    ) -> None:
        self.md, self.id, self.secret = md, client_id, client_secret
        self.verify: bool | str = ca_file or True
        self.timeout = timeout
        methods = md.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        self.use_basic = "client_secret_basic" in methods or "client_secret_post" not in methods

    def token(self, data: dict[str, str]) -> requests.Response:
        ep = self.md.get("token_endpoint")
        if not isinstance(ep, str):
            raise BadInput("metadata has no token_endpoint")
        _check_secret_destination(ep, self.md.issuer_url)
        auth = (self.id, self.secret) if self.use_basic else None
        if not self.use_basic:
            data = {**data, "client_id": self.id, "client_secret": self.secret}
        return bounded_request(
            "POST", ep, data=data, auth=auth, timeout=self.timeout, verify=self.verify, allow_redirects=False
        )


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_secret_destination(endpoint: str, issuer: str) -> None:
    """The client secret goes only to an https endpoint of the issuer's own host.

    The token endpoint comes from metadata the server under test controls; a
    plain-http or foreign endpoint would receive the secret.  Plain http is
    tolerated on loopback only (local test servers)."""
    ep, iss = urlsplit(endpoint), urlsplit(issuer)
    if ep.scheme != "https" and not (ep.scheme == "http" and ep.hostname in _LOOPBACK):
        raise BadInput(f"not sending client credentials to a non-https token endpoint ({endpoint})")
    if (ep.hostname or "").lower() != (iss.hostname or "").lower():
        raise BadInput(
            f"not sending client credentials to {ep.hostname}: the token endpoint is not on "
            f"the issuer's host {iss.hostname}"
        )


def _err(resp: requests.Response) -> str:
    try:
        body = resp.json()
        return str(body.get("error", "")) if isinstance(body, dict) else ""
    except ValueError:
        return ""


def _line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def live_checks(
    md: Metadata,
    client_id: str,
    client_secret: str,
    *,
    ca_file: str | None = None,
    timeout: Any = (5.0, 10.0),
) -> list[Finding]:
    target = md.issuer_url
    c = _Client(md, client_id, client_secret, ca_file, timeout)
    out: list[Finding] = []

    def guarded(check_id: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        try:
            f = fn()
        except (requests.exceptions.RequestException, RestCheckError) as exc:
            f = finding(check_id, Status.ERROR, target, _line(exc))
        out.append(Finding(**{**f.__dict__, "duration_ms": (time.perf_counter() - t0) * 1000}))
        return f

    # --- client credentials, token format, no-store
    state: dict[str, Any] = {}

    def cc() -> Finding:
        resp = c.token({"grant_type": "client_credentials"})
        state["resp"] = resp
        if resp.status_code == 200:
            try:
                state["token"] = resp.json().get("access_token")
            except ValueError:
                state["token"] = None
            if state["token"]:
                return finding(
                    "oauth.token-client-credentials", Status.PASS, target, "HTTP 200 with an access_token"
                )
            return finding(
                "oauth.token-client-credentials", Status.FAIL, target, "HTTP 200 without access_token"
            )
        return finding(
            "oauth.token-client-credentials",
            Status.WARN,
            target,
            f"client_credentials refused: HTTP {resp.status_code} {_err(resp) or ''}".strip(),
        )

    guarded("oauth.token-client-credentials", cc)
    resp = state.get("resp")
    if resp is not None and resp.status_code == 200:
        cache = resp.headers.get("Cache-Control", "")
        st = Status.PASS if "no-store" in cache.lower() else Status.FAIL
        out.append(
            finding(
                "oauth.token-no-store", st, target, f"token response Cache-Control: {cache or '(absent)'}"
            )
        )
    else:
        out.append(
            finding("oauth.token-no-store", Status.SKIP, target, "no successful token response to inspect")
        )

    def jwt_check() -> Finding:
        token = state.get("token")
        if not token:
            return finding("oauth.token-jwt", Status.SKIP, target, "no access token obtained")
        parts = token.split(".")
        if len(parts) != 3:
            return finding(
                "oauth.token-jwt", Status.SKIP, target, "opaque access token (not a JWS); use introspection"
            )
        from rest.jwt import Validator
        from rest.jwt.jose import unverified_parts
        from rest.jwt.jwks import JWKSClient

        header, claims, _ = unverified_parts(token)
        jwks_uri = md.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            return finding(
                "oauth.token-jwt", Status.FAIL, target, "JWT access token but no jwks_uri to verify it"
            )
        aud = (claims or {}).get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
        algs = [
            a
            for a in (md.get("id_token_signing_alg_values_supported") or [])
            if a and a[:2] in ("RS", "PS", "ES", "Ed")
        ]
        alg = header.get("alg")
        allowed = tuple(
            dict.fromkeys(
                [*algs, alg] if isinstance(alg, str) and alg[:2] in ("RS", "PS", "ES", "Ed") else algs
            )
        ) or ("RS256",)
        try:
            client = JWKSClient(jwks_uri, ca_file=ca_file, timeout=timeout)
            v = Validator(
                jwks_client=client,
                algorithms=allowed,
                issuer=md.issuer_url,
                audience=auds,
                require=("exp", "iat", "iss"),
                typ="at+jwt",
            )
            claims_ok = v.validate(token)
        except TokenRejected as exc:
            return finding(
                "oauth.token-jwt", Status.FAIL, target, f"access token refused by the validator: {exc}"
            )
        except BadInput as exc:
            return finding("oauth.token-jwt", Status.FAIL, target, f"issuer keys unusable: {exc}")
        life = int(claims_ok["exp"] - claims_ok["iat"])
        if life > 24 * 3600:
            return finding(
                "oauth.token-jwt", Status.WARN, target, f"valid at+jwt, but lives {life // 3600} h"
            )
        return finding(
            "oauth.token-jwt", Status.PASS, target, f"valid at+jwt ({header.get('alg')}, lifetime {life}s)"
        )

    guarded("oauth.token-jwt", jwt_check)

    # --- password grant
    def password() -> Finding:
        resp = c.token(
            {"grant_type": "password", "username": "apisec-probe", "password": secrets.token_urlsafe(12)}
        )
        err = _err(resp)
        if resp.status_code == 200:
            return finding(
                "oauth.token-password-refused", Status.FAIL, target, "password grant issued a token"
            )
        if err in ("unsupported_grant_type", "unauthorized_client"):
            return finding("oauth.token-password-refused", Status.PASS, target, f"refused: {err}")
        return finding(
            "oauth.token-password-refused",
            Status.FAIL,
            target,
            f"password grant processed (HTTP {resp.status_code} {err or 'no error code'} for dummy "
            "credentials): ROPC is enabled",
        )

    guarded("oauth.token-password-refused", password)

    # --- implicit
    def implicit() -> Finding:
        ep = md.get("authorization_endpoint")
        if not isinstance(ep, str):
            return finding("oauth.token-implicit-refused", Status.SKIP, target, "no authorization_endpoint")
        params = {"response_type": "token", "client_id": client_id, "state": "apisec"}
        resp = bounded_request(
            "GET", ep, params=params, timeout=timeout, verify=c.verify, allow_redirects=False
        )
        loc = resp.headers.get("Location", "")
        frag = parse_qs(urlsplit(loc).fragment)
        query = parse_qs(urlsplit(loc).query)
        if "access_token" in frag or "access_token" in query:
            return finding(
                "oauth.token-implicit-refused", Status.FAIL, target, "access token returned in the redirect"
            )
        err = (frag.get("error") or query.get("error") or [None])[0] or _err(resp)
        if err in ("unsupported_response_type", "unauthorized_client"):
            return finding("oauth.token-implicit-refused", Status.PASS, target, f"refused: {err}")
        if resp.status_code == 200 and not err:
            return finding(
                "oauth.token-implicit-refused",
                Status.WARN,
                target,
                "a page was shown for response_type=token (login/consent?): implicit may be enabled",
            )
        return finding(
            "oauth.token-implicit-refused",
            Status.WARN,
            target,
            f"inconclusive: HTTP {resp.status_code} {err or ''}".strip(),
        )

    guarded("oauth.token-implicit-refused", implicit)

    # --- introspection without client authentication
    def introspection() -> Finding:
        ep = md.get("introspection_endpoint")
        if not isinstance(ep, str):
            return finding("oauth.token-introspection-auth", Status.SKIP, target, "no introspection_endpoint")
        token = state.get("token") or secrets.token_urlsafe(24)
        resp = bounded_request(
            "POST", ep, data={"token": token}, timeout=timeout, verify=c.verify, allow_redirects=False
        )
        if resp.status_code == 200:
            try:
                active = json.loads(resp.text).get("active")
            except (ValueError, AttributeError):
                active = None
            return finding(
                "oauth.token-introspection-auth",
                Status.FAIL,
                target,
                f"unauthenticated introspection answered HTTP 200 (active={active})",
            )
        return finding(
            "oauth.token-introspection-auth",
            Status.PASS,
            target,
            f"refused without client authentication: HTTP {resp.status_code} {_err(resp)}".strip(),
        )

    guarded("oauth.token-introspection-auth", introspection)
    return out
