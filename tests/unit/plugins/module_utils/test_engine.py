# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding engine with a fake API: validation, plan, cap, removals before additions, failures kept to one
customer, progress lines, the report."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _engine as engine_module
from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, SendGridError
from ansible_collections.sendgrid.partners.plugins.module_utils._customer import ROLE_NAMES
from ansible_collections.sendgrid.partners.plugins.module_utils._engine import (
    CustomerRun,
    Engine,
    diff_lines,
    outcome_line,
    report_csv,
    report_line,
    report_summary,
    summarize,
    write_report,
)


class FakeApi:
    """Accounts in memory ({account: [{ip, region}] newest first}); records every call in order. Thread-safe."""

    def __init__(self, accounts):
        self.accounts = {account: list(ips) for account, ips in accounts.items()}
        self.calls = []  # (method, account_id, detail)
        self.lock = threading.Lock()
        self.serial = 0
        self.closed = 0
        self.made = 0

    def _account(self, method, account_id, detail=None):
        with self.lock:
            self.calls.append((method, account_id, detail))
        if account_id not in self.accounts:
            raise ApiError(method, "/v3/partners/accounts/%s/ips" % account_id, 404, "Not Found",
                           [{"message": "Account not found", "field": "", "error_id": "10-40400"}])
        return self.accounts[account_id]

    def list_ips(self, account_id):
        return [dict(item) for item in self._account("GET", account_id)]

    def add_ips(self, account_id, region, count):
        ips = self._account("POST", account_id, (region, count))
        with self.lock:
            new = []
            for dummy in range(count):
                self.serial += 1
                new.append("10.1.%d.%d" % divmod(self.serial, 250))
            ips[:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
        return new, region

    def remove_ips(self, account_id, ips):
        held = self._account("DELETE", account_id, sorted(ips))
        with self.lock:
            held[:] = [item for item in held if item["ip"] not in ips]

    def close(self):
        self.closed += 1

    def posts(self):
        return [call for call in self.calls if call[0] == "POST"]

    def changes(self):
        return [call for call in self.calls if call[0] != "GET"]

    def held(self, account_id, region=None):
        return [item["ip"] for item in self.accounts[account_id] if region in (None, item["region"])]


def us(*ips):
    return [{"ip": ip, "region": "us"} for ip in ips]


def eu(*ips):
    return [{"ip": ip, "region": "eu"} for ip in ips]


def start(api, customers, max_new_ips=None, concurrency=4, names=None, apply=True, progress=None, clock=None):
    """Plan every customer, hold the plan to the cap, apply unless check mode or refused; (runs, plan)."""
    runs = [CustomerRun(name, customer, names) for name, customer in customers.items()]
    options = {"progress": progress}
    if clock is not None:
        options["clock"] = clock

    def make(connection):
        api.made += 1
        return api

    engine = Engine(runs, make, concurrency, **options)
    try:
        engine.plan()
        plan = summarize(runs, max_new_ips)
        if apply and not plan["refused"]:
            engine.apply()
    finally:
        engine.close()
    return runs, plan


def run(api, customers, apply=True, **options):
    runs, plan = start(api, customers, apply=apply, **options)
    return {r.name: r.outcome(not apply) for r in runs}, plan


# --------------------------------------------------------------------------- plan, cap, apply


def test_plan_then_apply_brings_every_account_to_its_total():
    api = FakeApi({"a1": us("1.1.1.1"), "a2": [], "a3": us("3.3.3.1", "3.3.3.2", "3.3.3.3")})
    outcome, plan = run(api, {
        "c1": {"account_id": "a1", "ips": [{"region": "us", "total": 3}, {"region": "eu", "total": 1}]},
        "c2": {"account_id": "a2", "ips": [{"region": "us", "total": 12}]},
        "c3": {"account_id": "a3", "ips": [{"region": "us", "total": 2}]},
    })
    assert plan["refused"] is None
    assert plan["add"] == {"us": 14, "eu": 1} and plan["add_total"] == 15 and plan["customers_to_change"] == 2
    assert [item["name"] for item in plan["largest"]] == ["c2", "c1"]
    assert plan["summary"] == [
        "Plan for 3 customers: 2 to change, 0 failed before any change; add 15 IPs (us 14, eu 1), remove 0 IPs.",
        "Largest additions: c2 (a2): 12 us; c1 (a1): 1 eu, 2 us.",
    ]
    assert sorted(detail for method, account, detail in api.posts()) == [("eu", 1), ("us", 2), ("us", 2), ("us", 10)]
    assert len(api.held("a2")) == 12
    assert len(outcome["c1"]["ips"]["us"]) == 3 and outcome["c1"]["ips"]["us"][-1] == "1.1.1.1"
    assert outcome["c1"]["added"]["us"] == outcome["c1"]["ips"]["us"][:2] and len(outcome["c1"]["ips"]["eu"]) == 1
    assert outcome["c3"] == dict(outcome["c3"], changed=False, added={}, ips={"us": ["3.3.3.1", "3.3.3.2", "3.3.3.3"]})
    assert api.closed == api.made >= 1  # one client per worker thread, each closed once


def test_check_mode_lists_and_plans_but_never_posts():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2")})
    outcome, plan = run(api, {"c1": {"account_id": "a1", "ips": [{"region": "us", "total": 4},
                                                                 {"state": "absent", "ips": ["1.1.1.2"]}]}}, apply=False)
    assert api.calls == [("GET", "a1", None)]
    assert outcome["c1"]["changed"] is True and outcome["c1"]["planned"] == {"add": {"us": 3}, "remove": ["1.1.1.2"]}
    assert outcome["c1"]["ips"] == {"us": ["1.1.1.1", "1.1.1.2"], "eu": []}
    assert outcome["c1"]["added"] == {} and outcome["c1"]["removed"] == []


def test_a_plan_above_the_cap_buys_nothing_for_anyone():
    api = FakeApi({"a%d" % n: [] for n in range(5)})
    customers = {"c%d" % n: {"account_id": "a%d" % n, "ips": [{"region": "us", "total": 20 if n == 3 else 2}]} for n in range(5)}
    outcome, plan = run(api, customers, max_new_ips=27)
    assert api.changes() == [] and len(api.calls) == 5
    assert plan["add_total"] == 28
    assert plan["refused"] == ("The plan adds 28 new IPs, above the cap of 27 (max_new_ips; sendgrid_max_new_ips in the role), "
                               "so nothing was bought for any customer. Largest additions: c3 (a3): 20 us; c0 (a0): 2 us; "
                               "c1 (a1): 2 us; c2 (a2): 2 us; c4 (a4): 2 us. If this is intended, raise the cap for this run, "
                               "e.g. -e sendgrid_max_new_ips=28.")
    assert plan["summary"][-1] == plan["refused"]
    assert all(line["changed"] is False and line["added"] == {} for line in outcome.values())


def test_a_plan_exactly_at_the_cap_goes_through():
    api = FakeApi({"a0": [], "a1": []})
    customers = {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 3}]},
                 "c1": {"account_id": "a1", "ips": [{"region": "eu", "count": 2}]}}
    outcome, plan = run(api, customers, max_new_ips=5)
    assert plan["refused"] is None and len(api.posts()) == 2
    assert plan["summary"][-1] == "Spend cap: 5 of at most 5 new IPs."
    assert len(api.held("a0", "us")) == 3 and len(api.held("a1", "eu")) == 2


