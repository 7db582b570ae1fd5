# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sendgrid.partners.add_ips: main() with arguments against a fake client; the exact result or failure."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, TransportError
from ansible_collections.sendgrid.partners.tests.unit.plugins.modules.utils import API_KEY, client_options

ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"
PATH = "/v3/partners/accounts/%s/ips" % ACCOUNT
US_IP, EU_IP = "149.72.1.1", "159.183.1.1"
NO_KEY = "api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable"


def args(**options):
    base = {"api_key": API_KEY, "account_id": ACCOUNT, "region": "us"}
    base.update(options)
    return {name: value for name, value in base.items() if value is not None}


def new_ips(first, last):
    """The fake's IPs first..last (10.0.0.N), newest first as the module returns them."""
    return ["10.0.0.%d" % number for number in range(last, first - 1, -1)]


def unavailable(method="POST"):
    return ApiError(method, PATH, 503, "Service Unavailable", [{"message": "upstream timeout", "field": None, "error_id": None}])


UNAVAILABLE = "POST %s failed with HTTP 503 Service Unavailable: upstream timeout" % PATH


@pytest.fixture
def fake(fake_client):
    """One account holding one US and one EU IP."""
    return fake_client.account(ACCOUNT, (US_IP, "us"), (EU_IP, "eu"))


def assert_clean_end(fake, outcome):
    """One client, built from the connection options, closed; the key in no result or warning."""
    assert fake.built_with == [client_options()]
    assert fake.closed == 1
    assert API_KEY not in json.dumps([outcome.result, outcome.warnings], default=str)


# --------------------------------------------------------------------------- happy paths


def test_total_adds_only_the_shortfall(run_module, fake):
    outcome = run_module("add_ips", args(total=3))
    assert not outcome.failed
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 2), "added": 2,
                              "region_ips": new_ips(1, 2) + [US_IP]}
    assert fake.calls == [("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "us", 2)]
    assert fake.held(ACCOUNT, "us") == new_ips(1, 2) + [US_IP]
    assert fake.held(ACCOUNT, "eu") == [EU_IP]
    assert outcome.warnings == []
    assert_clean_end(fake, outcome)


def test_total_met_changes_nothing_and_only_lists(run_module, fake):
    outcome = run_module("add_ips", args(total=1))
    assert outcome.result == {"changed": False, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 0, "region_ips": [US_IP]}
    assert fake.calls == [("list_ips", ACCOUNT)]
    assert_clean_end(fake, outcome)


def test_total_counts_only_its_region(run_module, fake):
    outcome = run_module("add_ips", args(region="eu", total=2))
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "eu", "ips": ["10.0.0.1"], "added": 1,
                              "region_ips": ["10.0.0.1", EU_IP]}
    assert fake.calls == [("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "eu", 1)]


def test_total_buys_in_requests_of_at_most_ten(run_module, fake_client):
    fake_client.account(ACCOUNT)
    outcome = run_module("add_ips", args(total=23))
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 23), "added": 23,
                              "region_ips": new_ips(1, 23)}
    assert fake_client.calls == [("list_ips", ACCOUNT)] + [("add_ips", ACCOUNT, "us", size) for size in (10, 10, 3)]


def test_count_buys_every_run(run_module, fake):
    first = run_module("add_ips", args(count=2))
    second = run_module("add_ips", args(count="1"))  # templating gives a string of digits
    assert first.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 2), "added": 2}
    assert second.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": ["10.0.0.3"], "added": 1}
    assert fake.calls == [("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "us", 2), ("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "us", 1)]
    assert fake.held(ACCOUNT, "us") == new_ips(1, 3) + [US_IP]


def test_total_as_a_string_of_digits(run_module, fake):
    outcome = run_module("add_ips", args(total=" 2 "))
    assert outcome.result["added"] == 1
    assert fake.calls[-1] == ("add_ips", ACCOUNT, "us", 1)


def test_connection_options_reach_the_client(run_module, fake):
    outcome = run_module("add_ips", args(total=1, api_url="http://127.0.0.1:8080/", timeout=5, validate_certs=False,
                                         ca_path="/etc/ssl/ca.pem", max_retries=0))
    assert not outcome.failed
    assert fake.built_with == [client_options(api_url="http://127.0.0.1:8080/", timeout=5.0, validate_certs=False,
                                              ca_path="/etc/ssl/ca.pem", max_retries=0)]


def test_api_key_and_url_from_the_environment(run_module, fake, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "key-from-env")
    monkeypatch.setenv("SENDGRID_API_URL", "https://api.eu.sendgrid.com")
    outcome = run_module("add_ips", args(api_key=None, total=1))
    assert outcome.result["changed"] is False
    assert fake.built_with == [client_options(api_key="key-from-env", api_url="https://api.eu.sendgrid.com")]


