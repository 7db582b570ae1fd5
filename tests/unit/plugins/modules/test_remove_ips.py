# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sendgrid.partners.remove_ips: main() with arguments against a fake client; the exact result or failure."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, TransportError
from ansible_collections.sendgrid.partners.tests.unit.plugins.modules.utils import API_KEY, client_options

ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"
PATH = "/v3/partners/accounts/%s/ips" % ACCOUNT
NO_KEY = "api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable"
NEW, OLD, EU = "149.72.1.2", "149.72.1.1", "159.183.1.1"
ABSENT = "149.72.9.9"


def args(**options):
    base = {"api_key": API_KEY, "account_id": ACCOUNT}
    base.update(options)
    return {name: value for name, value in base.items() if value is not None}


def unavailable():
    return ApiError("DELETE", PATH, 503, "Service Unavailable", [{"message": "upstream timeout", "field": None, "error_id": None}])


UNAVAILABLE = "DELETE %s failed with HTTP 503 Service Unavailable: upstream timeout" % PATH


@pytest.fixture
def fake(fake_client):
    return fake_client.account(ACCOUNT, (NEW, "us"), (EU, "eu"), (OLD, "us"))


def many(count):
    return ["149.72.2.%d" % number for number in range(1, count + 1)]


# --------------------------------------------------------------------------- happy paths


def test_removes_the_named_ips(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[OLD, EU]))
    assert not outcome.failed
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "removed": [OLD, EU], "remaining_ips": [NEW], "not_found": []}
    assert fake.calls == [("list_ips", ACCOUNT), ("remove_ips", ACCOUNT, [OLD, EU])]
    assert fake.held(ACCOUNT) == [NEW]
    assert fake.built_with == [client_options()]
    assert fake.closed == 1
    assert outcome.warnings == []
    assert API_KEY not in json.dumps(outcome.result)


def test_a_repeated_ip_is_removed_once(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[OLD, OLD]))
    assert outcome.result["removed"] == [OLD]
    assert fake.calls[-1] == ("remove_ips", ACCOUNT, [OLD])


def test_ips_already_gone_are_left_alone_with_a_warning(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[ABSENT]))
    assert outcome.result == {"changed": False, "account_id": ACCOUNT, "removed": [], "remaining_ips": [NEW, EU, OLD], "not_found": [ABSENT]}
    assert outcome.warnings == ["account %s does not hold %s; left alone" % (ACCOUNT, ABSENT)]
    assert fake.calls == [("list_ips", ACCOUNT)]


def test_held_ones_removed_missing_ones_reported(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[ABSENT, NEW]))
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "removed": [NEW], "remaining_ips": [EU, OLD], "not_found": [ABSENT]}
    assert outcome.warnings == ["account %s does not hold %s; left alone" % (ACCOUNT, ABSENT)]
    assert fake.calls == [("list_ips", ACCOUNT), ("remove_ips", ACCOUNT, [NEW])]


def test_fail_on_missing_fails_before_removing_anything(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[NEW, ABSENT], fail_on_missing=True))
    assert outcome.failed
    assert outcome.result == {
        "msg": "account %s does not hold %s; nothing was removed (fail_on_missing is set)" % (ACCOUNT, ABSENT),
        "changed": False, "account_id": ACCOUNT, "removed": [], "remaining_ips": [NEW, EU, OLD], "not_found": [ABSENT],
    }
    assert fake.calls == [("list_ips", ACCOUNT)]
    assert fake.held(ACCOUNT) == [NEW, EU, OLD]


def test_removes_in_requests_of_at_most_ten(run_module, fake_client):
    fake_client.account(ACCOUNT, *[(ip, "us") for ip in many(12)])
    outcome = run_module("remove_ips", args(ips=many(12)))
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "removed": many(12), "remaining_ips": [], "not_found": []}
    assert fake_client.calls == [("list_ips", ACCOUNT), ("remove_ips", ACCOUNT, many(10)), ("remove_ips", ACCOUNT, many(12)[10:])]