def test_a_cap_of_zero_refuses_one_ip_and_allows_none():
    outcome, plan = run(FakeApi({"a0": []}), {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 1}]}}, max_new_ips=0)
    assert plan["refused"].startswith("The plan adds 1 new IPs, above the cap of 0 ")
    outcome, plan = run(FakeApi({"a0": us("1.1.1.1")}), {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 1}]}},
                        max_new_ips=0)
    assert plan["refused"] is None and plan["summary"][-1] == "Spend cap: 0 of at most 0 new IPs."


def test_one_failing_customer_does_not_stop_the_others():
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {
        "good": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
        "unknown": {"account_id": "missing", "ips": [{"region": "us", "total": 1}]},
        "typo": {"account_id": "a9", "ips": [{"region": "asia", "total": 1}]},
    })
    assert outcome["good"]["failed"] is False and len(api.held("a1")) == 1
    assert outcome["unknown"]["failed"] is True
    assert outcome["unknown"]["msg"].startswith("GET /v3/partners/accounts/missing/ips failed with HTTP 404 Not Found: Account not found")
    assert outcome["typo"]["msg"] == "ips[0].region must be eu or us, got 'asia'"
    assert [call for call in api.calls if call[1] == "a9"] == []
    assert plan["customers_failed"] == 2 and plan["customers_to_change"] == 1


