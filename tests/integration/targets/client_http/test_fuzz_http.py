# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input over HTTP, property-based (hypothesis): the client and every module against the simulator.

The promise under test: for any input, a clear failure (a message naming the option) or a correct request;
never a traceback, never a request outside /v3/partners/accounts/<one segment>/ips. Requests go to the real
simulator, whose log shows what really went over the wire. The values are those of the unit tests'
test_fuzz_input.py (the same promise without HTTP), from tests/unit/plugins/module_utils/hostile_values.py. Examples
are derandomized and bounded so CI is stable and fast.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from urllib.parse import unquote

import pytest
from hypothesis import assume, given, strategies as st

from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    InvalidRequestError,
    SendGridClient,
    SendGridError,
    account_path,
    ipv4_or_none,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._module import ipv4_problems
from ansible_collections.sendgrid.partners.tests.unit.plugins.module_utils.hostile_values import (
    ACCOUNT_IDS,
    FUZZ,
    FUZZ_SLOW,
    IP_VALUES,
    MODULE_NUMBERS,
    NOT_STRINGS,
    ONE_SEGMENT,
    SEED_IPS,
)


KEY = "fuzz-test-key-8c4e2a7d19"


@pytest.fixture
def sim(start_simulator):
    return start_simulator(api_key=KEY)


def assert_one_segment(record, account_id):
    """The request went to /v3/partners/accounts/<one segment>/ips, and the segment decodes to account_id."""
    match = ONE_SEGMENT.match(record["path"])
    assert match, "request outside the IP endpoint of one account: %r" % record["path"]
    assert unquote(match.group(1)) == account_id == record["account_id"]


# --------------------------------------------------------------------------- account_path


@FUZZ
@given(account_id=ACCOUNT_IDS)
def test_the_simulator_sees_exactly_the_account_id_as_one_segment(sim, account_id):
    """For every ID the client accepts, the request it sends names that account and no other."""
    try:
        account_path(account_id)
    except InvalidRequestError:
        assume(False)
    sim.reset({account_id: {"ips": [{"ip": "174.9.9.9", "region": "eu"}]}, "a": {}, "b": {}})
    client = SendGridClient(KEY, sim.url, timeout=5, sleep=lambda seconds: None)
    try:
        assert client.list_ips(account_id) == [{"ip": "174.9.9.9", "region": "eu"}]
    finally:
        client.close()
    log = sim.requests()
    assert len(log) == 1
    assert_one_segment(log[0], account_id)


def test_a_very_long_account_id_is_a_clear_failure(sim):
    client = SendGridClient(KEY, sim.url, timeout=5, sleep=lambda seconds: None)
    with pytest.raises(SendGridError) as caught:
        client.list_ips("x" * 100000)
    assert "414" in str(caught.value) or "account_id" in str(caught.value)


# --------------------------------------------------------------------------- the modules, end to end in process


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        from unittest import mock  # pylint: disable=import-outside-toplevel
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8"))
    return patch_module_args(args)


def run_module(name, args):
    """main() of sendgrid.partners.<name>; the result it exits or fails with. Any other exception propagates."""
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
    module = importlib.import_module("ansible_collections.sendgrid.partners.plugins.modules.%s" % name)

    def exit_json(self, **result):  # pylint: disable=unused-argument
        raise ModuleExit(dict(result, failed=False))

    def fail_json(self, msg, **result):  # pylint: disable=unused-argument
        raise ModuleExit(dict(result, failed=True, msg=msg))

    with module_args(args), pytest.MonkeyPatch.context() as patch:
        patch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        patch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        try:
            module.main()
        except ModuleExit as exited:
            return exited.result
    raise AssertionError("%s ended without exit_json or fail_json" % name)


SEED = {"acct": {"ips": [{"ip": ip, "region": "us" if ip.startswith("174") else "eu"} for ip in SEED_IPS]}}


def drop_missing(options):
    return {key: value for key, value in options.items() if value is not MISSING}


MISSING = object()
CONNECTION = st.fixed_dictionaries({}, optional={
    "timeout": st.one_of(st.floats(min_value=0.5, max_value=10), st.sampled_from([0, -1, "x", None, "5"])),
    "max_retries": st.one_of(st.integers(min_value=-3, max_value=3), st.sampled_from(["x", True, None])),
    "validate_certs": st.one_of(st.booleans(), st.sampled_from(["yes", "maybe", 2])),
})
IDS_FOR_MODULES = st.one_of(st.just("acct"), ACCOUNT_IDS, NOT_STRINGS, st.just(MISSING))


