"""OAuth 2.0 authorization-server checks from metadata (RFC 8414, RFC 9700).

Each check reads the metadata document; a field that is absent is judged by
its RFC 8414 §2 default (``grant_types_supported`` defaults to
authorization_code + implicit, ``token_endpoint_auth_methods_supported`` to
client_secret_basic, an absent ``code_challenge_methods_supported`` means no
PKCE).  The ids are registered here once; :mod:`rest.oauth.live` adds the
``oauth.token-*`` ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from compare.findings import Finding, Status, check_info, finding
from rest.errors import BadInput, TargetUnreachable, TokenRejected
from rest.jwt.jose import b64url_decode
from rest.oauth.metadata import Metadata, get_json

CHECK_IDS: tuple[str, ...] = tuple(
    check_info(check_id).check_id  # looked up in compare/catalogue.toml
    for check_id in (
        "oauth.issuer-mismatch",
        "oauth.insecure-endpoint",
        "oauth.implicit-grant",
        "oauth.password-grant",
        "oauth.pkce-s256",
        "oauth.none-signing-alg",
        "oauth.client-auth-none",
        "oauth.weak-client-auth",
        "oauth.jwks",
        "oauth.iss-parameter",
        "oauth.par",
    )
)
"""The check ids this module emits (declared in the catalogue, verified at import)."""

_STRONG_AUTH = {"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"}
_SHARED_SECRET = {"client_secret_basic", "client_secret_post", "client_secret_jwt"}
_JOSE_CURVES = {"P-256", "P-384", "P-521", "Ed25519", "Ed448"}
_ECDH_CURVES = {"X25519", "X448"}
_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth")


def _list(md: Metadata, name: str, default: list[str] | None = None) -> list[str] | None:
    v = md.get(name)
    if v is None:
        return default
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def issuer_mismatch(md: Metadata) -> Finding:
    got = md.get("issuer")
    if got == md.issuer_url:
        return finding(
            "oauth.issuer-mismatch", Status.PASS, md.issuer_url, f"issuer matches ({md.kind} at {md.url})"
        )
    if got is None:
        return finding(
            "oauth.issuer-mismatch", Status.FAIL, md.issuer_url, f"metadata at {md.url} has no 'issuer'"
        )
    hint = " (differs only by a trailing slash)" if str(got).rstrip("/") == md.issuer_url.rstrip("/") else ""
    return finding(
        "oauth.issuer-mismatch",
        Status.FAIL,
        md.issuer_url,
        f"metadata issuer is {got!r}, expected {md.issuer_url!r}{hint}",
    )


def insecure_endpoints(md: Metadata) -> Finding:
    bad: list[str] = []
    if not md.issuer_url.startswith("https://"):
        bad.append(f"issuer {md.issuer_url}")
    if not md.url.startswith("https://"):
        bad.append(f"metadata document {md.url}")
    for k, v in md.doc.items():
        if (
            (k.endswith("_endpoint") or k in ("jwks_uri", "issuer"))
            and isinstance(v, str)
            and not v.startswith("https://")
        ):
            bad.append(f"{k} {v}")
    aliases = md.get("mtls_endpoint_aliases")
    if isinstance(aliases, dict):
        bad += [
            f"mtls alias {k} {v}"
            for k, v in aliases.items()
            if isinstance(v, str) and not v.startswith("https://")
        ]
    bad = list(dict.fromkeys(bad))
    if bad:
        return finding("oauth.insecure-endpoint", Status.FAIL, md.issuer_url, "not https: " + "; ".join(bad))
    return finding(
        "oauth.insecure-endpoint", Status.PASS, md.issuer_url, "issuer, metadata and all endpoints are https"
    )


def implicit_grant(md: Metadata) -> Finding:
    rts = _list(md, "response_types_supported", []) or []
    token_rts = [rt for rt in rts if "token" in rt.split()]
    explicit = md.get("grant_types_supported")
    grant_types = _list(md, "grant_types_supported", ["authorization_code", "implicit"]) or []
    if token_rts or (explicit is not None and "implicit" in grant_types):
        parts = []
        if token_rts:
            parts.append("response types " + ", ".join(token_rts))
        if explicit is not None and "implicit" in grant_types:
            parts.append("grant_types_supported lists implicit")
        return finding("oauth.implicit-grant", Status.FAIL, md.issuer_url, "; ".join(parts))
    if explicit is None:
        return finding(
            "oauth.implicit-grant",
            Status.WARN,
            md.issuer_url,
            "grant_types_supported omitted: its RFC 8414 default includes implicit "
            "(no token response type is listed); list the grants explicitly",
        )
    return finding(
        "oauth.implicit-grant", Status.PASS, md.issuer_url, "no implicit grant or token response type"
    )


def password_grant(md: Metadata) -> Finding:
    grant_types = _list(md, "grant_types_supported", ["authorization_code", "implicit"]) or []
    if "password" in grant_types:
        return finding(
            "oauth.password-grant", Status.FAIL, md.issuer_url, "grant_types_supported lists password"
        )
    return finding("oauth.password-grant", Status.PASS, md.issuer_url, "password grant not offered")


def _code_flow(md: Metadata) -> bool:
    grant_types = _list(md, "grant_types_supported", ["authorization_code", "implicit"]) or []
    rts = _list(md, "response_types_supported", []) or []
    return "authorization_code" in grant_types or any("code" in rt.split() for rt in rts)


def pkce_s256(md: Metadata) -> Finding:
    if not _code_flow(md):
        return finding("oauth.pkce-s256", Status.SKIP, md.issuer_url, "no authorization-code flow offered")
    methods = _list(md, "code_challenge_methods_supported")
    if methods is None:
        return finding(
            "oauth.pkce-s256",
            Status.FAIL,
            md.issuer_url,
            "code_challenge_methods_supported omitted: RFC 8414 reads that as no PKCE support",
        )
    if "S256" not in methods:
        extra = "; 'plain' offered (the verifier travels in clear)" if "plain" in methods else ""
        return finding(
            "oauth.pkce-s256", Status.FAIL, md.issuer_url, f"S256 not offered{extra} (methods: {methods})"
        )
    if "plain" in methods:
        # RFC 7636 §4.2 allows 'plain' next to S256 and RFC 9700 §2.1.1 only asks clients to
        # use S256: offering it is a weakness to know about, not a broken control.
        return finding(
            "oauth.pkce-s256",
            Status.WARN,
            md.issuer_url,
            f"S256 offered, and 'plain' too (allowed by RFC 7636; clients must use S256) (methods: {methods})",
        )
    return finding("oauth.pkce-s256", Status.PASS, md.issuer_url, f"PKCE methods: {methods}")


# Lists where 'none' lets an attacker forge what the client trusts: ID tokens
# (OIDC Core §10.1 requires them signed in every flow that returns one from the
# authorization endpoint) and JWT client authentication at an endpoint (RFC 8414
# §2: "none" MUST NOT be used).  'none' in userinfo_signing_alg_values_supported
# or request_object_signing_alg_values_supported is allowed by OpenID Connect
# Discovery (an unsigned UserInfo response over TLS, an unsigned request object
# from a public client) and is not a finding.
def _none_matters(field: str) -> bool:
    return field == "id_token_signing_alg_values_supported" or field.endswith(
        "_endpoint_auth_signing_alg_values_supported"
    )


def none_signing_alg(md: Metadata) -> Finding:
    listed = [k for k, v in md.doc.items()
              if k.endswith("_alg_values_supported") and "signing" in k and isinstance(v, list)
              and any(str(a).lower() == "none" for a in v)]  # fmt: skip
    bad = [k for k in listed if _none_matters(k)]
    if bad:
        return finding(
            "oauth.none-signing-alg", Status.FAIL, md.issuer_url, "'none' listed in " + ", ".join(bad)
        )
    allowed = [k for k in listed if k not in bad]
    note = f" ('none' in {', '.join(allowed)} is allowed by OpenID Connect Discovery)" if allowed else ""
    return finding(
        "oauth.none-signing-alg",
        Status.PASS,
        md.issuer_url,
        "neither ID tokens nor endpoint client authentication may be signed with 'none'" + note,
    )


def client_auth_none(md: Metadata, pkce: Finding) -> Finding:
    fields = [k for k in md.doc if k.endswith("_endpoint_auth_methods_supported")] or []
    token_methods = _list(md, "token_endpoint_auth_methods_supported", ["client_secret_basic"]) or []
    # RFC 7009 §2.1: public clients revoke their own tokens without authenticating,
    # so 'none' at the revocation endpoint is allowed; the token and introspection
    # endpoints are judged.
    allowed = ("token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported")
    offenders = [k for k in fields if k not in allowed and "none" in (_list(md, k) or [])]
    if offenders:
        return finding(
            "oauth.client-auth-none",
            Status.FAIL,
            md.issuer_url,
            "'none' accepted at " + ", ".join(o.replace("_auth_methods_supported", "") for o in offenders),
        )
    if "none" in token_methods:
        if pkce.status is Status.PASS:
            return finding(
                "oauth.client-auth-none",
                Status.WARN,
                md.issuer_url,
                "public clients may use the token endpoint without authentication; PKCE S256 is offered "
                "(make sure it is required for them)",
            )
        return finding(
            "oauth.client-auth-none",
            Status.FAIL,
            md.issuer_url,
            "token endpoint accepts unauthenticated clients and PKCE S256 is not in force",
        )
    return finding(
        "oauth.client-auth-none", Status.PASS, md.issuer_url, f"token endpoint auth methods: {token_methods}"
    )


def weak_client_auth(md: Metadata) -> Finding:
    methods = _list(md, "token_endpoint_auth_methods_supported", ["client_secret_basic"]) or []
    strong = sorted(set(methods) & _STRONG_AUTH)
    if strong:
        return finding(
            "oauth.weak-client-auth", Status.PASS, md.issuer_url, f"asymmetric client auth offered: {strong}"
        )
    shared = sorted(set(methods) & _SHARED_SECRET)
    default = " (RFC 8414 default)" if md.get("token_endpoint_auth_methods_supported") is None else ""
    return finding(
        "oauth.weak-client-auth",
        Status.WARN,
        md.issuer_url,
        f"only shared-secret client authentication: {shared or methods}{default}",
    )


def _b64uint(v: Any) -> bytes | None:
    """A JWK Base64urlUInt member (RFC 7518 §2) decoded by the one JOSE decoder; None if absent
    or not canonical unpadded base64url (a hostile JWKS must yield a problem, not a crash)."""
    if not isinstance(v, str):
        return None
    try:
        return b64url_decode(v)
    except TokenRejected:
        return None


def jwks_problems(doc: Any) -> list[str]:
    """Problems of a published JWKS; never echoes key material."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        return ["not a JWKS (no 'keys' array)"]
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, k in enumerate(doc["keys"]):
        if not isinstance(k, dict):
            out.append(f"key #{i} is not an object")
            continue
        name = f"key #{i}" + (f" (kid {k['kid']!r})" if isinstance(k.get("kid"), str) else "")
        if isinstance(k.get("kid"), str):
            seen[k["kid"]] = seen.get(k["kid"], 0) + 1
        kty = k.get("kty")
        if any(m in k for m in _PRIVATE):
            out.append(f"{name} publishes PRIVATE key members")
        if kty == "oct":
            out.append(f"{name} is a symmetric (oct) secret")
        elif kty == "RSA":
            n = _b64uint(k.get("n"))
            bits = len(n or b"") * 8
            if bits < 2048:
                out.append(f"{name} is RSA {bits} bits (< 2048)")
            if k.get("e") is not None:
                e = _b64uint(k["e"])
                if e is None or int.from_bytes(e, "big") < 3:
                    out.append(f"{name} has a degenerate public exponent")
        elif kty == "OKP" and k.get("crv") in _ECDH_CURVES:
            # RFC 8037 §3.2: X25519/X448 keys are for ECDH-ES key agreement (encryption), fine to
            # publish; only one that claims to sign is wrong.
            if k.get("use") == "sig" or (isinstance(k.get("alg"), str) and not k["alg"].startswith("ECDH")):
                out.append(f"{name} is a {k['crv']} key-agreement key marked for signing")
        elif kty in ("EC", "OKP"):
            if k.get("crv") not in _JOSE_CURVES:
                out.append(f"{name} uses curve {k.get('crv')!r}")
        else:
            out.append(f"{name} has unknown kty {kty!r}")
    out += [f"kid {kid!r} used by {n} keys" for kid, n in seen.items() if n > 1]
    return out


