# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input, property-based (hypothesis): the account path, the checks every module runs, the bulk step's entries.

The promise under test: for any input, a clear failure (a message naming the option) or a correct request; never a
traceback, never a path outside /v3/partners/accounts/<one segment>/ips. Pure logic, no HTTP: the same promise over the
wire, against the simulator, is in tests/integration/targets/client_http/test_fuzz_http.py; both take their values
from hostile_values.py. Examples are derandomized and bounded so CI is stable and fast.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote

import pytest
from hypothesis import assume, given, strategies as st

from ansible_collections.sendgrid.partners.plugins.module_utils import _customer, _engine
from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    InvalidRequestError,
    account_path,
    ipv4_or_none,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._module import (
    connection_problems,
    int_problem,
    ipv4_problems,
)
from ansible_collections.sendgrid.partners.tests.unit.plugins.module_utils.hostile_values import (
    ACCOUNT_IDS,
    FUZZ,
    IP_VALUES,
    JSON,
    NOT_STRINGS,
    NUMBERS,
    ONE_SEGMENT,
    SEED_IPS,
    STRICT_IPV4,
)


# --------------------------------------------------------------------------- account_path


@FUZZ
@given(account_id=st.one_of(ACCOUNT_IDS, st.text(), NOT_STRINGS, st.binary(max_size=5)))
def test_account_path_is_one_segment_or_a_clear_refusal(account_id):
    try:
        path = account_path(account_id)
    except InvalidRequestError as exc:
        assert "account_id" in str(exc)
        return
    assert isinstance(account_id, str)
    match = ONE_SEGMENT.match(path)
    assert match and unquote(match.group(1)) == account_id
    assert account_id not in (".", "..") and account_id.strip() == account_id != ""
    assert not any(ord(char) < 32 or ord(char) == 127 for char in account_id)


# --------------------------------------------------------------------------- the checks every module runs


@FUZZ
@given(value=NUMBERS.filter(lambda value: isinstance(value, (int, type(None)))), maximum=st.sampled_from([None, 10]))
def test_int_problem_accepts_exactly_the_range(value, maximum):
    problem = int_problem("count", value, 1, maximum)
    good = value is None or (not isinstance(value, bool) and value >= 1 and (maximum is None or value <= maximum))
    assert (problem is None) == good
    if problem:
        assert problem.startswith("count must be an integer ") and problem.endswith("got %r" % (value,))


@FUZZ
@given(values=st.lists(IP_VALUES, max_size=6))
def test_ipv4_problems_accept_only_dotted_quads(values):
    problems = ipv4_problems("ips", values)
    bad = [value for value in values if not (isinstance(value, str) and STRICT_IPV4.fullmatch(value))]
    assert len(problems) == len(bad)
    for value, problem in zip(bad, problems):
        assert problem.startswith("ips: %r is " % (value,))
        if isinstance(value, str) and ":" in value:
            assert "IPv6" in problem
    for value in values:
        if value not in bad:
            assert ipv4_or_none(value) == value == str(ipaddress.IPv4Address(value))


URLS = st.one_of(st.sampled_from(["https://api.sendgrid.com", "http://127.0.0.1:8", "ftp://x", "https://", "api.sendgrid.com",
                                  "https://h/?a=1", "https://h/#f", "http://[::1", "http://[::1]:80", "http://h:abc",
                                  "https://user:pw@h", ""]),
                 st.text(max_size=30), st.builds("http://{}".format, st.text(max_size=12)))


@FUZZ
@given(api_url=URLS, timeout=st.floats(allow_nan=True), retries=st.integers())
def test_connection_problems_never_raise(api_url, timeout, retries):
    problems = connection_problems({"api_key": "k", "api_url": api_url, "timeout": timeout, "max_retries": retries})
    assert all(isinstance(problem, str) for problem in problems)
    if not timeout > 0:
        assert any(problem.startswith("timeout must be") for problem in problems)
    if retries < 0:
        assert any(problem.startswith("max_retries must be") for problem in problems)


# --------------------------------------------------------------------------- the bulk step's entries


KEYS = st.one_of(st.sampled_from(["region", "total", "count", "state", "ips"]), st.text(max_size=5))
ENTRY = st.one_of(
    st.fixed_dictionaries({"region": st.sampled_from(["us", "eu", "EU", None, 1])},
                          optional={"total": NUMBERS.filter(lambda v: not isinstance(v, int) or v <= 60),
                                    "count": NUMBERS.filter(lambda v: not isinstance(v, int) or v <= 60),
                                    "state": st.sampled_from(["present", "absent", "gone", None]),
                                    "ips": st.one_of(st.lists(st.one_of(st.sampled_from(SEED_IPS), IP_VALUES), max_size=12),
                                                     JSON)}),
    st.dictionaries(KEYS, JSON, max_size=4), JSON)