# --------------------------------------------------------------------------- check mode and diff


def test_check_mode_lists_and_never_deletes(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[OLD, ABSENT]), check_mode=True)
    assert outcome.result == {"changed": True, "account_id": ACCOUNT, "removed": [OLD], "remaining_ips": [NEW, EU], "not_found": [ABSENT]}
    assert fake.calls == [("list_ips", ACCOUNT)]
    assert fake.held(ACCOUNT) == [NEW, EU, OLD]


def test_check_mode_with_nothing_to_remove_is_not_changed(run_module, fake):
    outcome = run_module("remove_ips", args(ips=[ABSENT]), check_mode=True)
    assert outcome.result["changed"] is False and outcome.result["removed"] == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_diff_shows_the_account_before_and_after(run_module, fake, check_mode):
    outcome = run_module("remove_ips", args(ips=[EU]), check_mode=check_mode, diff=True)
    assert outcome.result == {
        "changed": True, "account_id": ACCOUNT, "removed": [EU], "remaining_ips": [NEW, OLD], "not_found": [],
        "diff": {"before": {"account_id": ACCOUNT, "ips": [NEW, EU, OLD]}, "after": {"account_id": ACCOUNT, "ips": [NEW, OLD]}},
    }
    assert fake.methods() == (["list_ips"] if check_mode else ["list_ips", "remove_ips"])


# --------------------------------------------------------------------------- bad input: a message, no request


@pytest.mark.parametrize("options, message", [
    ({"ips": []}, "ips must name at least one IPv4 address"),
    ({"ips": ["::1"]}, "ips: '::1' is an IPv6 address, and SendGrid dedicated IPs are IPv4"),
    ({"ips": ["149.72.1"]}, "ips: '149.72.1' is not an IPv4 address"),
    ({"ips": [OLD, "256.1.1.1", "2001:db8::1"]},
     "ips: '256.1.1.1' is not an IPv4 address; ips: '2001:db8::1' is an IPv6 address, and SendGrid dedicated IPs are IPv4"),
    ({"ips": [OLD], "account_id": ""}, "account_id must be a non-empty string, got ''"),
    ({"ips": [OLD], "account_id": "sg1 "}, "account_id 'sg1 ' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)"),
    ({"ips": [OLD], "api_key": None}, NO_KEY),
    ({"ips": [OLD], "max_retries": -5}, "max_retries must be 0 or more, got -5"),
    ({"ips": ["x"], "account_id": "..", "api_key": None},
     "account_id '..' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused); ips: 'x' is not an IPv4 address; " + NO_KEY),
])
def test_bad_input_fails_before_any_request(run_module, fake_client, options, message):
    outcome = run_module("remove_ips", args(**options))
    assert outcome.failed
    assert outcome.result == {"msg": message}
    assert fake_client.built_with == [] and fake_client.calls == []


def test_missing_ips_fails_in_argument_validation(run_module, fake_client):
    outcome = run_module("remove_ips", args())
    assert outcome.failed
    assert outcome.result["msg"] == "missing required arguments: ips"
    assert fake_client.built_with == [] and fake_client.calls == []


# --------------------------------------------------------------------------- errors and unclear answers


def test_unknown_account_fails_with_status_and_hint(run_module, fake_client):
    fake_client.account("someone-else")
    outcome = run_module("remove_ips", args(ips=[OLD]))
    assert outcome.result == {
        "msg": "GET %s failed with HTTP 404 Not Found: resource not found. Hint: the account ID is not one of your customer accounts" % PATH,
        "status": 404, "errors": [{"message": "resource not found", "field": None, "error_id": None}],
    }
    assert fake_client.calls == [("list_ips", ACCOUNT)]