def jwks(md: Metadata, ca_file: str | None, timeout: Any) -> Finding:
    uri = md.get("jwks_uri")
    if not isinstance(uri, str):
        return finding("oauth.jwks", Status.SKIP, md.issuer_url, "no jwks_uri in metadata")
    try:
        status, doc, _ = get_json(uri, ca_file=ca_file, timeout=timeout)
    except (TargetUnreachable, BadInput) as exc:
        return finding("oauth.jwks", Status.ERROR, md.issuer_url, str(exc))
    if status != 200:
        return finding("oauth.jwks", Status.ERROR, md.issuer_url, f"jwks_uri answered HTTP {status}")
    problems = jwks_problems(doc)
    if problems:
        return finding("oauth.jwks", Status.FAIL, md.issuer_url, "; ".join(problems))
    return finding("oauth.jwks", Status.PASS, md.issuer_url, f"{len(doc['keys'])} public key(s), none weak")


def iss_parameter(md: Metadata) -> Finding:
    if md.get("authorization_response_iss_parameter_supported") is True:
        return finding(
            "oauth.iss-parameter", Status.PASS, md.issuer_url, "iss returned in authorization responses"
        )
    return finding(
        "oauth.iss-parameter",
        Status.WARN,
        md.issuer_url,
        "authorization_response_iss_parameter_supported is not true (default false): no mix-up defence",
    )


