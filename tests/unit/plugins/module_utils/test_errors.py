# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How HTTP error answers become messages: exact texts, since users read them."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, api_error

PATH = "/v3/partners/accounts/acc1/ips"


def answer(status, reason, body, content_type="application/json"):
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response.headers["Content-Type"] = content_type
    response._content = (json.dumps(body) if isinstance(body, (dict, list)) else body).encode("utf-8")
    return response


def sendgrid_errors(message, field="", error_id=""):
    return {"errors": [{"message": message, "field": field, "error_id": error_id}]}


def test_404_names_request_status_error_and_hint():
    error = api_error("POST", PATH, answer(404, "Not Found", sendgrid_errors("Account not found", "", "10-40400")))
    assert str(error) == ("POST /v3/partners/accounts/acc1/ips failed with HTTP 404 Not Found: Account not found "
                          "(error_id 10-40400). Hint: the account ID is not one of your customer accounts")
    assert error.to_result() == {"status": 404, "errors": [{"message": "Account not found", "field": "", "error_id": "10-40400"}]}
    assert not error.maybe_processed


@pytest.mark.parametrize("status, hint", [
    (401, "Hint: check the API key, and that it belongs to the reseller (partner) account"),
    (403, "Hint: the API key lacks the partner IP provisioning scope"),
    (429, "Hint: SendGrid's rate limit is spent; raise max_retries or lower the concurrency (throttle)"),
])
def test_common_statuses_have_hints(status, hint):
    assert str(api_error("GET", PATH, answer(status, "", sendgrid_errors("nope")))).endswith(hint)


def test_400_names_the_field():
    error = api_error("POST", PATH, answer(400, "Bad Request", sendgrid_errors("must be between 1 and 10", "count", "10-40000")))
    assert str(error) == ("POST /v3/partners/accounts/acc1/ips failed with HTTP 400 Bad Request: "
                          "must be between 1 and 10 (field count, error_id 10-40000)")


def test_html_502_from_a_proxy_is_still_clear():
    html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body></html>"
    error = api_error("POST", PATH, answer(502, "Bad Gateway", html, "text/html; charset=utf-8"))
    assert str(error) == ("POST /v3/partners/accounts/acc1/ips failed with HTTP 502 Bad Gateway: the answer was not SendGrid "
                          "JSON: text/html body '<html> <head><title>502 Bad Gateway</title></head> <body><h1>502 Bad "
                          "Gateway</h1></body></html>'")
    assert error.maybe_processed


def test_long_bodies_are_cut():
    error = api_error("GET", PATH, answer(503, "Service Unavailable", "x" * 5000, "text/plain"))
    assert str(error).endswith("text/plain body '" + "x" * 200 + "...'")


def test_empty_body():
    assert str(api_error("DELETE", PATH, answer(500, "Internal Server Error", ""))).endswith(
        "failed with HTTP 500 Internal Server Error: the answer had no body")


def test_rate_limit_body_with_null_field():
    error = api_error("GET", PATH, answer(429, "Too Many Requests", {"errors": [{"field": None, "message": "too many requests"}]}))
    assert "HTTP 429 Too Many Requests: too many requests. Hint:" in str(error)


def test_api_error_is_built_from_parts():
    assert isinstance(api_error("GET", PATH, answer(500, "", {})), ApiError)
