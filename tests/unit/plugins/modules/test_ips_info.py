# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sendgrid.partners.ips_info: main() with arguments against a fake client; the exact result or failure."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, ResponseError
from ansible_collections.sendgrid.partners.tests.unit.plugins.modules.utils import API_KEY, client_options

ACCOUNT = "sg9f8e7d6c5b4a39281706f5e4d3c2b1a0"
PATH = "/v3/partners/accounts/%s/ips" % ACCOUNT
NO_KEY = "api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable"
HELD = [("149.72.1.2", "us"), ("159.183.1.1", "eu"), ("149.72.1.1", "us")]


def args(**options):
    base = {"api_key": API_KEY, "account_id": ACCOUNT}
    base.update(options)
    return {name: value for name, value in base.items() if value is not None}


@pytest.fixture
def fake(fake_client):
    return fake_client.account(ACCOUNT, *HELD)


def test_lists_every_ip_newest_first(run_module, fake):
    outcome = run_module("ips_info", args())
    assert not outcome.failed
    assert outcome.result == {"changed": False, "ips": [{"ip": "149.72.1.2", "region": "us"}, {"ip": "159.183.1.1", "region": "eu"},
                                                        {"ip": "149.72.1.1", "region": "us"}]}
    assert fake.calls == [("list_ips", ACCOUNT)]
    assert fake.built_with == [client_options()]
    assert fake.closed == 1
    assert outcome.warnings == []
    assert API_KEY not in json.dumps(outcome.result)


@pytest.mark.parametrize("region, expected", [
    ("us", [{"ip": "149.72.1.2", "region": "us"}, {"ip": "149.72.1.1", "region": "us"}]),
    ("eu", [{"ip": "159.183.1.1", "region": "eu"}]),
])
def test_region_filters(run_module, fake, region, expected):
    outcome = run_module("ips_info", args(region=region))
    assert outcome.result == {"changed": False, "ips": expected}


def test_an_account_without_ips(run_module, fake_client):
    fake_client.account(ACCOUNT)
    assert run_module("ips_info", args()).result == {"changed": False, "ips": []}


def test_check_mode_reads_the_same(run_module, fake):
    normal = run_module("ips_info", args())
    checked = run_module("ips_info", args(), check_mode=True, diff=True)
    assert checked.result == normal.result
    assert fake.calls == [("list_ips", ACCOUNT), ("list_ips", ACCOUNT)]


def test_connection_options_and_environment_reach_the_client(run_module, fake, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "key-from-env")
    outcome = run_module("ips_info", args(api_key=None, api_url="https://api.eu.sendgrid.com", timeout="7.5", max_retries=1))
    assert not outcome.failed
    assert fake.built_with == [client_options(api_key="key-from-env", api_url="https://api.eu.sendgrid.com", timeout=7.5, max_retries=1)]


def test_unknown_account_fails_with_status_and_hint(run_module, fake_client):
    fake_client.account("someone-else")
    outcome = run_module("ips_info", args())
    assert outcome.failed
    assert outcome.result == {
        "msg": "GET %s failed with HTTP 404 Not Found: resource not found. Hint: the account ID is not one of your customer accounts" % PATH,
        "status": 404, "errors": [{"message": "resource not found", "field": None, "error_id": None}],
    }
    assert fake_client.closed == 1


def test_rate_limit_spent_fails_with_the_hint(run_module, fake):
    fake.fail_next("list_ips", ApiError("GET", PATH, 429, "Too Many Requests", [{"message": "too many requests", "field": None, "error_id": None}]))
    outcome = run_module("ips_info", args())
    assert outcome.result == {
        "msg": "GET %s failed with HTTP 429 Too Many Requests: too many requests. Hint: SendGrid's rate limit is spent; raise "
               "max_retries or lower the concurrency (throttle)" % PATH,
        "status": 429, "errors": [{"message": "too many requests", "field": None, "error_id": None}],
    }


def test_an_answer_not_to_be_trusted_fails_cleanly(run_module, fake):
    fake.fail_next("list_ips", ResponseError("GET %s answered without a 'result' list" % PATH))
    outcome = run_module("ips_info", args())
    assert outcome.result == {"msg": "GET %s answered without a 'result' list" % PATH}


@pytest.mark.parametrize("options, message", [
    ({"account_id": ""}, "account_id must be a non-empty string, got ''"),
    ({"account_id": "."}, "account_id '.' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)"),
    ({"account_id": "sg\x7f"}, "account_id 'sg\\x7f' contains control characters"),
    ({"api_key": None}, NO_KEY),
    ({"api_url": "api.sendgrid.com"},
     "api_url 'api.sendgrid.com' is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com or http(s)://host[:port]"),
    ({"api_url": "https://api.sendgrid.com?x=1"},
     "api_url 'https://api.sendgrid.com?x=1' is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com or http(s)://host[:port]"),
    ({"timeout": -2}, "timeout must be a number of seconds above 0 and at most 3600, got -2.0"),
    ({"account_id": "", "api_key": None}, "account_id must be a non-empty string, got ''; " + NO_KEY),
])
def test_bad_input_fails_before_any_request(run_module, fake_client, options, message):
    outcome = run_module("ips_info", args(**options))
    assert outcome.failed
    assert outcome.result == {"msg": message}
    assert fake_client.built_with == [] and fake_client.calls == []


@pytest.mark.parametrize("options, message", [
    ({"region": "asia"}, "value of region must be one of: eu, us, got: asia"),
    ({"account_id": None}, "missing required arguments: account_id"),
])
def test_bad_arguments_fail_in_argument_validation(run_module, fake_client, options, message):
    outcome = run_module("ips_info", args(**options))
    assert outcome.failed
    assert outcome.result["msg"] == message
    assert fake_client.built_with == [] and fake_client.calls == []