def above(value, limit):
    """True when value, read as a number the way a playbook might mean it, is above limit."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        return float(value) > limit
    except (ValueError, OverflowError):
        return False


def check_outcome(sim, name, args, outcome):
    """The promise: a clear failure, or only requests to the one account with valid bodies."""
    log = sim.requests()
    if outcome["failed"]:
        assert isinstance(outcome["msg"], str) and outcome["msg"].strip()
        assert "Traceback" not in outcome["msg"] and "unexpected error" not in outcome["msg"]
    if not log:
        return
    account_id = args["account_id"] if isinstance(args["account_id"], str) else str(args["account_id"])
    for record in log:
        assert_one_segment(record, account_id)
        assert record["method"] in ("GET", "POST", "DELETE")
        assert not record["key_elsewhere"]
        if record["method"] == "POST":
            assert record["body"]["region"] == args["region"] and 1 <= record["body"]["count"] <= 10
            assert name == "add_ips" and not args.get("_ansible_check_mode")
        if record["method"] == "DELETE":
            ips = record["body"]["ips"]
            assert name == "remove_ips" and not args.get("_ansible_check_mode") and 1 <= len(ips) <= 10
            assert all(ipv4_or_none(ip) in [ipv4_or_none(given) for given in args["ips"]] for ip in ips)
    if not outcome["failed"] and name == "add_ips" and args.get("total") is not None and not args["_ansible_check_mode"]:
        region = [entry["ip"] for entry in sim.accounts()[account_id] if entry["region"] == args["region"]]
        assert len(region) == max(outcome["region_ips"].__len__(), 0)
        assert set(outcome["region_ips"]) == set(region)


def fuzz_module(sim, name, options, connection, check_mode):
    sim.reset(SEED)
    args = drop_missing(dict(options, api_key=KEY, api_url=sim.url, _ansible_check_mode=check_mode, **connection))
    outcome = run_module(name, args)
    if "account_id" not in args:  # required (ansible-core may first report another problem)
        assert outcome["failed"] and outcome["msg"]
        assert sim.requests() == []
        return outcome
    check_outcome(sim, name, args, outcome)
    return outcome


@FUZZ_SLOW
@given(account_id=IDS_FOR_MODULES, region=st.one_of(st.sampled_from(["us", "eu", "EU", "asia", "", None]), st.text(max_size=4)),
       count=st.one_of(st.just(MISSING), MODULE_NUMBERS), total=st.one_of(st.just(MISSING), MODULE_NUMBERS),
       connection=CONNECTION, check_mode=st.booleans())
def test_add_ips_is_a_clear_failure_or_correct_requests(sim, account_id, region, count, total, connection, check_mode):
    # Totals above 40 are left to test_huge_totals_* below: today they make the module run away.
    assume(not above(total, 40))
    # count and total both absent or null: test_null_count_and_total_fail_clearly below.
    assume(not (count in (None, MISSING) and total in (None, MISSING) and None in (count, total)))
    options = {"account_id": account_id, "region": region, "count": count, "total": total}
    outcome = fuzz_module(sim, "add_ips", options, connection, check_mode)
    if not outcome["failed"]:
        assert region in ("us", "eu")


@FUZZ_SLOW
@given(account_id=IDS_FOR_MODULES, region=st.one_of(st.just(MISSING), st.sampled_from(["us", "eu", "EU", None, 1])),
       connection=CONNECTION)
def test_ips_info_is_a_clear_failure_or_a_correct_request(sim, account_id, region, connection):
    outcome = fuzz_module(sim, "ips_info", {"account_id": account_id, "region": region}, connection, False)
    assert all(record["method"] == "GET" for record in sim.requests())
    if not outcome["failed"] and account_id == "acct":
        assert {item["ip"] for item in outcome["ips"]} <= set(SEED_IPS)


@FUZZ_SLOW
@given(account_id=IDS_FOR_MODULES,
       ips=st.one_of(st.lists(st.one_of(st.sampled_from(SEED_IPS), IP_VALUES), max_size=14), NOT_STRINGS, st.just(MISSING)),
       fail_on_missing=st.one_of(st.just(MISSING), st.booleans(), st.sampled_from(["no", "perhaps"])),
       connection=CONNECTION, check_mode=st.booleans())
def test_remove_ips_is_a_clear_failure_or_correct_requests(sim, account_id, ips, fail_on_missing, connection, check_mode):
    options = {"account_id": account_id, "ips": ips, "fail_on_missing": fail_on_missing}
    outcome = fuzz_module(sim, "remove_ips", options, connection, check_mode)
    if sim.requests() and isinstance(ips, list):
        assert not ipv4_problems("ips", [str(ip) for ip in ips])  # a bad IP fails before any request
    if not outcome["failed"] and not check_mode and account_id == "acct":
        left = {entry["ip"] for entry in sim.accounts()["acct"]}
        assert not left & {str(ip) for ip in ips}


@pytest.mark.parametrize("options", [{"total": None}, {"count": None}])
def test_null_count_and_total_fail_clearly(sim, options):
    outcome = fuzz_module(sim, "add_ips", dict({"account_id": "acct", "region": "us"}, **options), {}, False)
    assert outcome["failed"] and "count" in outcome["msg"] and "total" in outcome["msg"]
    assert sim.requests() == []


# --------------------------------------------------------------------------- huge numbers, in a child with a memory cap


def run_module_in_child(sim, name, args):
    """The module as Ansible runs it (a separate Python), with 1 GiB of address space and 60 s."""
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, api_key=KEY, api_url=sim.url)})
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
            "from ansible_collections.sendgrid.partners.plugins.modules import %s as m; m.main()" % name)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with open(os.path.join(sim.directory, "args.json"), "w", encoding="utf-8") as handle:
        handle.write(payload)
    done = subprocess.run([sys.executable, "-c", code, handle.name], capture_output=True, text=True, timeout=60,
                          env=env, check=False, cwd=sim.directory)
    return done


@pytest.mark.parametrize("total", [10**12, 2**63, 10**30])
@pytest.mark.parametrize("check_mode", [True, False])
def test_huge_totals_fail_clearly_before_any_post(sim, total, check_mode):
    sim.reset({"acct": {}})
    done = run_module_in_child(sim, "add_ips", {"account_id": "acct", "region": "us", "total": total,
                                                "_ansible_check_mode": check_mode})
    assert "Traceback" not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["failed"] is True and "total" in result["msg"] and str(total) in result["msg"]
    assert [record["method"] for record in sim.requests() if record["method"] == "POST"] == []


@pytest.mark.parametrize("timeout", ["inf", 1e300])
def test_absurd_timeouts_fail_clearly(sim, timeout):
    sim.reset({"acct": {}})
    done = run_module_in_child(sim, "ips_info", {"account_id": "acct", "timeout": timeout})
    assert "Traceback" not in done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["failed"] is True and "timeout" in result["msg"]
