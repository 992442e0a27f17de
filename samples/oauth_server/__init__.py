"""A real Authlib authorization server in a secure and an insecure configuration.

``serve(config, host, port, tls)`` returns a running server (``.url`` is the
issuer, ``.stop()`` stops it) for the tests and ``apisec demo``.
"""

from apisec_samples.oauth_server.server import CONFIGS, INSECURE, SECURE, ServerConfig, serve

__all__ = ["CONFIGS", "INSECURE", "SECURE", "ServerConfig", "serve"]
