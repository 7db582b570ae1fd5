# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the client and the module helpers: no HTTP."""

from __future__ import annotations

import json

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _client as client
from ansible_collections.sendgrid.partners.plugins.module_utils import _module as common
from ansible_collections.sendgrid.partners.plugins.module_utils import _provisioning as provisioning


@pytest.mark.parametrize("count, expected", [
    (0, []), (1, [1]), (10, [10]), (11, [10, 1]), (23, [10, 10, 3]), (30, [10, 10, 10]), (-2, []),
])
def test_batches_never_exceed_ten(count, expected):
    assert list(provisioning.batches(count)) == expected


def test_chunks_split_lists_by_ten():
    ips = ["10.0.0.%d" % n for n in range(23)]
    assert [len(chunk) for chunk in provisioning.chunks(ips)] == [10, 10, 3]
    assert sum(provisioning.chunks(ips), []) == ips


@pytest.mark.parametrize("total, held, expected", [(3, 0, 3), (3, 2, 1), (3, 3, 0), (3, 7, 0), (25, 4, 21)])
def test_shortfall(total, held, expected):
    assert provisioning.shortfall(total, held) == expected


@pytest.mark.parametrize("header, attempt, expected", [
    ("1700000030", 0, 30.0),      # epoch form: until that time
    ("1699999990", 0, 0.0),       # epoch in the past: no wait
    ("5", 0, 5.0),                # seconds form
    ("2.5", 0, 2.5),
    ("0", 0, 0.0),
    ("1800000000", 0, 60.0),      # capped
    ("600", 0, 60.0),             # capped
    (None, 0, 1.0),               # missing: exponential back-off
    (None, 2, 4.0),
    ("soon", 1, 2.0),             # unparsable: exponential back-off
    ("nan", 0, 1.0),
    ("-3", 0, 0.0),
])
def test_rate_limit_wait(header, attempt, expected):
    assert client.rate_limit_wait(header, now=1700000000.0, attempt=attempt) == expected


def test_jitter_adds_at_most_ten_percent_and_a_quarter_second():
    assert client.with_jitter(10.0, rng=lambda: 0.0) == 10.0
    assert client.with_jitter(10.0, rng=lambda: 1.0) == pytest.approx(11.25)


@pytest.mark.parametrize("account_id, path", [
    ("sg1a2bcd3ef4ab5c67d8efab91c01de2fa", "/v3/partners/accounts/sg1a2bcd3ef4ab5c67d8efab91c01de2fa/ips"),
    ("a/b", "/v3/partners/accounts/a%2Fb/ips"),
    ("../admin", "/v3/partners/accounts/..%2Fadmin/ips"),
    ("a%2Fb", "/v3/partners/accounts/a%252Fb/ips"),
    ("a b?c#d", "/v3/partners/accounts/a%20b%3Fc%23d/ips"),
    ("ünï", "/v3/partners/accounts/%C3%BCn%C3%AF/ips"),
])
def test_account_path_is_one_encoded_segment(account_id, path):
    assert client.account_path(account_id) == path


@pytest.mark.parametrize("account_id", ["", "   ", ".", "..", " sg1", "sg1\n", "a\x00b", None, 12])
def test_account_path_refuses_ids_that_would_escape_or_mean_nothing(account_id):
    with pytest.raises(client.InvalidRequestError):
        client.account_path(account_id)


@pytest.mark.parametrize("value, expected", [
    ("1.2.3.4", "1.2.3.4"), ("300.1.1.1", None), ("::1", None), ("abc", None), ("1.2.3", None),
    ("01.2.3.4", None), (" 1.2.3.4", None), (None, None), (16909060, None),
])
def test_ipv4_or_none(value, expected):
    assert client.ipv4_or_none(value) == expected


def test_ipv4_problems_name_the_option_value_and_reason():
    assert common.ipv4_problems("ips", ["1.2.3.4", "300.1.1.1", "::1"]) == [
        "ips: '300.1.1.1' is not an IPv4 address",
        "ips: '::1' is an IPv6 address, and SendGrid dedicated IPs are IPv4",
    ]


@pytest.mark.parametrize("value, problem", [
    (None, None), (1, None), (10, None),
    (0, "count must be an integer from 1 to 10, got 0"),
    (11, "count must be an integer from 1 to 10, got 11"),
    (True, "count must be an integer from 1 to 10, got True"),
    ("two", "count must be an integer from 1 to 10, got 'two'"),
    ("3", None),
    (" 3 ", None),
    ("-1", "count must be an integer from 1 to 10, got '-1'"),
    (2.0, "count must be an integer from 1 to 10, got 2.0"),
    ([1], "count must be an integer from 1 to 10, got [1]"),
])
def test_int_problem_for_count(value, problem):
    assert common.int_problem("count", value, 1, 10) == problem


