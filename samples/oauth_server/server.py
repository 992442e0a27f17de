"""A real OAuth 2.0 authorization server on Authlib's framework-agnostic
server classes, served by Starlette under uvicorn.

Two configurations exist so ``apisec rest oauth`` has something true to
judge: :data:`SECURE` (RFC 9700 shaped: code + PKCE S256 only, client
credentials, private_key_jwt, RFC 9207 ``iss``, JWT access tokens per RFC
9068, no-store token responses, authenticated introspection, metadata at the
RFC 8414 path-inserted location) and :data:`INSECURE` (implicit and password
grants, PKCE ``plain`` and optional, ``none`` client auth, an ``http://``
endpoint, the private signing key published in the JWKS, cacheable token
responses, open introspection, metadata only at ``openid-configuration``).

Authlib does the protocol (grants, client authentication, PKCE, RFC 9068
token generation, RFC 7662 introspection, RFC 9207); this module provides the
storage, the request/response glue and the two policies.  The end user is
auto-approved (there is no login page): it is a test server.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apisec_samples.serving import RunningServer, serve_asgi


@dataclass(frozen=True)
class ServerConfig:
    """One authorization-server policy."""

    name: str
    issuer_path: str = ""
    """Path part of the issuer (``/realms/x``): exercises RFC 8414 path insertion."""
    grant_types: tuple[str, ...] = ("authorization_code", "client_credentials")
    response_types: tuple[str, ...] = ("code",)
    pkce_methods: tuple[str, ...] = ("S256",)
    pkce_required: bool = True
    """Every authorization request must carry a code_challenge (RFC 9700 §2.1.1)."""
    token_auth_methods: tuple[str, ...] = ("client_secret_basic", "private_key_jwt")
    """``tls_client_auth`` here needs a TLS-terminating proxy in front (see
    :func:`_tls_client_auth`) and a client's ``tls_client_auth_subject_dn``."""
    signing_algs_advertised: tuple[str, ...] = ("RS256", "ES256")
    iss_parameter: bool = True
    no_store: bool = True
    introspection_requires_auth: bool = True
    publish_private_jwk: bool = False
    http_endpoint: bool = False
    """Advertise a plain-http revocation endpoint (transport weakness)."""
    rfc8414_metadata: bool = True
    """False: metadata only at /.well-known/openid-configuration."""
    access_token_lifetime: int = 300
    dpop: bool = False
    """Advertise and issue DPoP-bound access tokens (RFC 9449) when the token
    request carries a valid DPoP proof (``cnf.jkt`` in the token)."""
    dpop_nonce: bool = False
    """With ``dpop``: demand a server nonce in token-request proofs (RFC 9449
    §8: 400 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header)."""


SECURE = ServerConfig("secure", issuer_path="/realms/secure")
INSECURE = ServerConfig(
    "insecure",
    grant_types=("authorization_code", "implicit", "password", "client_credentials"),
    response_types=("code", "token"),
    pkce_methods=("plain", "S256"),
    pkce_required=False,
    token_auth_methods=("client_secret_basic", "client_secret_post", "none"),
    signing_algs_advertised=("none", "HS256", "RS256"),
    iss_parameter=False,
    no_store=False,
    introspection_requires_auth=False,
    publish_private_jwk=True,
    http_endpoint=True,
    rfc8414_metadata=False,
    access_token_lifetime=86400 * 7,
)
CONFIGS = {"secure": SECURE, "insecure": INSECURE}

_DPOP_JKT: ContextVar[str | None] = ContextVar("dpop_jkt", default=None)
"""Thumbprint of the DPoP key proven in the token request being handled."""

REDIRECT_URI = "https://client.apisec.test/callback"
AUDIENCE = "https://api.apisec.test"


# ---------------------------------------------------------------- models


