"""OAuth 2.0 client credentials for requests and httpx, on Authlib.

Authlib does the protocol: the token request, client authentication
(``client_secret_basic``, ``private_key_jwt`` per RFC 7523 §2.2 through
:class:`authlib.oauth2.rfc7523.PrivateKeyJWT`, or ``tls_client_auth`` per
RFC 8705 where the TLS client certificate is the credential), and fetching
a new token ``leeway`` seconds *before* the cached one expires.  This module
picks the method from what you give, wires the TLS context from a
``rest tls`` profile, and turns Authlib's errors into
:class:`rest.errors.TokenRequestFailed` with the OAuth error code only.

>>> creds = ClientCredentials(token_endpoint, "my-client", private_key=pem)
>>> session = requests_session(creds, ca_file="ca.pem")
>>> session.get("https://api.example/orders")       # Bearer added, renewed in time
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MissingTokenError
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from requests.adapters import HTTPAdapter

from rest.client.tls import client_ssl_context
from rest.errors import BadInput, RestCheckError, TargetUnreachable, TokenRequestFailed
from rest.jwt.dpop import NONCE_SYNTAX, DPoPKey
from rest.oauth.metadata import get_json
from rest.tls.profiles import DEFAULT_PROFILE, Profile


@dataclass(frozen=True)
class ClientCredentials:
    """One confidential client of one authorization server.  Exactly one
    credential: ``client_secret``, ``private_key`` or ``client_cert``."""

    token_endpoint: str
    """The AS token endpoint (https only)."""
    client_id: str
    client_secret: str | None = None
    """``client_secret_basic`` (RFC 6749 §2.3.1)."""
    private_key: Any = None
    """``private_key_jwt`` (RFC 7523): PEM bytes/str or a private JWK dict."""
    key_id: str | None = None
    """``kid`` of the assertion's header (when the AS holds several client keys)."""
    client_cert: tuple[str | Path, str | Path] | None = None
    """``tls_client_auth`` (RFC 8705 §2): certificate and key files; with the
    other credentials it is only the TLS identity (certificate-bound tokens)."""
    scope: str | None = None
    leeway: int = 60
    """Renew the token this many seconds before ``expires_in`` runs out."""
    timeout: float = 10.0
    dpop: bool | None = None
    """DPoP (RFC 9449, :func:`requests_session` only): ``None`` uses it when
    the AS metadata at ``metadata_url`` advertises ES256 in
    ``dpop_signing_alg_values_supported``; ``True`` always; ``False`` never."""
    metadata_url: str | None = None
    """The AS metadata document (RFC 8414), read when ``dpop`` is ``None``."""

    def __post_init__(self) -> None:
        if not self.token_endpoint.startswith("https://"):
            raise BadInput("token endpoint must be https://")
        given = [x is not None for x in (self.client_secret, self.private_key)]
        if sum(given) > 1 or (sum(given) == 0 and self.client_cert is None):
            raise BadInput("give exactly one client credential: client_secret, private_key or client_cert")
        if self.leeway < 0:
            raise BadInput("leeway must be >= 0")

    @property
    def auth_method(self) -> str:
        if self.private_key is not None:
            return "private_key_jwt"
        if self.client_secret is not None:
            return "client_secret_basic"
        return "tls_client_auth"

    def _session_kwargs(self) -> dict[str, Any]:
        secret: Any = self.private_key if self.private_key is not None else self.client_secret
        if isinstance(secret, bytes):
            secret = secret.decode("ascii")
        return dict(
            client_id=self.client_id,
            client_secret=secret,
            token_endpoint=self.token_endpoint,
            token_endpoint_auth_method=self.auth_method,
            grant_type="client_credentials",
            scope=self.scope,
            leeway=self.leeway,
        )

    def _register(self, client: Any) -> None:
        if self.auth_method == "private_key_jwt":
            headers = {"kid": self.key_id} if self.key_id else None
            client.register_client_auth_method(PrivateKeyJWT(self.token_endpoint, headers=headers))
        elif self.auth_method == "tls_client_auth":
            client.register_client_auth_method(("tls_client_auth", _tls_client_auth))


def _tls_client_auth(auth: Any, method: str, uri: str, headers: Any, body: str) -> tuple[str, Any, str]:
    """RFC 8705 §2: the TLS client certificate authenticates; the body names the client."""
    from authlib.common.urls import add_params_to_qs

    return uri, headers, add_params_to_qs(body or "", [("client_id", auth.client_id)])


