"""The order API of :mod:`tests.realworld.http_apps` as a Django project, run in a
subprocess (Django's settings are configured once per process):

    python -m tests.realworld.django_app flawed|correct CERT KEY

Prints ``PORT <n>`` once werkzeug's threaded server listens with TLS on
127.0.0.1 (port chosen by the kernel), then serves until killed.  Flawed:
``DEBUG = True`` (technical 500 pages), django-cors-headers with
``CORS_ALLOW_ALL_ORIGINS`` and credentials, and the API's authorization
mistakes; correct: ``DEBUG = False`` and an allow-listed origin.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_http_methods


def _view(request, order_id=None):
    api = settings.APISEC_API
    status, body = api.handle(
        request.method, request.path, request.headers.get("Authorization"), request.body
    )
    resp = HttpResponse(status=status) if body is None else JsonResponse(body, status=status, safe=False)
    if status == 401:
        resp["WWW-Authenticate"] = "Bearer"
    return resp


def headers_middleware(get_response):
    def middleware(request):
        response = get_response(request)
        for k, v in settings.APISEC_API.rate_headers().items():
            response[k] = v
        return response

    return middleware


urlpatterns = [
    path("api/orders", require_http_methods(["GET", "POST"])(_view)),
    path("api/orders/<str:order_id>", require_http_methods(["GET", "DELETE"])(_view)),
    path("api/admin/users", require_http_methods(["GET"])(_view)),
]


def main(mode: str, cert: str, key: str) -> None:
    from tests.realworld.http_apps import ALLOWED_ORIGIN, Api

    flawed = mode == "flawed"
    cors = {"CORS_ALLOW_ALL_ORIGINS": True} if flawed else {"CORS_ALLOWED_ORIGINS": [ALLOWED_ORIGIN]}
    settings.configure(
        DEBUG=flawed,
        SECRET_KEY="realworld-test-only",
        ALLOWED_HOSTS=["localhost", "127.0.0.1"],
        ROOT_URLCONF="tests.realworld.django_app",
        INSTALLED_APPS=["corsheaders"],
        MIDDLEWARE=["corsheaders.middleware.CorsMiddleware", "tests.realworld.django_app.headers_middleware"],
        CORS_ALLOW_CREDENTIALS=True,
        APISEC_API=Api(flawed=flawed, tokens=_tokens()),
        **cors,
    )
    import django
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import make_server

    from tests.realworld.servers import quiet_handler

    django.setup()
    app = get_wsgi_application()
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=quiet_handler(), ssl_context=(cert, key)
    )
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


def _tokens() -> dict[str, str]:
    """Tokens come from the parent on stdin (one 'user token' a line), never argv."""
    out = {}
    for line in sys.stdin.readline().split(";"):
        if line.strip():
            user, tok = line.split()
            out[user] = tok
    return out


if __name__ == "__main__":
    main(*sys.argv[1:4])