def test_a_bug_in_one_customer_fails_that_customer_only():
    class Broken(FakeApi):
        def list_ips(self, account_id):
            if account_id == "bad":
                raise KeyError("region")
            return super().list_ips(account_id)

    api = Broken({"a1": [], "bad": []})
    outcome, plan = run(api, {"good": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
                              "boom": {"account_id": "bad", "ips": [{"region": "us", "total": 1}]}})
    assert outcome["boom"]["msg"].startswith("unexpected error, please report it as a bug of sendgrid.partners: KeyError: 'region'")
    assert outcome["good"]["changed"] is True and len(api.held("a1")) == 1


def test_two_customers_on_one_account_both_fail_before_any_request():
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"x": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
                              "y": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]},
                              "z": {"account_id": "a2", "ips": [{"region": "us", "total": 1}]}}, apply=True)
    assert [call for call in api.calls if call[1] == "a1"] == []
    assert outcome["x"]["msg"] == outcome["y"]["msg"] == \
        "account a1 is named by more than one customer (x, y); give each account to one host only"
    assert "msg" not in outcome["z"] or "more than one customer" not in outcome["z"]["msg"]


# --------------------------------------------------------------------------- what an entry may say


@pytest.mark.parametrize("entry, message", [
    ({"region": "us"}, "ips[0] needs exactly one of total and count, got {'region': 'us', 'state': 'present'}"),
    ({"region": "us", "total": 2, "count": 1}, "ips[0] needs exactly one of total and count"),
    ({"region": "us", "count": 11}, "ips[0].count must be an integer from 1 to 10, got 11"),
    ({"region": "us", "count": 0}, "ips[0].count must be an integer from 1 to 10, got 0"),
    ({"region": "us", "total": 0}, "ips[0].total must be an integer of 1 or more, got 0"),
    ({"region": "us", "total": -3}, "ips[0].total must be an integer of 1 or more, got -3"),
    ({"region": "us", "total": "two"}, "ips[0].total must be an integer of 1 or more, got 'two'"),
    ({"region": "us", "total": True}, "ips[0].total must be an integer of 1 or more, got True"),
    ({"region": "us", "total": 2.0}, "ips[0].total must be an integer of 1 or more, got 2.0"),
    ({"region": "us", "totl": 2}, "ips[0] has unknown keys totl (allowed: region, total, count, state, ips)"),
    ({"region": "us", "total": 1, "ips": ["1.1.1.1"]}, "ips[0]: ips is only for state absent"),
    ({"total": 1}, "ips[0].region must be eu or us, got None"),
    ({"state": "absent"}, "ips[0].ips must be a non-empty list of the IPv4 addresses to remove, got None"),
    ({"state": "absent", "ips": []}, "ips[0].ips must be a non-empty list of the IPv4 addresses to remove, got []"),
    ({"state": "absent", "ips": ["300.1.1.1"]}, "ips[0].ips: '300.1.1.1' is not an IPv4 address"),
    ({"state": "absent", "ips": ["::1"]}, "ips[0].ips: '::1' is an IPv6 address, and SendGrid dedicated IPs are IPv4"),
    ({"state": "absent", "ips": ["1.1.1.1"], "total": 1}, "ips[0]: state absent takes ips to remove, not total or count"),
    ({"state": "absent", "ips": ["1.1.1.1"], "region": "asia"}, "ips[0].region must be eu or us, got 'asia'"),
    ({"state": "gone", "region": "us"}, "ips[0].state must be present or absent, got 'gone'"),
    ("us:2", "ips[0] must be a dict like {region: us, total: 2}, got 'us:2'"),
])
def test_entry_problems_name_the_entry_and_value(entry, message):
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"region": "eu", "total": 1}, entry]}})
    assert message.replace("ips[0]", "ips[1]") in outcome["c"]["msg"]
    assert api.calls == []


