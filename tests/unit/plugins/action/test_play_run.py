# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The play-wide step of provision_accounts with hosts, and customer_outcome: pure decisions, a fake module run.

The fake runs the real bulk logic (_bulk.run_all) against an in-memory API, as the module would; what crosses HTTP
is tested against the simulator in the role's integration targets.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.sendgrid.partners.plugins.action.customer_outcome import outcome_of
from ansible_collections.sendgrid.partners.plugins.action.provision_accounts import UNSET, PlayRun
from ansible_collections.sendgrid.partners.plugins.module_utils import _bulk
from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


class FakeModule:
    """What _execute_module would answer: the real bulk logic over accounts in memory; records every call."""

    def __init__(self, accounts):
        self.task_check = False  # the task's own check mode: the action runs every call in check mode then
        self.accounts = {account: list(ips) for account, ips in accounts.items()}
        self.calls = []  # (api_url, check, sorted customer names, max_new_ips)
        self.posts = []

    def __call__(self, module_args, check):
        check = check or self.task_check
        self.calls.append((module_args.get("api_url"), check, sorted(module_args["customers"]), module_args.get("max_new_ips")))
        fake = self

        class Client:
            def list_ips(self, account_id):
                if account_id not in fake.accounts:
                    raise ApiError("GET", "/v3/partners/accounts/%s/ips" % account_id, 404, "Not Found", [])
                return list(fake.accounts[account_id])

            def add_ips(self, account_id, region, count):
                fake.posts.append(account_id)
                new = ["10.0.%d.%d" % (len(fake.posts), n) for n in range(count)]
                fake.accounts[account_id][:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
                return new, region

        runs, plan, cap_message = _bulk.run_all(module_args["customers"], Client, 2, not check, module_args.get("max_new_ips"))
        answer = {"plan": plan, "customers": {run.name: run.outcome(check) for run in runs}}
        if cap_message:
            answer.update(failed=True, msg=cap_message)
        return answer


def host(account, ips, api_key=UNSET, api_url=UNSET):
    return {"account_id": account, "ips": ips, "api_key": api_key, "api_url": api_url}


def play(hosts, module, check=False, **args):
    module.task_check = check
    run = PlayRun(list(hosts), dict({"api_key": "k", "api_url": "https://one"}, **args))
    for name, found in hosts.items():
        run.add(name, found)
    run.run(module)
    return run.result(check)


US1 = [{"region": "us", "total": 1}]


def test_one_group_plans_caps_and_applies_in_one_call():
    module = FakeModule({"a1": [], "a2": []})
    result = play({"h1": host("a1", US1), "h2": host("a2", US1)}, module, max_new_ips=2)
    assert module.calls == [("https://one", False, ["h1", "h2"], 2)]
    assert result["failed_customers"] == [] and result["plan"]["add_total"] == 2
    assert [line["status"] for line in result["report"]["customers"]] == ["changed", "changed"]
    assert result["hosts"]["h1"]["ips"]["us"] == [item["ip"] for item in module.accounts["a1"]]


def test_two_api_urls_under_one_cap_refused_buy_nothing_and_fail_every_host():
    module = FakeModule({"a1": [], "a2": [], "a3": []})
    hosts = {"h1": host("a1", US1), "h2": host("a2", [{"region": "us", "total": 2}], api_url="https://two"),
             "h3": host("a3", US1)}
    result = play(hosts, module, max_new_ips=3)
    assert [(url, check) for url, check, names, cap in module.calls] == [("https://one", True), ("https://two", True)]
    assert module.posts == []
    assert result["failed_customers"] == ["h1", "h2", "h3"]
    assert result["plan"]["refused"].startswith("The plan adds 4 new IPs, above the cap of 3 ")
    assert {line["error"] for line in result["report"]["customers"]} == {result["plan"]["refused"]}


def test_two_api_urls_cap_exactly_met_apply_each_within_its_planned_share():
    module = FakeModule({"a1": [], "a2": []})
    result = play({"h1": host("a1", US1), "h2": host("a2", [{"region": "us", "total": 2}], api_url="https://two")},
                  module, max_new_ips=3)
    assert module.calls == [("https://one", True, ["h1"], None), ("https://two", True, ["h2"], None),
                            ("https://one", False, ["h1"], 1), ("https://two", False, ["h2"], 2)]
    assert len(module.posts) == 2 and result["failed_customers"] == []
    assert result["plan"]["add_total"] == 3 and result["plan"]["summary"][-1] == "Spend cap: 3 of at most 3 new IPs."


def test_a_customer_that_failed_the_plan_is_not_listed_again():
    module = FakeModule({"a1": []})
    result = play({"h1": host("a1", US1), "ghost": host("nope", US1, api_url="https://two")}, module, max_new_ips=5)
    assert [names for url, check, names, cap in module.calls] == [["h1"], ["ghost"], ["h1"]]
    assert result["hosts"]["ghost"]["status"] == "failed" and "HTTP 404" in result["hosts"]["ghost"]["error"]
    assert result["hosts"]["h1"]["status"] == "changed"


def test_variables_are_checked_with_the_role_names_before_any_call():
    module = FakeModule({})
    result = play({"nokey": host("a1", US1, api_key=""), "noid": host(UNSET, US1), "empty": host("a2", []),
                   "badcount": host("a3", [{"region": "us", "count": 11}])}, module, max_new_ips=5)
    assert module.calls == []
    errors = {name: line["error"] for name, line in result["hosts"].items()}
    assert errors == {
        "nokey": "nokey: sendgrid_api_key is empty: set it, or SENDGRID_API_KEY in the environment of the controller",
        "noid": "noid: sendgrid_account_id is not set for this host (set it in the inventory: host or group variables)",
        "empty": "empty: sendgrid_ips must have at least one entry, got []",
        "badcount": "badcount: sendgrid_ips[0].count must be an integer from 1 to 10, got 11",
    }


def test_check_mode_reports_the_plan_and_diff_lines_without_buying():
    module = FakeModule({"a1": [{"ip": "1.1.1.1", "region": "us"}]})
    result = play({"h1": host("a1", [{"region": "us", "total": 3}])}, module, check=True, max_new_ips=5)
    assert module.posts == []
    line = result["report"]["customers"][0]
    assert line["status"] == "changed" and line["regions"]["us"]["added"] == 2 and line["regions"]["us"]["ips"] == ["1.1.1.1"]
    assert result["diff_lines"] == ["h1 us: [1.1.1.1] -> [(new IP 1 of 2), (new IP 2 of 2), 1.1.1.1]"]


HOSTVAR_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.just(UNSET),
                           st.lists(st.one_of(st.dictionaries(st.sampled_from(["region", "total", "count", "state", "ips"]),
                                                              st.one_of(st.sampled_from(["us", "eu", "absent", "3"]), st.integers(-2, 12),
                                                                        st.lists(st.text(max_size=9), max_size=2)), max_size=4),
                                              st.text(max_size=4), st.integers()), max_size=3))