def test_empty_api_url_means_the_default(run_module, fake, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_URL", "")
    run_module("add_ips", args(total=1))
    assert fake.built_with == [client_options()]


# --------------------------------------------------------------------------- check mode and diff


def test_check_mode_total_predicts_exactly_and_never_posts(run_module, fake):
    outcome = run_module("add_ips", args(total=3), check_mode=True)
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 2, "region_ips": [US_IP]}
    assert fake.calls == [("list_ips", ACCOUNT)]
    assert fake.held(ACCOUNT, "us") == [US_IP]


def test_check_mode_total_met_is_not_changed(run_module, fake):
    outcome = run_module("add_ips", args(total=1), check_mode=True)
    assert outcome.result == {"changed": False, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 0, "region_ips": [US_IP]}


def test_check_mode_count_is_changed_and_never_posts(run_module, fake):
    outcome = run_module("add_ips", args(count=4), check_mode=True)
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 4}
    assert "add_ips" not in fake.methods()


def test_diff_shows_the_region_before_and_after(run_module, fake):
    outcome = run_module("add_ips", args(total=2), diff=True)
    assert outcome.result == {
        "changed": True, "account_id": ACCOUNT, "region": "us", "ips": ["10.0.0.1"], "added": 1, "region_ips": ["10.0.0.1", US_IP],
        "diff": {"before": {"account_id": ACCOUNT, "region": "us", "count": 1, "ips": [US_IP]},
                 "after": {"account_id": ACCOUNT, "region": "us", "count": 2, "ips": ["10.0.0.1", US_IP]}},
    }


def test_check_mode_diff_shows_placeholders_for_what_would_be_bought(run_module, fake):
    outcome = run_module("add_ips", args(total=3), check_mode=True, diff=True)
    assert outcome.result["diff"] == {
        "before": {"account_id": ACCOUNT, "region": "us", "count": 1, "ips": [US_IP]},
        "after": {"account_id": ACCOUNT, "region": "us", "count": 3, "ips": ["(new IP 1 of 2)", "(new IP 2 of 2)", US_IP]},
    }
    assert fake.calls == [("list_ips", ACCOUNT)]


def test_diff_with_nothing_to_do_is_equal_before_and_after(run_module, fake):
    outcome = run_module("add_ips", args(total=1), diff=True)
    assert outcome.result["diff"]["before"] == outcome.result["diff"]["after"] == {"account_id": ACCOUNT, "region": "us", "count": 1, "ips": [US_IP]}


# --------------------------------------------------------------------------- spend cap


@pytest.mark.parametrize("check_mode", [False, True])
def test_max_add_refuses_before_any_post(run_module, fake, check_mode):
    outcome = run_module("add_ips", args(total=5, max_add=2), check_mode=check_mode)
    assert outcome.failed
    assert outcome.result == {
        "msg": "account %s would get 4 new IP(s) in us, above max_add 2: nothing bought. It holds 1 there now; "
               "raise max_add if this is intended." % ACCOUNT,
        "changed": False, "added": 0, "ips": [], "region_ips": [US_IP],
    }
    assert fake.calls == [("list_ips", ACCOUNT)]


def test_max_add_applies_to_count_too(run_module, fake):
    outcome = run_module("add_ips", args(count=3, max_add=0))
    assert outcome.result["msg"].startswith("account %s would get 3 new IP(s) in us, above max_add 0: nothing bought." % ACCOUNT)
    assert "add_ips" not in fake.methods()


def test_a_total_with_no_upper_bound_is_held_by_max_add(run_module, fake):
    outcome = run_module("add_ips", args(total=5000, max_add=10))
    assert outcome.result == {
        "msg": "account %s would get 4999 new IP(s) in us, above max_add 10: nothing bought. It holds 1 there now; "
               "raise max_add if this is intended." % ACCOUNT,
        "changed": False, "added": 0, "ips": [], "region_ips": [US_IP],
    }
    assert fake.calls == [("list_ips", ACCOUNT)]


def test_max_add_equal_to_the_shortfall_buys(run_module, fake):
    outcome = run_module("add_ips", args(total=3, max_add=2))
    assert outcome.result["added"] == 2
    assert fake.calls[-1] == ("add_ips", ACCOUNT, "us", 2)


# --------------------------------------------------------------------------- bad input: a message, no request