def test_a_total_has_no_upper_bound():
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": 10**6}]}}, apply=False)
    assert not outcome["c"]["failed"] and plan["add_total"] == 10**6
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": 10**6}]}}, max_new_ips=50)
    assert plan["refused"].startswith("The plan adds 1000000 new IPs, above the cap of 50 ") and api.posts() == []


def test_customer_level_problems():
    api = FakeApi({})
    outcome, plan = run(api, {"noips": {"account_id": "a1", "ips": []}, "notdict": ["a1"], "badid": {"account_id": "..", "ips": [
        {"region": "us", "total": 1}]}})
    assert outcome["noips"]["msg"] == "ips must be a non-empty list of entries, got []"
    assert outcome["notdict"]["msg"] == "each customer must be a dict with account_id and ips, got ['a1']"
    assert outcome["badid"]["msg"] == "account_id '..' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)"
    assert api.calls == []


def test_digit_strings_from_templated_inventory_count_as_integers():
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": "2"}, {"region": "eu", "count": " 3"}]}})
    assert not outcome["c"]["failed"] and len(api.held("a1", "us")) == 2 and len(api.held("a1", "eu")) == 3


def test_two_entries_for_one_region_are_refused():
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [
        {"region": "us", "total": 2}, {"region": "eu", "total": 1}, {"region": "us", "count": 1}]}})
    assert outcome["c"]["msg"] == "ips has more than one total/count entry for region us; use one entry per region"
    assert api.calls == []


def test_role_names_in_messages_and_an_unused_cap():
    api = FakeApi({"a1": us("1.1.1.1")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "count": 11}]},
                             "d": {"account_id": " a1", "ips": [{"region": "us", "total": 1}]},
                             "e": {"account_id": "a1", "ips": "us"}}, max_new_ips=5, names=ROLE_NAMES)
    assert runs[0].message == "sendgrid_ips[0].count must be an integer from 1 to 10, got 11"
    assert runs[1].message == ("sendgrid_account_id ' a1' is not a valid SendGrid account ID (surrounding spaces, '.' and '..' "
                               "are refused)")
    assert runs[2].message == "sendgrid_ips must be a non-empty list of entries, got 'us'"
    assert plan["max_new_ips"] == 5 and plan["refused"] is None
    assert plan["summary"] == ["Plan for 3 customers: 0 to change, 3 failed before any change; add 0 IPs (us 0, eu 0), remove 0 IPs.",
                               "Spend cap: 0 of at most 5 new IPs."]
    assert api.calls == []


# --------------------------------------------------------------------------- removals


def test_removal_then_total_replaces_the_named_ip():
    api = FakeApi({"a1": us("1.1.1.2", "1.1.1.1")})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [
        {"state": "absent", "ips": ["1.1.1.1", "9.9.9.9"]}, {"region": "us", "total": 2}]}})
    held = api.held("a1")
    assert "1.1.1.1" not in held and "1.1.1.2" in held and len(held) == 2
    assert outcome["c"]["removed"] == ["1.1.1.1"] and outcome["c"]["not_found"] == ["9.9.9.9"]
    assert outcome["c"]["ips"]["us"] == held
    assert [method for method, account, detail in api.calls] == ["GET", "DELETE", "POST"]


