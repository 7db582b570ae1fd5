# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bulk step's decisions with a fake API: validation, plan, cap, isolation of failures."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _bulk as bulk
from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError


class FakeApi:
    """Accounts in memory; records every call. Thread-safe like the real thing has to be."""

    def __init__(self, accounts):
        self.accounts = {account: list(ips) for account, ips in accounts.items()}  # [{ip, region}] newest first
        self.calls = []
        self.lock = threading.Lock()
        self.serial = 0

    def _account(self, method, account_id):
        with self.lock:
            self.calls.append((method, account_id))
        if account_id not in self.accounts:
            raise ApiError(method, "/v3/partners/accounts/%s/ips" % account_id, 404, "Not Found",
                           [{"message": "Account not found", "field": "", "error_id": "10-40400"}])
        return self.accounts[account_id]

    def list_ips(self, account_id):
        return list(self._account("GET", account_id))

    def add_ips(self, account_id, region, count):
        ips = self._account("POST", account_id)
        with self.lock:
            new = []
            for dummy in range(count):
                self.serial += 1
                new.append("10.1.%d.%d" % divmod(self.serial, 250))
            ips[:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
        return new, region

    def remove_ips(self, account_id, ips):
        held = self._account("DELETE", account_id)
        held[:] = [item for item in held if item["ip"] not in ips]

    def posts(self):
        return [call for call in self.calls if call[0] == "POST"]


def us(*ips):
    return [{"ip": ip, "region": "us"} for ip in ips]


def run(api, customers, apply=True, max_new_ips=None, concurrency=4):
    runs, plan, cap_message = bulk.run_all(customers, lambda: api, concurrency, apply, max_new_ips)
    return {r.name: r.outcome(not apply) for r in runs}, plan, cap_message


def test_plan_then_apply_brings_every_account_to_its_total():
    api = FakeApi({"a1": us("1.1.1.1"), "a2": [], "a3": us("3.3.3.1", "3.3.3.2", "3.3.3.3")})
    outcome, plan, cap = run(api, {
        "c1": {"account_id": "a1", "ips": [{"region": "us", "total": 3}, {"region": "eu", "total": 1}]},
        "c2": {"account_id": "a2", "ips": [{"region": "us", "total": 12}]},
        "c3": {"account_id": "a3", "ips": [{"region": "us", "total": 2}]},
    })
    assert cap is None
    assert plan["add"] == {"us": 14, "eu": 1} and plan["customers_to_change"] == 2
    assert [item["name"] for item in plan["largest"]] == ["c2", "c1"]
    assert plan["summary"][0] == "Plan for 3 customers: 2 to change, 0 failed before any change; add 15 IPs (us 14, eu 1), remove 0 IPs."
    assert sorted(count for method, count in api.posts()) == ["a1", "a1", "a2", "a2"]
    assert len(api.accounts["a2"]) == 12
    assert len(outcome["c1"]["ips"]["us"]) == 3 and outcome["c1"]["ips"]["us"][-1] == "1.1.1.1"
    assert outcome["c3"] == dict(outcome["c3"], changed=False, added={}, ips={"us": ["3.3.3.1", "3.3.3.2", "3.3.3.3"]})


def test_check_mode_lists_and_plans_but_never_posts():
    api = FakeApi({"a1": us("1.1.1.1")})
    outcome, plan, cap = run(api, {"c1": {"account_id": "a1", "ips": [{"region": "us", "total": 4}]}}, apply=False)
    assert api.calls == [("GET", "a1")]
    assert outcome["c1"]["changed"] is True and outcome["c1"]["planned"]["add"] == {"us": 3}
    assert outcome["c1"]["ips"] == {"us": ["1.1.1.1"]}


def test_a_plan_above_the_cap_buys_nothing_for_anyone():
    api = FakeApi({"a%d" % n: [] for n in range(5)})
    customers = {"c%d" % n: {"account_id": "a%d" % n, "ips": [{"region": "us", "total": 20 if n == 3 else 2}]} for n in range(5)}
    outcome, plan, cap = run(api, customers, max_new_ips=27)
    assert api.posts() == []
    assert plan["add_total"] == 28
    assert cap.startswith("The plan adds 28 new IPs, above the cap of 27 (max_new_ips; sendgrid_max_new_ips in the role), "
                          "so nothing was bought for any customer. Largest additions: c3 (a3): 20 us; c0 (a0): 2 us;")
    assert cap.endswith("-e sendgrid_max_new_ips=28.")


def test_a_plan_exactly_at_the_cap_goes_through():
    api = FakeApi({"a0": [], "a1": []})
    customers = {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 3}]},
                 "c1": {"account_id": "a1", "ips": [{"region": "eu", "count": 2}]}}
    outcome, plan, cap = run(api, customers, max_new_ips=5)
    assert cap is None and len(api.posts()) == 2
    assert len(api.accounts["a0"]) == 3 and len(api.accounts["a1"]) == 2