HOST_VARIABLES = st.fixed_dictionaries({"account_id": HOSTVAR_VALUES, "ips": HOSTVAR_VALUES,
                                        "api_key": st.sampled_from([UNSET, "", "k2"]),
                                        "api_url": st.sampled_from([UNSET, "https://two"])})


@FUZZ
@given(hosts=st.dictionaries(st.text(min_size=1, max_size=4), HOST_VARIABLES, max_size=5),
       cap=st.one_of(st.none(), st.integers(0, 6)), check=st.booleans())
def test_any_host_variables_give_one_line_per_host_and_never_raise(hosts, cap, check):
    module = FakeModule({"acct": []})
    result = play(hosts, module, check=check, max_new_ips=cap)
    assert [line["host"] for line in result["report"]["customers"]] == list(hosts)
    for name, line in result["hosts"].items():
        assert line["status"] in ("ok", "changed", "failed")
        assert (line["status"] == "failed") == bool(line["error"]), (name, line)
        assert "Traceback" not in (line["error"] or "") and "unexpected error" not in (line["error"] or "")
    if check or (cap is not None and result["plan"]["add_total"] > cap):
        assert module.posts == []


def test_outcome_of_a_changed_customer_sets_the_fact_and_changed():
    run = {"hosts": {"h1": {"status": "changed", "error": None, "ips": {"us": ["1.1.1.1"]}}}}
    assert outcome_of("h1", run, None, "r") == {"status": "changed", "changed": True,
                                                "ansible_facts": {"sendgrid_partners_ips": {"us": ["1.1.1.1"]}}}


def test_outcome_of_a_failed_customer_fails_with_its_message_and_no_fact():
    run = {"hosts": {"h1": {"status": "failed", "error": "GET ... failed with HTTP 404", "ips": {}}}}
    assert outcome_of("h1", run, None, "r") == {"failed": True, "status": "failed", "msg": "GET ... failed with HTTP 404"}


def test_outcome_of_a_per_host_line_wins_and_does_not_count_the_change_twice():
    run = {"hosts": {"h1": {"status": "changed", "error": None, "ips": {"us": []}}}}
    line = {"status": "changed", "error": None, "regions": {"eu": {"ips": ["2.2.2.2"], "added": 1}}}
    assert outcome_of("h1", run, line, "r") == {"status": "changed", "changed": False,
                                                "ansible_facts": {"sendgrid_partners_ips": {"eu": ["2.2.2.2"]}}}


def test_outcome_of_a_host_the_run_did_not_cover_fails_clearly():
    assert outcome_of("h9", {"hosts": {}}, None, "__provision_ips_run") == {
        "failed": True, "msg": "h9 has no outcome in __provision_ips_run: did provision_accounts run for this play's hosts?"}
    assert outcome_of("h9", None, "not a dict", "r")["failed"] is True