class User:
    def __init__(self, user_id: str, password: str) -> None:
        self.id, self.password = user_id, password

    def get_user_id(self) -> str:
        return self.id


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    auth_methods: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,)
    jwks: dict[str, Any] | None = None
    tls_client_auth_subject_dn: str | None = None
    """RFC 8705 §2.1.2: the certificate subject (RFC 4514 string) that
    authenticates this client by ``tls_client_auth``."""

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = {"read", "write"}
        return " ".join(s for s in (scope or "read").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class IssuedToken:
    access_token: str
    client_id: str
    scope: str | None
    user: str | None
    issued_at: int
    expires_in: int
    revoked: bool = False

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked

    def get_scope(self) -> str | None:
        return self.scope


@dataclass
class Store:
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    jtis: set[str] = field(default_factory=set)
    users: dict[str, User] = field(default_factory=dict)


# ---------------------------------------------------------------- request/response glue


class _Payload(OAuth2Payload):
    def __init__(self, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> None:
        self._datalist: dict[str, list[str]] = defaultdict(list)
        for k, v in [*query, *form]:
            self._datalist[k].append(v)
        self._data = {k: v[0] for k, v in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    """Authlib's request model filled from an already-read Starlette request."""

    def __init__(self, method: str, url: str, headers: Any, query: list, form: list) -> None:
        super().__init__(method=method, uri=url, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload(query, form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class PlainResponse:
    """What ``handle_response`` returns; ``location`` is writable for RFC 9207."""

    def __init__(self, status: int, body: Any, headers: list[tuple[str, str]]) -> None:
        self.status, self.body, self.headers = status, body, list(headers)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"] + [("Location", value)]


# ---------------------------------------------------------------- Authlib subclasses


class SampleServer(AuthorizationServer):
    def __init__(self, cfg: ServerConfig, store: Store) -> None:
        super().__init__(scopes_supported=["read", "write"])
        self.cfg, self.store = cfg, store

    def query_client(self, client_id: str) -> Client | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.store.tokens[token["access_token"]] = IssuedToken(
            token["access_token"], request.client.get_client_id(), token.get("scope"),
            request.user.get_user_id() if request.user else None, int(time.time()), int(token.get("expires_in", 0)),
        )  # fmt: skip

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> PlainResponse:
        headers = list(headers or [])
        if not self.cfg.no_store:  # the weakness: token responses become cacheable
            headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "pragma")]
        return PlainResponse(status, body, headers)


def _tls_client_auth(query_client: Any, request: OAuth2Request) -> Client | None:
    """RFC 8705 §2.1.2 ``tls_client_auth`` behind a TLS-terminating proxy.

    uvicorn does not hand the peer certificate to the app, so the proxy in
    front (nginx: ``ssl_verify_client``, ``proxy_set_header X-SSL-Client-Verify
    $ssl_client_verify`` and ``X-SSL-Client-Cert $ssl_client_escaped_cert``)
    verifies the chain and forwards the certificate; the server then requires
    a verified certificate whose subject is the one registered for the
    client.  The server must be reachable only through that proxy (the
    proxy overwrites whatever the client sent in those headers)."""
    from urllib.parse import unquote

    from cryptography import x509

    client = query_client(request.form.get("client_id") or "")
    if client is None or client.tls_client_auth_subject_dn is None:
        return None
    if request.headers.get("x-ssl-client-verify") != "SUCCESS":
        return None
    try:
        cert = x509.load_pem_x509_certificate(unquote(request.headers.get("x-ssl-client-cert", "")).encode())
    except ValueError:
        return None
    if cert.subject.rfc4514_string() != client.tls_client_auth_subject_dn:
        return None
    return client


def _grants(cfg: ServerConfig, store: Store):
    methods = list(cfg.token_auth_methods)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = methods

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            data = request.payload.data
            store.codes[code] = AuthCode(
                code, request.client.get_client_id(), request.payload.redirect_uri or REDIRECT_URI,
                request.payload.scope or "read", request.user, data.get("code_challenge"),
                data.get("code_challenge_method"), time.time() + 60,
            )  # fmt: skip

        def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
            item = store.codes.get(code)
            if item and item.client_id == client.get_client_id() and item.expires_at > time.time():
                return item
            return None

        def delete_authorization_code(self, authorization_code: AuthCode) -> None:
            store.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthCode) -> User:
            return authorization_code.user

    class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = methods

        def authenticate_user(self, username: str, password: str) -> User | None:
            user = store.users.get(username)
            if user and secrets.compare_digest(user.password.encode(), (password or "").encode()):
                return user
            return None

    class CCGrant(grants.ClientCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = methods

    class Pkce(CodeChallenge):
        SUPPORTED_CODE_CHALLENGE_METHOD = list(cfg.pkce_methods)

        def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
            if cfg.pkce_required and not grant.request.payload.data.get("code_challenge"):
                from authlib.oauth2.rfc6749 import InvalidRequestError

                raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
            method = grant.request.payload.data.get("code_challenge_method")
            if cfg.pkce_required and (method or "plain") not in cfg.pkce_methods:
                from authlib.oauth2.rfc6749 import InvalidRequestError

                raise InvalidRequestError("Unsupported 'code_challenge_method'")
            super().validate_code_challenge(grant, redirect_uri)

    return CodeGrant, PasswordGrant, CCGrant, Pkce


class AuthorizationService:
    """The server state and its Starlette app."""

    def __init__(self, cfg: ServerConfig, base_url: str) -> None:
        self.cfg = cfg
        self.base_url = base_url.rstrip("/")
        self.issuer = self.base_url + cfg.issuer_path
        self.signing_key = RSAKey.generate_key(2048)
        self.kid = "as-" + secrets.token_hex(4)
        self.store = Store()
        self.client_id = f"apisec-{cfg.name}-client"
        self.client_secret = secrets.token_urlsafe(32)
        self.client_key = RSAKey.generate_key(2048)
        self.store.clients[self.client_id] = Client(
            self.client_id, self.client_secret, cfg.token_auth_methods, tuple(cfg.grant_types),
            tuple(cfg.response_types), jwks={"keys": [self.client_key.as_dict(private=False)]},
        )  # fmt: skip
        self.user_password = secrets.token_urlsafe(12)
        self.store.users["alice"] = User("alice", self.user_password)
        self.server = self._build()
        from rest.jwt.dpop import DPoPNonces, ProofChecker

        self.dpop_nonces = DPoPNonces() if cfg.dpop_nonce else None
        self.dpop_checker = ProofChecker(nonces=self.dpop_nonces)

    # ---------------------------------------------------------------- wiring
    def private_jwk(self) -> dict[str, Any]:
        return {**self.signing_key.as_dict(private=True), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_jwks(self) -> dict[str, Any]:
        if self.cfg.publish_private_jwk:
            return {"keys": [self.private_jwk()]}
        return {
            "keys": [
                {**self.signing_key.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": "RS256"}
            ]
        }

    def _build(self) -> SampleServer:
        cfg, store, svc = self.cfg, self.store, self
        server = SampleServer(cfg, store)

        class TokenGen(JWTBearerTokenGenerator):
            def get_jwks(self) -> KeySet:
                return KeySet.import_key_set({"keys": [svc.private_jwk()]})

            def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
                return AUDIENCE

            def get_extra_claims(self, client: Any, grant_type: str, user: Any, scope: Any) -> dict[str, Any]:
                jkt = _DPOP_JKT.get()
                return {"cnf": {"jkt": jkt}} if jkt else {}

        gen = TokenGen(self.issuer, alg="RS256")
        gen.GRANT_TYPES_EXPIRES_IN = defaultdict(lambda: cfg.access_token_lifetime)
        gen.DEFAULT_EXPIRES_IN = cfg.access_token_lifetime
        server.register_token_generator("default", gen)

        code_grant, password_grant, cc_grant, pkce = _grants(cfg, store)
        server.register_grant(code_grant, [pkce(required=cfg.pkce_required)])
        if "client_credentials" in cfg.grant_types:
            server.register_grant(cc_grant)
        if "password" in cfg.grant_types:
            server.register_grant(password_grant)
        if "implicit" in cfg.grant_types:
            server.register_grant(grants.ImplicitGrant)
        if "private_key_jwt" in cfg.token_auth_methods:

            class PrivateKeyJWT(JWTBearerClientAssertion):
                CLIENT_AUTH_METHOD = "private_key_jwt"

                def get_audiences(self) -> list[str]:
                    return [svc.issuer, svc.issuer + "/token"]

                def validate_jti(self, claims: Any, jti: str) -> bool:
                    if jti in store.jtis:
                        return False
                    store.jtis.add(jti)
                    return True

                def resolve_client_public_key(self, client: Client) -> Any:
                    return KeySet.import_key_set(client.jwks)

            server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
        if "tls_client_auth" in cfg.token_auth_methods:
            server.register_client_auth_method("tls_client_auth", _tls_client_auth)
        if cfg.iss_parameter:

            class Iss(IssuerParameter):
                def get_issuer(self) -> str:
                    return svc.issuer

            server.register_extension(Iss())

        class Introspection(IntrospectionEndpoint):
            CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def authenticate_endpoint_client(self, request: Any) -> Any:
                if not cfg.introspection_requires_auth:  # the weakness
                    request.client = None
                    return None
                return super().authenticate_endpoint_client(request)

            def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
                return store.tokens.get(token_string)

            def check_permission(self, token: Any, client: Any, request: Any) -> bool:
                return True

            def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
                return {
                    "active": True, "client_id": token.client_id, "scope": token.scope,
                    "sub": token.user or token.client_id, "iss": svc.issuer,
                    "exp": token.issued_at + token.expires_in, "token_type": "Bearer",
                }  # fmt: skip

        server.register_endpoint(Introspection)
        return server

    # ---------------------------------------------------------------- metadata
    def metadata(self) -> dict[str, Any]:
        cfg, iss = self.cfg, self.issuer
        doc: dict[str, Any] = {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "jwks_uri": f"{iss}/jwks",
            "introspection_endpoint": f"{iss}/introspect",
            "scopes_supported": ["read", "write"],
            "response_types_supported": list(cfg.response_types),
            "response_modes_supported": ["query", "fragment"] if "token" in cfg.response_types else ["query"],
            "grant_types_supported": list(cfg.grant_types),
            "token_endpoint_auth_methods_supported": list(cfg.token_auth_methods),
            "token_endpoint_auth_signing_alg_values_supported": list(cfg.signing_algs_advertised),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": list(cfg.pkce_methods),
            "authorization_response_iss_parameter_supported": cfg.iss_parameter,
        }
        if cfg.dpop:
            doc["dpop_signing_alg_values_supported"] = ["ES256", "RS256", "PS256"]
        if cfg.http_endpoint:
            u = urlsplit(iss)
            doc["revocation_endpoint"] = f"http://{u.hostname}:{u.port}{u.path}/revoke"
        return doc

    # ---------------------------------------------------------------- ASGI
    async def _oauth_request(self, request: Request) -> StarletteOAuth2Request:
        form: list[tuple[str, str]] = []
        if request.method == "POST":
            body = await request.body()
            if len(body) > 64 * 1024:
                body = b""
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return StarletteOAuth2Request(
            request.method, str(request.url), request.headers, list(request.query_params.multi_items()), form
        )

    @staticmethod
    def _to_starlette(resp: PlainResponse) -> Response:
        headers = {k: v for k, v in resp.headers if k.lower() != "content-type"}
        if isinstance(resp.body, (dict, list)):
            return Response(json.dumps(resp.body), resp.status, headers, media_type="application/json")
        return Response(resp.body or "", resp.status, headers, media_type="application/json")

    def asgi(self) -> Starlette:
        svc = self
        prefix = self.cfg.issuer_path

        async def authorize(request: Request) -> Response:
            req = await svc._oauth_request(request)
            user = svc.store.users["alice"]  # auto-approved end user
            try:
                grant = svc.server.get_consent_grant(req, end_user=user)
            except OAuth2Error as err:
                return svc._to_starlette(svc.server.handle_error_response(req, err))
            return svc._to_starlette(
                svc.server.create_authorization_response(req, grant_user=user, grant=grant)
            )

        async def token(request: Request) -> Response:
            jkt = None
            proofs = request.headers.getlist("dpop")
            if svc.cfg.dpop and proofs:
                from rest.errors import TokenRejected  # the same proof rules as the resource server
                from rest.jwt.dpop import UseDPoPNonce

                try:
                    if len(proofs) != 1:
                        raise TokenRejected("more than one DPoP header")
                    jkt = svc.dpop_checker.check(proofs[0], "POST", str(request.url))
                except UseDPoPNonce as exc:  # RFC 9449 §8
                    return JSONResponse(
                        {
                            "error": "use_dpop_nonce",
                            "error_description": "Authorization server requires nonce in DPoP proof",
                        },
                        status_code=400,
                        headers={"DPoP-Nonce": exc.nonce, "Cache-Control": "no-store"},
                    )
                except TokenRejected:
                    return JSONResponse({"error": "invalid_dpop_proof"}, status_code=400)
            reset = _DPOP_JKT.set(jkt)
            try:
                resp = svc.server.create_token_response(await svc._oauth_request(request))
            finally:
                _DPOP_JKT.reset(reset)
            if jkt and resp.status == 200 and isinstance(resp.body, dict):
                resp.body["token_type"] = "DPoP"
            out = svc._to_starlette(resp)
            if svc.dpop_nonces is not None:  # the current nonce with every answer (rotation)
                out.headers["DPoP-Nonce"] = svc.dpop_nonces.current()
            return out

        async def introspect(request: Request) -> Response:
            return svc._to_starlette(
                svc.server.create_endpoint_response("introspection", await svc._oauth_request(request))
            )

        async def jwks(request: Request) -> Response:
            return JSONResponse(svc.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

        async def metadata(request: Request) -> Response:
            return JSONResponse(svc.metadata())

        routes = [
            Route(f"{prefix}/authorize", authorize, methods=["GET", "POST"]),
            Route(f"{prefix}/token", token, methods=["POST"]),
            Route(f"{prefix}/introspect", introspect, methods=["POST"]),
            Route(f"{prefix}/jwks", jwks),
        ]
        if self.cfg.rfc8414_metadata:  # RFC 8414 §3.1: well-known inserted before the issuer path
            routes.append(Route(f"/.well-known/oauth-authorization-server{prefix}", metadata))
        else:  # OpenID Connect Discovery: appended to the issuer
            routes.append(Route(f"{prefix}/.well-known/openid-configuration", metadata))
        return Starlette(routes=routes)


def serve(
    config: ServerConfig | str = "secure",
    host: str = "127.0.0.1",
    port: int = 0,
    tls: tuple[Any, Any] | None = None,
) -> RunningServer:
    """Start an authorization server; returns a handle with ``.url`` (the
    issuer, path included), ``.stop()`` and ``extra['service']`` (client id,
    secret, user password and keys for tests)."""
    import socket

    cfg = CONFIGS[config] if isinstance(config, str) else config
    if port == 0:  # the issuer needs the port before the app exists
        s = socket.socket()
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
    scheme = "https" if tls else "http"
    service = AuthorizationService(cfg, f"{scheme}://{host}:{port}")
    running = serve_asgi(service.asgi(), host, port, tls)
    running.url = service.issuer
    running.extra["service"] = service
    return running