def test_one_failing_customer_does_not_stop_the_others():
    api = FakeApi({"a1": []})
    outcome, plan, cap = run(api, {
        "good": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
        "unknown": {"account_id": "missing", "ips": [{"region": "us", "total": 1}]},
        "typo": {"account_id": "a9", "ips": [{"region": "asia", "total": 1}]},
    })
    assert outcome["good"]["failed"] is False and len(api.accounts["a1"]) == 1
    assert outcome["unknown"]["failed"] is True and "HTTP 404 Not Found: Account not found" in outcome["unknown"]["msg"]
    assert outcome["typo"]["msg"] == "ips[0].region must be eu or us, got 'asia'"
    assert ("GET", "a9") not in api.calls
    assert plan["customers_failed"] == 2


def test_two_customers_on_one_account_both_fail_before_any_request():
    api = FakeApi({"a1": []})
    outcome, plan, cap = run(api, {"x": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
                                   "y": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]}})
    assert api.calls == []
    assert outcome["x"]["msg"] == "account a1 is named by more than one customer (x, y); give each account to one host only"


@pytest.mark.parametrize("entry, message", [
    ({"region": "us"}, "ips[0] needs exactly one of total and count, got {'region': 'us'}"),
    ({"region": "us", "total": 2, "count": 1}, "ips[0] needs exactly one of total and count"),
    ({"region": "us", "count": 11}, "ips[0].count must be an integer from 1 to 10, got 11"),
    ({"region": "us", "total": 0}, "ips[0].total must be an integer from 1 to 1000, got 0"),
    ({"region": "us", "total": "two"}, "ips[0].total must be an integer from 1 to 1000, got 'two'"),
    ({"region": "us", "total": True}, "ips[0].total must be an integer from 1 to 1000, got True"),
    ({"region": "us", "totl": 2}, "ips[0] has unknown keys totl (allowed: region, total, count, state, ips)"),
    ({"state": "absent"}, "ips[0].ips must be a non-empty list of the IPv4 addresses to remove, got None"),
    ({"state": "absent", "ips": ["300.1.1.1"]}, "ips[0].ips: '300.1.1.1' is not an IPv4 address"),
    ({"state": "absent", "ips": ["1.1.1.1"], "total": 1}, "ips[0]: state absent takes ips to remove, not total or count"),
    ({"state": "gone", "region": "us"}, "ips[0].state must be present or absent, got 'gone'"),
    ("us:2", "ips[0] must be a dict like {region: us, total: 2}, got 'us:2'"),
])
def test_entry_problems_name_the_entry_and_value(entry, message):
    api = FakeApi({"a1": []})
    outcome, plan, cap = run(api, {"c": {"account_id": "a1", "ips": [entry]}})
    assert message in outcome["c"]["msg"]
    assert api.calls == []


def test_digit_strings_from_templated_inventory_count_as_integers():
    api = FakeApi({"a1": []})
    outcome, plan, cap = run(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": "2"}]}})
    assert not outcome["c"]["failed"] and len(api.accounts["a1"]) == 2


def test_two_entries_for_one_region_are_refused():
    outcome, plan, cap = run(FakeApi({"a1": []}), {"c": {"account_id": "a1", "ips": [
        {"region": "us", "total": 2}, {"region": "us", "count": 1}]}})
    assert outcome["c"]["msg"] == "ips has more than one total/count entry for region us; use one entry per region"


def test_removal_then_total_replaces_the_named_ip():
    api = FakeApi({"a1": us("1.1.1.2", "1.1.1.1")})
    outcome, plan, cap = run(api, {"c": {"account_id": "a1", "ips": [
        {"state": "absent", "ips": ["1.1.1.1", "9.9.9.9"]}, {"region": "us", "total": 2}]}})
    held = [item["ip"] for item in api.accounts["a1"]]
    assert "1.1.1.1" not in held and "1.1.1.2" in held and len(held) == 2
    assert outcome["c"]["removed"] == ["1.1.1.1"] and outcome["c"]["not_found"] == ["9.9.9.9"]
    assert outcome["c"]["ips"]["us"] == held


def test_removal_naming_the_wrong_region_removes_nothing_and_buys_nothing():
    api = FakeApi({"a1": us("1.1.1.1")})
    outcome, plan, cap = run(api, {"c": {"account_id": "a1", "ips": [
        {"state": "absent", "region": "eu", "ips": ["1.1.1.1"]}, {"region": "eu", "total": 1}]}})
    assert outcome["c"]["msg"] == "nothing removed: ips[0].ips: 1.1.1.1 is in region us, not eu"
    assert api.calls == [("GET", "a1")] and api.accounts["a1"] == us("1.1.1.1")
    assert plan["customers_failed"] == 1 and plan["add_total"] == 0


def test_role_names_in_messages_and_listed_ips_before_changes():
    api = FakeApi({"a1": us("1.1.1.1")})
    runs, plan, cap = bulk.run_all({"c": {"account_id": "a1", "ips": [{"region": "us", "count": 11}]},
                                    "d": {"account_id": "a1x", "ips": []}}, lambda: api, 2, True, 5,
                                   names={"account_id": "sendgrid_account_id", "ips": "sendgrid_ips"})
    assert runs[0].message == "sendgrid_ips[0].count must be an integer from 1 to 10, got 11"
    assert plan["max_new_ips"] == 5 and plan["refused"] is None
    assert plan["summary"][-1] == "Spend cap: 0 of at most 5 new IPs."