def par(md: Metadata) -> Finding:
    ep = md.get("pushed_authorization_request_endpoint")
    if isinstance(ep, str):
        req = " and required" if md.get("require_pushed_authorization_requests") is True else ""
        return finding("oauth.par", Status.PASS, md.issuer_url, f"PAR offered{req}")
    return finding("oauth.par", Status.WARN, md.issuer_url, "no pushed_authorization_request_endpoint")


def metadata_checks(md: Metadata, *, ca_file: str | None = None, timeout: Any = (5.0, 10.0)) -> list[Finding]:
    """All static checks over one metadata document, each timed."""
    out: list[Finding] = []

    def timed(fn: Callable[[], Finding]) -> Finding:
        t0 = time.perf_counter()
        f = fn()
        out.append(Finding(**{**f.__dict__, "duration_ms": (time.perf_counter() - t0) * 1000}))
        return out[-1]

    timed(lambda: issuer_mismatch(md))
    timed(lambda: insecure_endpoints(md))
    timed(lambda: implicit_grant(md))
    timed(lambda: password_grant(md))
    pk = timed(lambda: pkce_s256(md))
    timed(lambda: none_signing_alg(md))
    timed(lambda: client_auth_none(md, pk))
    timed(lambda: weak_client_auth(md))
    timed(lambda: jwks(md, ca_file, timeout))
    timed(lambda: iss_parameter(md))
    timed(lambda: par(md))
    return out