def test_ambiguous_delete_carried_out_reports_what_is_gone(run_module, fake):
    fake.fail_next("remove_ips", unavailable(), processed=True)
    outcome = run_module("remove_ips", args(ips=[OLD, EU]))
    assert outcome.failed
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account afterwards shows %s, %s gone. A rerun removes only what is left." % (OLD, EU),
        "changed": True, "account_id": ACCOUNT, "removed": [OLD, EU], "remaining_ips": [NEW], "not_found": [],
    }
    # one DELETE, then a GET to find out; never the DELETE again
    assert fake.calls == [("list_ips", ACCOUNT), ("remove_ips", ACCOUNT, [OLD, EU]), ("list_ips", ACCOUNT)]


def test_ambiguous_delete_not_carried_out_reports_what_is_still_held(run_module, fake):
    fake.fail_next("remove_ips", unavailable())
    outcome = run_module("remove_ips", args(ips=[OLD]))
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account afterwards shows nothing gone; still held: %s. A rerun removes only what is left." % OLD,
        "changed": False, "account_id": ACCOUNT, "removed": [], "remaining_ips": [NEW, EU, OLD], "not_found": [],
    }
    rerun = run_module("remove_ips", args(ips=[OLD]))
    assert rerun.result["removed"] == [OLD]
    assert fake.held(ACCOUNT) == [NEW, EU]


def test_timeout_on_the_second_request_counts_the_first(run_module, fake_client):
    fake_client.account(ACCOUNT, *[(ip, "us") for ip in many(12)])
    timeout = TransportError("DELETE", PATH, "no answer within the timeout of 30 s; the server may still have acted on it", maybe_processed=True)
    fake_client.fail_next("remove_ips", timeout, processed=True, skip=1)
    outcome = run_module("remove_ips", args(ips=many(12)))
    assert outcome.result == {
        "msg": "DELETE %s got no answer: no answer within the timeout of 30 s; the server may still have acted on it. Listing the "
               "account afterwards shows %s gone. A rerun removes only what is left." % (PATH, ", ".join(many(12))),
        "changed": True, "account_id": ACCOUNT, "removed": many(12), "remaining_ips": [], "not_found": [],
    }
    assert fake_client.methods() == ["list_ips", "remove_ips", "remove_ips", "list_ips"]


def test_a_refused_delete_stops_and_names_what_was_removed_before(run_module, fake_client):
    fake_client.account(ACCOUNT, *[(ip, "us") for ip in many(12)])
    refused = ApiError("DELETE", PATH, 400, "Bad Request", [{"message": "IP 149.72.2.11 is not assigned", "field": "ips", "error_id": None}])
    fake_client.fail_next("remove_ips", refused, skip=1)
    outcome = run_module("remove_ips", args(ips=many(12)))
    assert outcome.result == {
        "msg": "DELETE %s failed with HTTP 400 Bad Request: IP 149.72.2.11 is not assigned (field ips). Removed before that: %s"
               % (PATH, ", ".join(many(10))),
        "changed": True, "account_id": ACCOUNT, "removed": many(10), "remaining_ips": many(12)[10:], "not_found": [],
    }
    assert fake_client.methods() == ["list_ips", "remove_ips", "remove_ips"]


def test_ambiguous_delete_and_the_listing_fails_too(run_module, fake):
    refused = TransportError("GET", PATH, "could not connect to https://api.sendgrid.com after 3 retries (refused); nothing was sent",
                             maybe_processed=False)
    fake.fail_next("remove_ips", unavailable(), processed=True).fail_next("list_ips", refused, skip=1)
    outcome = run_module("remove_ips", args(ips=[OLD]))
    assert outcome.result == {
        "msg": UNAVAILABLE + ". Listing the account to find out what was removed failed too: GET %s got no answer: could not "
                             "connect to https://api.sendgrid.com after 3 retries (refused); nothing was sent. Check with "
                             "sendgrid.partners.ips_info; a rerun removes only what is left." % PATH,
        "changed": False, "account_id": ACCOUNT, "removed": [], "remaining_ips": [NEW, EU, OLD], "not_found": [],
    }
    assert fake.methods() == ["list_ips", "remove_ips", "list_ips"]