def test_removals_run_before_additions_when_the_removal_comes_last():
    api = FakeApi({"a1": us("1.1.1.2", "1.1.1.1")})
    customer = {"account_id": "a1", "ips": [{"region": "us", "total": 2}, {"state": "absent", "region": "us", "ips": ["1.1.1.1"]}]}
    runs, plan = start(api, {"c": customer}, apply=False)
    assert runs[0].planned_add() == {"us": 1} and runs[0].planned_remove() == ["1.1.1.1"]
    assert plan["add_total"] == 1 and plan["remove_total"] == 1
    assert [type(step).__name__ for step in runs[0].steps] == ["Removal", "Purchase"]
    assert api.changes() == []
    runs, plan = start(api, {"c": customer})
    assert api.calls == [("GET", "a1", None), ("GET", "a1", None), ("DELETE", "a1", ["1.1.1.1"]), ("POST", "a1", ("us", 1))]
    assert api.held("a1") == ["10.1.0.1", "1.1.1.2"]
    assert runs[0].outcome(False)["ips"] == {"us": ["10.1.0.1", "1.1.1.2"]}


def test_a_removal_without_region_removes_from_any_region():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2") + eu("2.2.2.1", "2.2.2.2")})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"state": "absent", "ips": ["2.2.2.1", "1.1.1.2", "3.3.3.3"]}]}})
    assert api.held("a1") == ["1.1.1.1", "2.2.2.2"]
    assert outcome["c"]["removed"] == ["2.2.2.1", "1.1.1.2"] and outcome["c"]["not_found"] == ["3.3.3.3"]
    assert outcome["c"]["ips"] == {"eu": ["2.2.2.2"], "us": ["1.1.1.1"]}
    assert outcome["c"]["changed"] is True and plan["remove_total"] == 2


def test_removal_naming_the_wrong_region_removes_nothing_and_buys_nothing():
    api = FakeApi({"a1": us("1.1.1.1")})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [
        {"state": "absent", "region": "eu", "ips": ["1.1.1.1"]}, {"region": "eu", "total": 1}]}})
    assert outcome["c"]["msg"] == "nothing removed: ips[0].ips: 1.1.1.1 is in region us, not eu"
    assert api.calls == [("GET", "a1", None)] and api.accounts["a1"] == us("1.1.1.1")
    assert plan["customers_failed"] == 1 and plan["add_total"] == 0


def test_ips_named_for_removal_but_not_held_show_in_the_plan_and_the_report():
    api = FakeApi({"a1": us("1.1.1.1"), "a2": []})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"state": "absent", "ips": ["1.1.1.1", "9.9.9.9", "8.8.8.8"]}]},
                             "d": {"account_id": "a2", "ips": [{"state": "absent", "region": "eu", "ips": ["7.7.7.7"]}]}},
                       apply=False)
    assert plan["not_found_total"] == 3 and plan["remove_total"] == 1
    assert plan["summary"][0] == ("Plan for 2 customers: 1 to change, 0 failed before any change; add 0 IPs (us 0, eu 0), "
                                  "remove 1 IPs (3 more named for removal are not on their accounts).")
    line = report_line("c", runs[0], True)
    assert line["not_found"] == ["9.9.9.9", "8.8.8.8"] and line["status"] == "changed"
    assert line["regions"]["us"]["removed_ips"] == ["1.1.1.1"]
    line = report_line("d", runs[1], True)
    assert line == {"host": "d", "account_id": "a2", "status": "ok", "error": None, "not_found": ["7.7.7.7"],
                    "regions": {"eu": {"ips": [], "added": 0, "added_ips": [], "removed_ips": []}}}