# Nearly valid customers, so that the checks of values (ranges, types, shared accounts) are reached.
NEAR_ENTRY = st.one_of(
    st.builds(lambda region, key, value: {"region": region, key: value}, st.sampled_from(["us", "eu"]),
              st.sampled_from(["total", "count"]),
              st.one_of(st.integers(min_value=-2, max_value=13), st.sampled_from(["2", " 3", "x", True, 2.0, None]))),
    st.builds(lambda region, ips: {"state": "absent", "region": region, "ips": ips}, st.sampled_from([None, "us", "eu"]),
              st.lists(st.sampled_from(SEED_IPS + ["1.2.3", "::1"]), max_size=3)))
NEAR_CUSTOMER = st.fixed_dictionaries({"account_id": st.sampled_from(["acct", "other", "a/b", " acct", ".."]),
                                       "ips": st.lists(NEAR_ENTRY, max_size=3)})
CUSTOMER = st.one_of(
    NEAR_CUSTOMER,
    st.fixed_dictionaries({"account_id": st.one_of(st.sampled_from(["acct", "other"]), ACCOUNT_IDS, NOT_STRINGS)},
                          optional={"ips": st.one_of(st.lists(ENTRY, max_size=4), JSON), "name": JSON}),
    JSON)


class FakeClient:
    """Records every call; holds the accounts' IPs like SendGrid would."""

    def __init__(self, accounts, calls):
        self.accounts = accounts
        self.calls = calls

    def list_ips(self, account_id):
        self.calls.append(("GET", account_id, None))
        account_path(account_id)
        return list(self.accounts.setdefault(account_id, []))

    def add_ips(self, account_id, region, count):
        self.calls.append(("POST", account_id, (region, count)))
        assert len(self.calls) < 2000, "runaway: more than 2000 calls"
        new = ["174.%d.%d.%d" % (len(self.calls) % 250, number, 7) for number in range(count)]
        self.accounts.setdefault(account_id, [])[:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
        return new, region

    def remove_ips(self, account_id, ips):
        self.calls.append(("DELETE", account_id, list(ips)))
        gone = set(ips)
        self.accounts[account_id] = [item for item in self.accounts.get(account_id, []) if item["ip"] not in gone]


def as_number(value):
    """What the bulk step's contract accepts as an integer: an int that is not a bool, or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_all(customers, make_client, concurrency, apply, max_new_ips=None):
    """Plan every customer with the engine, then apply unless the cap refuses: (runs, plan, refusal)."""
    runs = [_engine.CustomerRun(name, customer) for name, customer in customers.items()]
    engine = _engine.Engine(runs, lambda connection: make_client(), concurrency)
    engine.plan()
    plan = _engine.summarize(runs, max_new_ips)
    if apply and not plan["refused"]:
        engine.apply()
    return runs, plan, plan["refused"]


def entry_is_valid(entry):
    """The contract of one entry (provision_accounts' documentation), written independently of _customer."""
    if not isinstance(entry, dict) or set(entry) - {"region", "total", "count", "state", "ips"}:
        return False
    state = entry.get("state", "present")
    if state == "absent":
        ips = entry.get("ips")
        return (entry.get("region") in (None, "eu", "us") and entry.get("total") is None and entry.get("count") is None
                and isinstance(ips, list) and bool(ips)
                and all(isinstance(ip, str) and STRICT_IPV4.fullmatch(ip) for ip in ips))
    if state != "present" or entry.get("region") not in ("eu", "us") or "ips" in entry:
        return False
    total, count = entry.get("total"), entry.get("count")
    if (total is None) == (count is None):
        return False
    if total is not None:
        return as_number(total) is not None and 1 <= as_number(total) <= 2 ** 31 - 1
    return as_number(count) is not None and 1 <= as_number(count) <= 10


def customer_is_valid(customer):
    if not isinstance(customer, dict) or not isinstance(customer.get("ips"), list):
        return False
    account_id = customer.get("account_id")
    if not isinstance(account_id, str) or not account_id.strip() or account_id != account_id.strip():
        return False
    if account_id in (".", "..") or any(ord(char) < 32 or ord(char) == 127 for char in account_id):
        return False
    entries = customer["ips"]
    present = [entry.get("region") for entry in entries if isinstance(entry, dict) and entry.get("state", "present") == "present"]
    return bool(entries) and all(entry_is_valid(entry) for entry in entries) and len(present) == len(set(present))


@FUZZ
@given(customer=CUSTOMER)
def test_customer_problems_never_raise_and_name_what_is_wrong(customer):
    problems = _customer.customer_problems(customer)
    assert isinstance(problems, list) and all(isinstance(problem, str) and problem for problem in problems)
    if not isinstance(customer, dict):
        assert problems and problems[0].startswith("each customer must be a dict")
    normalized = dict(customer, ips=[_customer.normalized(entry) for entry in customer["ips"]]) \
        if isinstance(customer, dict) and isinstance(customer.get("ips"), list) else customer
    assert (not _customer.customer_problems(normalized)) == customer_is_valid(customer)


@FUZZ
@given(customers=st.dictionaries(st.text(min_size=1, max_size=6), CUSTOMER, max_size=5), apply=st.booleans(),
       cap=st.one_of(st.none(), st.integers(min_value=0, max_value=100)))
def test_run_all_calls_only_for_valid_customers_and_never_raises(customers, apply, cap):
    # Unhashable account IDs: test_bulk_unhashable_account_id_fails_that_customer_only.
    assume(not any(isinstance(customer, dict) and isinstance(customer.get("account_id"), (list, dict))
                   for customer in customers.values()))
    accounts = {"acct": [{"ip": ip, "region": "us" if ip.startswith("174") else "eu"} for ip in SEED_IPS]}
    calls = []
    runs, plan, cap_message = run_all(customers, lambda: FakeClient(accounts, calls), 3, apply, max_new_ips=cap)
    assert plan["customers"] == len(customers) == len(runs)
    invalid = {name for name, customer in customers.items() if not customer_is_valid(customer)}
    valid_accounts = [customer["account_id"] for name, customer in customers.items() if name not in invalid]
    for run, (name, customer) in zip(runs, customers.items()):
        assert run.name == name
        shared = name not in invalid and valid_accounts.count(customer["account_id"]) > 1
        misplaced = name not in invalid and customer["account_id"] in accounts and any(
            entry.get("state") == "absent" and entry.get("region") and item["ip"] in entry["ips"] and item["region"] != entry["region"]
            for entry in customer["ips"] for item in accounts[customer["account_id"]])
        assert run.failed == (name in invalid or shared or misplaced), (name, customer, run.message)
        if misplaced and not shared:
            assert run.message.startswith("nothing removed: ips["), run.message
        if run.failed:
            assert run.message
        if run.failed:
            assert "unexpected error" not in run.message and "Traceback" not in run.message, run.message
    valid_ids = {run.account_id for run in runs if run.name not in invalid}
    for method, account_id, detail in calls:
        assert account_id in valid_ids, "a %s for %r, which failed validation" % (method, account_id)
        if method == "POST":
            assert detail[0] in ("us", "eu") and 1 <= detail[1] <= 10
            assert apply and cap_message is None
        if method == "DELETE":
            assert apply and 1 <= len(detail) <= 10 and all(ipv4_or_none(ip) == ip for ip in detail)
    if cap_message:
        assert plan["add_total"] > cap and not [call for call in calls if call[0] != "GET"]


@pytest.mark.parametrize("account_id", [["sg1"], {"id": "sg1"}])
def test_bulk_unhashable_account_id_fails_that_customer_only(account_id):
    calls = []
    runs, _plan, _cap = run_all({"bad": {"account_id": account_id, "ips": [{"region": "us", "total": 1}]},
                                 "good": {"account_id": "acct", "ips": [{"region": "us", "total": 1}]}},
                                lambda: FakeClient({}, calls), 2, True)
    assert runs[0].failed and "account_id" in runs[0].message
    assert not runs[1].failed and calls[0] == ("GET", "acct", None)


@pytest.mark.parametrize("total", [10**13, 10**30])
def test_bulk_huge_total_is_refused_clearly(total):
    calls = []
    runs, _plan, _cap = run_all({"c": {"account_id": "acct", "ips": [{"region": "us", "total": total}]}},
                                lambda: FakeClient({}, calls), 1, True)
    assert runs[0].failed and "total" in runs[0].message
    assert "unexpected error" not in runs[0].message
    assert [call for call in calls if call[0] == "POST"] == []