def _context(
    creds: ClientCredentials, profile: str | Path | Profile, ca_file: str | Path | None
) -> ssl.SSLContext:
    return client_ssl_context(profile, ca_file=ca_file, client_cert=creds.client_cert)


def _failed(exc: Exception) -> TokenRequestFailed:
    code = getattr(exc, "error", None) or type(exc).__name__
    return TokenRequestFailed(f"token request refused by the authorization server ({code})")


class _ContextAdapter(HTTPAdapter):
    """Every connection of the session uses one SSLContext (the profile's)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(*args, **kwargs)


class DPoPSession(OAuth2Session):
    """Authlib's OAuth2Session with DPoP: every token request and every API
    request carries a fresh proof by the session's key; the token goes as
    ``Authorization: DPoP`` (RFC 9449 §7.1).

    Server nonces (RFC 9449 §8/§9): a ``DPoP-Nonce`` a server sends is kept
    per origin and put into later proofs to that origin; a token endpoint
    answering ``use_dpop_nonce`` (400) or a resource answering it (401) gets
    the request once more with a proof carrying the new nonce, and only once
    (a server that keeps refusing is answered by its refusal).  A request
    whose body cannot be sent twice (a stream) is not retried."""

    def __init__(self, *args: Any, dpop_key: DPoPKey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dpop_key = dpop_key
        self.dpop_nonces: dict[str, str] = {}
        """The last ``DPoP-Nonce`` each origin (``scheme://host:port``) sent."""
        self.register_compliance_hook("access_token_response", self._keep_nonce)

    def _keep_nonce(self, resp: Any) -> Any:
        """Remember a server nonce from any response; returns ``resp``."""
        nonce = resp.headers.get("DPoP-Nonce")
        if nonce and NONCE_SYNTAX.fullmatch(nonce):
            self.dpop_nonces[_origin(resp.url)] = nonce
        return resp

    def fetch_token(self, url: str | None = None, **kwargs: Any) -> Any:
        url = url or self.metadata["token_endpoint"]
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Accept", "application/json")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
        origin = _origin(url)
        sent = self.dpop_nonces.get(origin)
        headers["DPoP"] = self.dpop_key.proof("POST", url, nonce=sent)
        try:
            return super().fetch_token(url, headers=dict(headers), **dict(kwargs))
        except AuthlibBaseError as exc:
            fresh = self.dpop_nonces.get(origin)
            if getattr(exc, "error", None) != "use_dpop_nonce" or fresh is None or fresh == sent:
                raise
        headers["DPoP"] = self.dpop_key.proof("POST", url, nonce=fresh)  # RFC 9449 §8: once more
        return super().fetch_token(url, headers=headers, **kwargs)

    def request(
        self, method: str, url: str, withhold_token: bool = False, auth: Any = None, **kwargs: Any
    ) -> Any:
        if withhold_token or auth is not None:
            return super().request(method, url, withhold_token=withhold_token, auth=auth, **kwargs)
        if not self.token:
            raise MissingTokenError()
        self.ensure_active_token(self.token)
        token = self.token["access_token"]
        kind = "DPoP" if str(self.token.get("token_type", "")).lower() == "dpop" else "Bearer"
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"{kind} {token}"
        if kind != "DPoP":
            return super().request(method, url, withhold_token=True, headers=headers, **kwargs)
        origin = _origin(url)
        sent = self.dpop_nonces.get(origin)
        headers["DPoP"] = self.dpop_key.proof(method, url, access_token=token, nonce=sent)
        resp = self._keep_nonce(
            super().request(method, url, withhold_token=True, headers=dict(headers), **kwargs)
        )
        fresh = self.dpop_nonces.get(origin)
        if resp.status_code != 401 or fresh is None or fresh == sent or not _asks_for_nonce(resp):
            return resp
        if not _replayable(kwargs):
            return resp
        resp.close()  # RFC 9449 §9: once more, with the server's nonce
        headers["DPoP"] = self.dpop_key.proof(method, url, access_token=token, nonce=fresh)
        return self._keep_nonce(super().request(method, url, withhold_token=True, headers=headers, **kwargs))


_USE_NONCE = re.compile(r'error\s*=\s*"?use_dpop_nonce"?', re.I)


def _asks_for_nonce(resp: Any) -> bool:
    return bool(_USE_NONCE.search(resp.headers.get("WWW-Authenticate", "")))


def _replayable(kwargs: dict[str, Any]) -> bool:
    """A body requests can send a second time unchanged (no stream, no files)."""
    data = kwargs.get("data")
    return not kwargs.get("files") and (data is None or isinstance(data, (bytes, str, dict, list, tuple)))


def _origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme.lower()}://{p.netloc.lower()}"