def test_int_problem_without_maximum():
    assert common.int_problem("total", 0, 1) == "total must be an integer of 1 or more, got 0"
    assert common.int_problem("total", 5000, 1) is None


def connection(**overrides):
    params = {"api_key": "k", "api_url": "https://api.sendgrid.com", "timeout": 30.0, "max_retries": 3}
    params.update(overrides)
    return params


def test_connection_problems_accept_good_settings():
    assert common.connection_problems(connection()) == []
    assert common.connection_problems(connection(api_url="http://127.0.0.1:8080/")) == []


@pytest.mark.parametrize("overrides, fragment", [
    ({"api_key": None}, "api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable"),
    ({"api_key": ""}, "api_key is required"),
    ({"api_url": "api.sendgrid.com"}, "api_url 'api.sendgrid.com' is not a base URL"),
    ({"api_url": "ftp://x"}, "api_url 'ftp://x' is not a base URL"),
    ({"api_url": "https://x/?a=1"}, "is not a base URL"),
    ({"timeout": 0}, "timeout must be a number of seconds above 0 and at most 3600, got 0"),
    ({"timeout": float("inf")}, "timeout must be a number of seconds above 0 and at most 3600, got inf"),
    ({"api_url": "http://[::1"}, "api_url 'http://[::1' is not a base URL"),
    ({"api_url": "http://host:99999"}, "api_url 'http://host:99999' is not a base URL"),
    ({"max_retries": -1}, "max_retries must be 0 or more, got -1"),
])
def test_connection_problems_name_option_and_value(overrides, fragment):
    problems = common.connection_problems(connection(**overrides))
    assert len(problems) == 1 and fragment in problems[0]


@pytest.mark.parametrize("api_url", [None, "", " ", "\t\n"])
def test_empty_api_url_means_the_default(api_url):
    # AWX renders an empty credential field as '': SENDGRID_API_URL='' is "not set", not a bad URL.
    assert common.api_url_or_default(api_url) == "https://api.sendgrid.com"
    assert common.connection_problems(connection(api_url=api_url)) == []


def test_api_url_or_default_keeps_a_given_url():
    assert common.api_url_or_default("https://api.eu.sendgrid.com") == "https://api.eu.sendgrid.com"


def patched_module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        from unittest import mock  # pylint: disable=import-outside-toplevel
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8"))
    return patch_module_args(args)


@pytest.mark.parametrize("args, env", [
    ({"api_key": "k"}, {"SENDGRID_API_URL": ""}),
    ({"api_key": "k"}, {"SENDGRID_API_URL": "  "}),
    ({"api_key": "k", "api_url": ""}, {}),
    ({"api_key": "k", "api_url": " "}, {"SENDGRID_API_URL": "https://api.eu.sendgrid.com"}),
])
def test_module_with_empty_api_url_uses_the_default(monkeypatch, args, env):
    monkeypatch.delenv("SENDGRID_API_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with patched_module_args(args):
        module = common.build_module({})
    assert module.params["api_url"] == "https://api.sendgrid.com"
    assert common.connection_problems(module.params) == []
    client = common.client_for(module)
    try:
        assert client.base_url == "https://api.sendgrid.com"
    finally:
        client.close()


def test_module_takes_api_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("SENDGRID_API_URL", "https://api.eu.sendgrid.com")
    with patched_module_args({"api_key": "k"}):
        module = common.build_module({})
    assert module.params["api_url"] == "https://api.eu.sendgrid.com"


def test_split_request_dedupes_and_keeps_order():
    to_remove, not_found = provisioning.split_request(
        ["1.1.1.3", "1.1.1.1", "1.1.1.3", "9.9.9.9"], ["1.1.1.1", "1.1.1.2", "1.1.1.3"])
    assert to_remove == ["1.1.1.3", "1.1.1.1"]
    assert not_found == ["9.9.9.9"]


def test_region_ips_keeps_listing_order():
    listing = [{"ip": "1.1.1.3", "region": "us"}, {"ip": "1.1.1.2", "region": "eu"}, {"ip": "1.1.1.1", "region": "us"}]
    assert provisioning.region_ips(listing, "us") == ["1.1.1.3", "1.1.1.1"]
    assert provisioning.region_ips(listing, "eu") == ["1.1.1.2"]


def test_placeholders_are_numbered():
    assert provisioning.placeholders(2) == ["(new IP 1 of 2)", "(new IP 2 of 2)"]