@pytest.mark.parametrize("options, message", [
    ({"count": 0}, "count must be an integer from 1 to 10, got 0"),
    ({"count": 11}, "count must be an integer from 1 to 10, got 11"),
    ({"count": "two"}, "count must be an integer from 1 to 10, got 'two'"),
    ({"count": "-1"}, "count must be an integer from 1 to 10, got '-1'"),
    ({"count": True}, "count must be an integer from 1 to 10, got True"),
    ({"count": 1.5}, "count must be an integer from 1 to 10, got 1.5"),
    ({"total": 0}, "total must be an integer of 1 or more, got 0"),
    ({"total": -3}, "total must be an integer of 1 or more, got -3"),
    ({"total": "lots"}, "total must be an integer of 1 or more, got 'lots'"),
    ({"total": 2, "max_add": -1}, "max_add must be an integer of 0 or more, got -1"),
    ({"count": 1, "account_id": ""}, "account_id must be a non-empty string, got ''"),
    ({"count": 1, "account_id": " sg1"}, "account_id ' sg1' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)"),
    ({"count": 1, "account_id": ".."}, "account_id '..' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)"),
    ({"count": 1, "account_id": "sg\n1"}, "account_id 'sg\\n1' contains control characters"),
    ({"count": 1, "api_key": None}, NO_KEY),
    ({"count": 1, "api_key": ""}, NO_KEY),
    ({"count": 1, "api_url": "ftp://example.com"},
     "api_url 'ftp://example.com' is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com or http(s)://host[:port]"),
    ({"count": 1, "timeout": 0}, "timeout must be a number of seconds above 0 and at most 3600, got 0.0"),
    ({"count": 1, "timeout": 3601}, "timeout must be a number of seconds above 0 and at most 3600, got 3601.0"),
    ({"count": 1, "max_retries": -1}, "max_retries must be 0 or more, got -1"),
    ({"count": 0, "total": None, "api_key": None, "timeout": -1},
     "count must be an integer from 1 to 10, got 0; " + NO_KEY + "; timeout must be a number of seconds above 0 and at most 3600, got -1.0"),
])
def test_bad_input_fails_before_any_request(run_module, fake_client, options, message):
    outcome = run_module("add_ips", args(**options))
    assert outcome.failed
    assert outcome.result == {"msg": message}
    assert fake_client.built_with == [] and fake_client.calls == []


@pytest.mark.parametrize("options, message", [
    ({"count": 1, "region": "asia"}, "value of region must be one of: eu, us, got: asia"),
    ({"count": 1, "total": 2}, "parameters are mutually exclusive: count|total"),
    ({}, "one of the following is required: count, total"),
    ({"count": 1, "account_id": None}, "missing required arguments: account_id"),
])
def test_bad_combinations_fail_in_argument_validation(run_module, fake_client, options, message):
    outcome = run_module("add_ips", args(**options))
    assert outcome.failed
    assert outcome.result["msg"] == message
    assert fake_client.built_with == [] and fake_client.calls == []


def test_missing_api_key_with_an_empty_environment_variable(run_module, fake_client, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "")
    outcome = run_module("add_ips", args(api_key=None, total=1))
    assert outcome.result == {"msg": NO_KEY}
    assert fake_client.built_with == [] and fake_client.calls == []


# --------------------------------------------------------------------------- errors and unclear answers


def test_unknown_account_fails_with_status_and_hint(run_module, fake_client):
    fake_client.account("someone-else")
    outcome = run_module("add_ips", args(total=1))
    assert outcome.result == {
        "msg": "GET %s failed with HTTP 404 Not Found: resource not found. Hint: the account ID is not one of your customer accounts" % PATH,
        "status": 404, "errors": [{"message": "resource not found", "field": None, "error_id": None}],
    }
    assert fake_client.calls == [("list_ips", ACCOUNT)]
    assert fake_client.closed == 1