def test_an_ip_named_twice_in_one_removal_is_removed_once():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"state": "absent", "ips": ["1.1.1.1", "1.1.1.1"]}]}})
    assert plan["remove_total"] == 1 and api.changes() == [("DELETE", "a1", ["1.1.1.1"])]


def test_two_removals_without_region_naming_one_ip_remove_it_once():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"state": "absent", "ips": ["1.1.1.1"]},
                                                               {"state": "absent", "ips": ["1.1.1.1"]}]}})
    assert plan["remove_total"] == 1
    assert api.changes() == [("DELETE", "a1", ["1.1.1.1"])]


# --------------------------------------------------------------------------- large accounts


def test_an_account_of_5001_ips_asking_5002_buys_exactly_one():
    held = us(*["100.%d.%d.%d" % (n // 65536, n // 256 % 256, n % 256) for n in range(5001)])
    api = FakeApi({"big": held})
    outcome, plan = run(api, {"c": {"account_id": "big", "ips": [{"region": "us", "total": 5002}]}})
    assert plan["add_total"] == 1
    assert api.posts() == [("POST", "big", ("us", 1))]
    assert len(api.held("big", "us")) == 5002 and outcome["c"]["added"] == {"us": ["10.1.0.1"]}
    assert len(outcome["c"]["ips"]["us"]) == 5002


@pytest.mark.parametrize("total", [2**31, 10**13, 10**30])
def test_a_total_no_account_could_hold_is_refused_before_any_request(total):
    api = FakeApi({"a1": []})
    outcome, plan = run(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": total}]}})
    assert outcome["c"]["failed"] and outcome["c"]["msg"] == (
        "ips[0].total must be an integer of 1 or more and at most 2147483647 (a 32-bit integer), got %d" % total)
    assert api.calls == [] and plan["add_total"] == 0


# --------------------------------------------------------------------------- progress


class FakeClock:
    def __init__(self, step):
        self.now = 0.0
        self.step = step

    def __call__(self):
        value = self.now
        self.now += self.step
        return value


def many(count, total=1):
    accounts = {"a%d" % n: [] for n in range(count)}
    customers = {"c%03d" % n: {"account_id": "a%d" % n, "ips": [{"region": "us", "total": total}]} for n in range(count)}
    return accounts, customers


def test_progress_every_tenth_of_the_customers_and_a_final_line():
    accounts, customers = many(30)
    lines = []
    start(FakeApi(accounts), customers, concurrency=3, progress=lines.append, clock=FakeClock(0.0))
    assert lines == ["Applied %d of 30 customers to change: %d changed, 0 failed, %d IPs bought (0 s)." % (n, n, n)
                     for n in (3, 6, 9, 12, 15, 18, 21, 24, 27, 30)]


def test_progress_at_most_every_ten_seconds():
    accounts, customers = many(100)
    lines = []
    start(FakeApi(accounts), customers, concurrency=1, progress=lines.append, clock=FakeClock(4.0))
    # The clock reads 0 at the start and 4 s more at each customer done: a line when 10 s have passed since the last.
    expected = ["Applied %d of 100 customers to change: %d changed, 0 failed, %d IPs bought (%d s)." % (n, n, n, 4 * n)
                for n in range(3, 100, 3)]
    assert lines[:-1] == expected
    assert lines[-1] == "Applied 100 of 100 customers to change: 100 changed, 0 failed, 100 IPs bought (404 s)."
    assert engine_module.PROGRESS_SECONDS == 10.0 and engine_module.PROGRESS_SHARE == 0.1


def test_progress_counts_failures_and_says_nothing_when_nothing_is_to_change():
    api = FakeApi({"a0": [], "a1": us("1.1.1.1")})
    lines = []
    start(api, {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 2}]},
                "gone": {"account_id": "a9", "ips": [{"region": "us", "total": 1}]}}, progress=lines.append, clock=FakeClock(0.0))
    assert lines == ["Applied 1 of 1 customers to change: 1 changed, 0 failed, 2 IPs bought (0 s)."]

    class FailingPost(FakeApi):
        def add_ips(self, account_id, region, count):
            raise ApiError("POST", "/v3/partners/accounts/%s/ips" % account_id, 403, "Forbidden", [])

    lines = []
    start(FailingPost({"a0": []}), {"c0": {"account_id": "a0", "ips": [{"region": "us", "total": 2}]}}, progress=lines.append,
          clock=FakeClock(0.0))
    assert lines == ["Applied 1 of 1 customers to change: 0 changed, 1 failed, 0 IPs bought (0 s)."]
    lines = []
    start(FakeApi({"a1": us("1.1.1.1")}), {"c": {"account_id": "a1", "ips": [{"region": "us", "total": 1}]}}, progress=lines.append)
    assert lines == []


def test_each_worker_thread_keeps_one_client_per_connection():
    made = []
    lock = threading.Lock()

    def make(connection):
        client = FakeApi({"a%d" % n: [] for n in range(12)})
        with lock:
            made.append(connection)
        return client

    runs = [CustomerRun("c%d" % n, {"account_id": "a%d" % n, "ips": [{"region": "us", "total": 1}]},
                        connection=("https://one" if n % 2 else "https://two", "k")) for n in range(12)]
    engine = Engine(runs, make, 2)
    engine.plan()
    engine.close()
    assert 2 <= len(made) <= 4 and set(made) == {("https://one", "k"), ("https://two", "k")}
    assert len(engine.clients) == len(made) and all(client.closed == 1 for client in engine.clients)


# --------------------------------------------------------------------------- report


def test_report_line_summary_outcome_and_diff_of_a_real_run():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2"), "a2": us("2.2.2.2")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"state": "absent", "ips": ["1.1.1.2"]}, {"region": "us", "total": 3}]},
                             "d": {"account_id": "a2", "ips": [{"region": "us", "total": 1}]},
                             "e": {"account_id": "zz", "ips": [{"region": "eu", "total": 1}]}})
    lines = [report_line(run.name, run, False) for run in runs]
    assert lines[0] == {"host": "c", "account_id": "a1", "status": "changed", "error": None, "not_found": [],
                        "regions": {"eu": {"ips": [], "added": 0, "added_ips": [], "removed_ips": []},
                                    "us": {"ips": ["10.1.0.2", "10.1.0.1", "1.1.1.1"], "added": 2, "added_ips": ["10.1.0.2", "10.1.0.1"],
                                           "removed_ips": ["1.1.1.2"]}}}
    assert lines[1]["status"] == "ok" and lines[1]["regions"] == {"us": {"ips": ["2.2.2.2"], "added": 0, "added_ips": [], "removed_ips": []}}
    assert lines[2]["status"] == "failed" and "HTTP 404" in lines[2]["error"]
    assert lines[2]["regions"] == {"eu": {"ips": [], "added": 0, "added_ips": [], "removed_ips": []}}
    summary = report_summary(lines)
    assert summary == {"customers": 3, "ok": 1, "changed": 1, "failed": 1, "ips_added": 2, "ips_removed": 1}
    assert outcome_line(summary, False) == "Done: 3 customers: 1 changed, 1 ok, 1 failed; 2 IPs added, 1 removed."
    assert diff_lines("c", runs[0], False) == ["c us: [1.1.1.1, 1.1.1.2] -> [10.1.0.2, 10.1.0.1, 1.1.1.1]"]
    assert diff_lines("d", runs[1], False) == [] and diff_lines("e", runs[2], False) == []


