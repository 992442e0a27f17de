"""The error-leak and banner recognisers on bodies typical of other stacks
(the live tests only meet Starlette's): each leak kind is recognised, and
ordinary API error bodies are not."""

from __future__ import annotations

import pytest

from rest.http.checks import _VERSION, _leaks_in

LEAKY = {
    "java": (
        "java.lang.NullPointerException: null\n"
        "\tat com.acme.orders.OrderController.get(OrderController.java:42)\n"
        "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        "stack trace",
    ),
    "dotnet": (
        "System.NullReferenceException: Object reference not set to an instance of an object.\n"
        "   at Acme.Orders.Controllers.OrdersController.Get(Int32 id) in C:\\src\\Acme\\OrdersController.cs:line 31",
        "stack trace",
    ),
    "go": ("panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.main()", "stack trace"),
    "node": (
        "TypeError: Cannot read properties of undefined (reading 'id')\n"
        "    at getOrder (/srv/app/routes/orders.js:17:23)",
        "stack trace",
    ),
    "postgres": ('ERROR: syntax error at or near "\'" at character 34', "SQL error"),
    "mysql": (
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL",
        "SQL error",
    ),
    "oracle": ("ORA-00933: SQL command not properly ended", "SQL error"),
    "sqlite": ('sqlite3.OperationalError: unrecognized token: "\'"', "SQL error"),
    "path": ("config loaded from /etc/acme/app.properties", "file path"),
    "windows path": ("failed to open C:\\inetpub\\wwwroot\\web.config", "file path"),
    "tomcat": ("<h3>Apache Tomcat/9.0.41</h3>", "framework version"),
    "spring": ("<h1>Whitelabel Error Page</h1>", "debug page"),
}


@pytest.mark.parametrize("name", sorted(LEAKY))
def test_leaks_are_recognised(name):
    body, kind = LEAKY[name]
    assert kind in [k for k, _, _ in _leaks_in(body)]


@pytest.mark.parametrize(
    "body",
    [
        '{"error":"not_found"}',
        '{"type":"https://example.com/probs/out-of-credit","title":"You do not have enough credit.","status":403}',
        '{"error":"invalid_request","error_description":"quantity must be between 1 and 1000"}',
        "Not Found",
        '{"message":"Order 42 was not found at /api/orders/42"}',
    ],
)
def test_ordinary_error_bodies_are_clean(body):
    assert _leaks_in(body) == []


@pytest.mark.parametrize(
    "value, leaks",
    [
        ("nginx/1.25.3", True),
        ("Microsoft-IIS/10.0", True),
        ("Express", False),
        ("uvicorn", False),
        ("cloudflare", False),
    ],
)
def test_banner_versions(value, leaks):
    assert bool(_VERSION.search(value)) is leaks