def test_ambiguous_post_carried_out_is_reconciled_by_listing(run_module, fake):
    fake.fail_next("add_ips", unavailable(), processed=True)
    outcome = run_module("add_ips", args(total=3))
    assert not outcome.failed
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 2), "added": 2,
                              "region_ips": new_ips(1, 2) + [US_IP]}
    assert outcome.warnings == [
        UNAVAILABLE + ". Listing the account afterwards shows 2 new IP(s) in us (of the 2 asked for in that request): "
        "10.0.0.2, 10.0.0.1: the request was carried out, going on."]
    # one POST for the decision, then a GET to find out; never the POST again
    assert fake.calls == [("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "us", 2), ("list_ips", ACCOUNT)]
    assert fake.held(ACCOUNT, "us") == new_ips(1, 2) + [US_IP]


def test_ambiguous_post_not_carried_out_fails_and_a_rerun_buys_only_the_rest(run_module, fake):
    fake.fail_next("add_ips", unavailable())
    outcome = run_module("add_ips", args(total=3))
    assert outcome.failed
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account afterwards shows 0 new IP(s) in us (of the 2 asked for in that request). "
                             "The account holds 1 of the total 3. Rerun: with total only what is still missing is added.",
        "changed": False, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 0, "region_ips": [US_IP],
    }
    assert fake.calls == [("list_ips", ACCOUNT), ("add_ips", ACCOUNT, "us", 2), ("list_ips", ACCOUNT)]
    rerun = run_module("add_ips", args(total=3))
    assert rerun.result["ips"] == new_ips(1, 2)
    assert fake.held(ACCOUNT, "us") == new_ips(1, 2) + [US_IP]


def test_timeout_on_a_later_batch_carried_out_goes_on(run_module, fake_client):
    fake_client.account(ACCOUNT)
    timeout = TransportError("POST", PATH, "no answer within the timeout of 30 s; the server may still have acted on it", maybe_processed=True)
    fake_client.fail_next("add_ips", timeout, processed=True, skip=1)  # the second POST, of the last 2
    outcome = run_module("add_ips", args(total=12))
    assert outcome.result["added"] == 12
    assert outcome.warnings == [
        "POST %s got no answer: no answer within the timeout of 30 s; the server may still have acted on it. Listing the "
        "account afterwards shows 2 new IP(s) in us (of the 2 asked for in that request): %s: the request was carried "
        "out, going on." % (PATH, ", ".join(new_ips(11, 12)))]
    assert fake_client.methods() == ["list_ips", "add_ips", "add_ips", "list_ips"]
    assert fake_client.held(ACCOUNT, "us") == new_ips(1, 12)


def test_ambiguous_post_with_count_reports_what_appeared(run_module, fake):
    fake.fail_next("add_ips", unavailable(), processed=True)
    outcome = run_module("add_ips", args(count=2))
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account afterwards shows 2 new IP(s) in us (of the 2 asked for in that request): "
                             "10.0.0.2, 10.0.0.1. They are listed in 'ips'. Do not rerun this count task blindly: it would buy 2 more. "
                             "Use total to converge.",
        "changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 2), "added": 2,
    }
    assert fake.methods() == ["list_ips", "add_ips", "list_ips"]


def test_ambiguous_post_with_count_not_carried_out(run_module, fake):
    fake.fail_next("add_ips", unavailable())
    outcome = run_module("add_ips", args(count=2))
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account afterwards shows 0 new IP(s) in us (of the 2 asked for in that request). "
                             "So it was most likely not carried out; check with sendgrid.partners.ips_info before running this "
                             "count task again, or use total to converge.",
        "changed": False, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 0,
    }


def test_ambiguous_post_and_the_listing_fails_too(run_module, fake):
    refused = TransportError("GET", PATH, "could not connect to https://api.sendgrid.com after 3 retries (refused); nothing was sent",
                             maybe_processed=False)
    fake.fail_next("add_ips", unavailable(), processed=True).fail_next("list_ips", refused, skip=1)
    outcome = run_module("add_ips", args(total=3))
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account to find out whether the IPs were added failed too: GET %s got no answer: "
                             "could not connect to https://api.sendgrid.com after 3 retries (refused); nothing was sent. Check with "
                             "sendgrid.partners.ips_info before running a count task again; a total task is safe to rerun." % PATH,
        "changed": False, "account_id": ACCOUNT, "region": "us", "ips": [], "added": 0, "region_ips": [US_IP],
    }
    assert fake.methods() == ["list_ips", "add_ips", "list_ips"]


def test_a_refused_batch_stops_and_names_what_was_bought_before(run_module, fake_client):
    fake_client.account(ACCOUNT)
    refused = ApiError("POST", PATH, 400, "Bad Request", [{"message": "no IPs left in us", "field": "count", "error_id": None}])
    fake_client.fail_next("add_ips", refused, skip=1)
    outcome = run_module("add_ips", args(total=12))
    assert outcome.result == {
        "msg": "POST %s failed with HTTP 400 Bad Request: no IPs left in us (field count). Before that, 10 IP(s) were added: %s"
               % (PATH, ", ".join(reversed(new_ips(1, 10)))),
        "changed": True, "account_id": ACCOUNT, "region": "us", "ips": new_ips(1, 10), "added": 10, "region_ips": new_ips(1, 10),
    }
    # not an unclear answer: no listing to reconcile, and no POST again
    assert fake_client.methods() == ["list_ips", "add_ips", "add_ips"]