def test_report_and_diff_of_a_check_run():
    api = FakeApi({"a1": us("1.1.1.1", "1.1.1.2")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": 3}, {"state": "absent", "ips": ["1.1.1.2"]}]}},
                       apply=False)
    line = report_line("c", runs[0], True)
    assert line["status"] == "changed"
    assert line["regions"] == {"eu": {"ips": [], "added": 0, "added_ips": [], "removed_ips": []},  # a removal without region: every region
                               "us": {"ips": ["1.1.1.1", "1.1.1.2"], "added": 2, "added_ips": [], "removed_ips": ["1.1.1.2"]}}
    summary = report_summary([line])
    assert outcome_line(summary, True) == "Check mode, nothing changed. Would change: 1 customers: 1 changed, 0 ok, 0 failed; 2 IPs to add, 1 removed."
    assert diff_lines("c", runs[0], True) == ["c us: [1.1.1.1, 1.1.1.2] -> [(new IP 1 of 2), (new IP 2 of 2), 1.1.1.1]"]


def test_report_line_of_a_refused_plan_and_of_a_host_the_engine_never_saw():
    api = FakeApi({"a1": us("1.1.1.1")})
    runs, plan = start(api, {"c": {"account_id": "a1", "ips": [{"region": "us", "total": 3}]}}, max_new_ips=1)
    line = report_line("c", runs[0], False, error=plan["refused"])
    assert line["status"] == "failed" and line["error"] == plan["refused"]
    assert line["regions"] == {"us": {"ips": ["1.1.1.1"], "added": 0, "added_ips": [], "removed_ips": []}}
    assert report_line("h", None, False, error="why") == {"host": "h", "account_id": None, "status": "failed", "error": "why",
                                                          "regions": {}, "not_found": []}


def report_of(lines):
    return {"check_mode": False, "plan": {}, "summary": report_summary(lines), "customers": lines}


def test_report_csv_quotes_what_needs_it():
    lines = [
        {"host": "plain", "account_id": "a1", "status": "changed", "error": None, "not_found": [],
         "regions": {"us": {"ips": ["1.1.1.2", "1.1.1.1"], "added": 1, "added_ips": ["1.1.1.2"], "removed_ips": []}}},
        {"host": "odd, \"quoted\"", "account_id": "a2", "status": "failed", "not_found": [],
         "error": "GET failed: \"bad\", then\nmore", "regions": {"eu": {"ips": [], "added": 0, "added_ips": [], "removed_ips": []}}},
    ]
    text = report_csv(report_of(lines))
    assert text.splitlines()[0] == ("host,account_id,status,us_ips,us_added,us_added_ips,us_removed_ips,"
                                    "eu_ips,eu_added,eu_added_ips,eu_removed_ips,error")
    assert text.splitlines()[1] == "plain,a1,changed,1.1.1.2 1.1.1.1,1,1.1.1.2,,,,,,"
    assert '"odd, ""quoted""",a2,failed,,,,,,0,,,"GET failed: ""bad"", then\nmore"\n' in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[2] == ["odd, \"quoted\"", "a2", "failed", "", "", "", "", "", "0", "", "", "GET failed: \"bad\", then\nmore"]
    assert len(rows) == 3


def test_write_report_writes_json_and_csv_beside_it(tmp_path):
    lines = [{"host": "h", "account_id": "a1", "status": "ok", "error": None, "not_found": [],
              "regions": {"us": {"ips": ["1.1.1.1"], "added": 0, "added_ips": [], "removed_ips": []}}}]
    path = write_report(str(tmp_path / "deep" / "onboard.json"), report_of(lines))
    assert path == str(tmp_path / "deep" / "onboard.json")
    assert json.loads((tmp_path / "deep" / "onboard.json").read_text())["customers"] == lines
    assert (tmp_path / "deep" / "onboard.csv").read_text() == report_csv(report_of(lines))
    assert sorted(item.name for item in (tmp_path / "deep").iterdir()) == ["onboard.csv", "onboard.json"]


def test_write_report_names_the_path_it_cannot_write(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    wanted = str(tmp_path / "file" / "sub" / "onboard.json")
    with pytest.raises(SendGridError) as caught:
        write_report(wanted, report_of([]))
    assert str(caught.value) == "sendgrid_report_path %s: cannot write the report: Not a directory" % wanted
