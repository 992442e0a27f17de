"""A deliberately flawed JWT-protected API: one flaw per route, plus a correct one.

Used by the probe tests and the demo.  ``serve()`` starts it under uvicorn
on 127.0.0.1 and returns a handle that can also mint valid tokens for each
route (the test plays the authorization server).
"""

from apisec_samples.jwt_api.app import ROUTES, JwtApi, serve

__all__ = ["ROUTES", "JwtApi", "serve"]