def _wants_dpop(creds: ClientCredentials, context: ssl.SSLContext) -> bool:
    if creds.dpop is not None:
        return creds.dpop
    if not creds.metadata_url:
        return False
    if not creds.metadata_url.startswith("https://"):
        raise BadInput("metadata URL must be https://")
    with requests.Session() as s:
        s.trust_env = False
        s.mount("https://", _ContextAdapter(context))
        try:  # the one bounded JSON fetch (size cap, no redirects), over the profile's context
            _, doc, _ = get_json(creds.metadata_url, ca_file=None, timeout=creds.timeout, session=s)
        except RestCheckError:
            raise TargetUnreachable("authorization server metadata cannot be read") from None
    if not isinstance(doc, dict):
        raise TargetUnreachable("authorization server metadata cannot be read")
    algs = doc.get("dpop_signing_alg_values_supported")
    return isinstance(algs, list) and "ES256" in algs


def requests_session(
    creds: ClientCredentials,
    *,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    ca_file: str | Path | None = None,
) -> OAuth2Session:
    """A :class:`requests.Session` (Authlib's OAuth2Session) that sends the
    client's access token and renews it ``leeway`` s before expiry.  The
    first token is fetched now, so a wrong credential fails here.  With DPoP
    (see :attr:`ClientCredentials.dpop`) it is a :class:`DPoPSession`."""
    context = _context(creds, profile, ca_file)
    if _wants_dpop(creds, context):
        session: OAuth2Session = DPoPSession(**creds._session_kwargs(), dpop_key=DPoPKey())
    else:
        session = OAuth2Session(**creds._session_kwargs())
    # The profile's context is the whole TLS trust: no REQUESTS_CA_BUNDLE widening
    # it, and no ~/.netrc adding an Authorization header of its own.
    session.trust_env = False
    creds._register(session)
    session.mount("https://", _ContextAdapter(context))
    session.mount("http://", _Refuse())
    try:
        session.fetch_token(timeout=creds.timeout)
    except AuthlibBaseError as exc:
        raise _failed(exc) from None
    except requests.exceptions.RequestException as exc:
        raise TargetUnreachable(f"token endpoint unreachable ({type(exc).__name__})") from None
    return session


class _Refuse(HTTPAdapter):
    """Bearer tokens never travel over cleartext http (RFC 6750 §5.3)."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.InvalidURL("apisec client: refusing to send a token over http://")


def httpx_client(
    creds: ClientCredentials,
    *,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    ca_file: str | Path | None = None,
) -> OAuth2Client:
    """The same for :class:`httpx.Client` (Authlib's OAuth2Client, bearer
    tokens only: ``dpop=True`` is refused).  The
    client is already open (the first token was fetched): close it with
    ``.close()`` (or :func:`contextlib.closing`), do not enter it again."""
    import httpx

    if creds.dpop:
        raise BadInput("DPoP is supported with requests_session only")
    client = OAuth2Client(
        **creds._session_kwargs(), verify=_context(creds, profile, ca_file), timeout=creds.timeout
    )
    creds._register(client)
    try:
        client.fetch_token()
    except AuthlibBaseError as exc:
        client.close()
        raise _failed(exc) from None
    except httpx.HTTPError as exc:
        client.close()
        raise TargetUnreachable(f"token endpoint unreachable ({type(exc).__name__})") from None
    return client


async def async_httpx_client(
    creds: ClientCredentials,
    *,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    ca_file: str | Path | None = None,
) -> AsyncOAuth2Client:
    """The same for :class:`httpx.AsyncClient` (Authlib's AsyncOAuth2Client, bearer only)."""
    import httpx

    if creds.dpop:
        raise BadInput("DPoP is supported with requests_session only")

    client = AsyncOAuth2Client(
        **creds._session_kwargs(), verify=_context(creds, profile, ca_file), timeout=creds.timeout
    )
    creds._register(client)
    try:
        await client.fetch_token()
    except AuthlibBaseError as exc:
        await client.aclose()
        raise _failed(exc) from None
    except httpx.HTTPError as exc:
        await client.aclose()
        raise TargetUnreachable(f"token endpoint unreachable ({type(exc).__name__})") from None
    return client
