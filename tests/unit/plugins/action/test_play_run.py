# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The play-wide step of provision_accounts with hosts (PlayRun) over a fake SendGridClient, and customer_outcome.

The fake stands in where PlayRun builds its clients (provision_accounts.SendGridClient) and holds every API's accounts
in memory; it records which key (by name, never the key itself) and URL each client was built with, and every
request and every line shown, in order. What crosses HTTP is tested against the simulator in the role's integration
targets.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.errors import AnsibleError

from ansible_collections.sendgrid.partners.plugins.action import provision_accounts
from ansible_collections.sendgrid.partners.plugins.action.customer_outcome import outcome_of
from ansible_collections.sendgrid.partners.plugins.action.provision_accounts import UNSET, PlayRun, host_variables, play_settings
from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError
from ansible_collections.sendgrid.partners.plugins.module_utils._lock import LOCK_DIR_ENV, RunLocks

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

HOST_KEY, TASK_KEY, ENV_KEY, OTHER_KEY = "host-key-7c1d9e04aa", "task-key-3b8f2a61cc", "env-key-51e0d7b9ee", "other-key-9a2c4e6f10"
KEY_NAMES = {HOST_KEY: "host key", TASK_KEY: "task key", ENV_KEY: "env key", OTHER_KEY: "other key"}
ONE, TWO, THREE = "https://one.example", "https://two.example:8443", "http://127.0.0.1:9"
DEFAULT_URL = "https://api.sendgrid.com"
US1 = [{"region": "us", "total": 1}]
EARLIER = "failed before its IPs were provisioned: an earlier task failed; see its error in the play output"


class World:
    """Every API's accounts ({url: {account: [{ip, region}] newest first}}), the clients built, and what happened, in order."""

    def __init__(self, accounts=None):
        self.accounts = {url: {account: list(ips) for account, ips in held.items()} for url, held in (accounts or {}).items()}
        self.built = []  # (name of the key, url)
        self.events = []  # ("show", line) and (method, url, account, detail)
        self.lock = threading.Lock()
        self.serial = 0

    def show(self, line):
        with self.lock:
            self.events.append(("show", line))

    def client(self, **options):
        """What PlayRun gets in place of SendGridClient(**options)."""
        assert callable(options.pop("warn")) and options.pop("gate") is not None
        assert options == {"api_key": options["api_key"], "api_url": options["api_url"], "timeout": 30.0, "validate_certs": True,
                           "ca_path": None, "max_retries": 3}, "the client options are not the task's"
        with self.lock:
            self.built.append((KEY_NAMES.get(options["api_key"], "an unknown key"), options["api_url"]))
        return FakeClient(self, options["api_url"])

    def requests(self, method=None):
        return [event for event in self.events if event[0] != "show" and method in (None, event[0])]

    def shown(self):
        return [event[1] for event in self.events if event[0] == "show"]

    def held(self, url, account):
        return [item["ip"] for item in self.accounts[url][account]]


class FakeClient:
    def __init__(self, world, url):
        self.world = world
        self.url = url

    def _account(self, method, account_id, detail=None):
        with self.world.lock:
            self.world.events.append((method, self.url, account_id, detail))
        held = self.world.accounts.get(self.url, {})
        if account_id not in held:
            raise ApiError(method, "/v3/partners/accounts/%s/ips" % account_id, 404, "Not Found",
                           [{"message": "resource not found", "field": None, "error_id": None}])
        return held[account_id]

    def list_ips(self, account_id):
        return [dict(item) for item in self._account("GET", account_id)]

    def add_ips(self, account_id, region, count):
        held = self._account("POST", account_id, (region, count))
        with self.world.lock:
            new = []
            for dummy in range(count):
                self.world.serial += 1
                new.append("10.9.%d.%d" % divmod(self.world.serial, 250))
            held[:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
        return new, region

    def remove_ips(self, account_id, ips):
        held = self._account("DELETE", account_id, sorted(ips))
        with self.world.lock:
            held[:] = [item for item in held if item["ip"] not in ips]

    def close(self):
        pass


@pytest.fixture(autouse=True, scope="module")
def lock_directory(tmp_path_factory):
    """Real runs take a lock per API URL: in a directory of the test's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(LOCK_DIR_ENV, str(tmp_path_factory.mktemp("locks")))
        yield


@pytest.fixture
def world(monkeypatch):
    made = World()
    monkeypatch.setattr(provision_accounts, "SendGridClient", made.client)
    return made


def host(account, ips, api_key=UNSET, api_url=UNSET):
    return {"account_id": account, "ips": ips, "api_key": api_key, "api_url": api_url}


def play(world, hosts, check=False, diff=False, environ=None, clock=None, earlier=(), **args):
    """One PlayRun of hosts ({name: variables}); task args as the role passes them; the result, checked for keys."""
    settings_, problems = play_settings(dict({"hosts": list(hosts)}, **args))
    assert problems == []
    options = {} if clock is None else {"clock": clock}
    run = PlayRun(settings_, check_mode=check, diff=diff, show=world.show,
                  environ={"SENDGRID_API_KEY": ENV_KEY} if environ is None else environ, sleep=lambda seconds: None, **options)
    for name, found in hosts.items():
        run.add(name, found)
    result = run.run(list(earlier))
    text = json.dumps(result, default=str) + json.dumps(world.events, default=str)
    assert not [name for key, name in KEY_NAMES.items() if key in text], "an API key is in the result or the output"
    return result


def errors(result):
    return {name: line["error"] for name, line in result["hosts"].items()}


# --------------------------------------------------------------------------- the task's options


@pytest.mark.parametrize("args, message", [
    ({"hosts": ["a", "b", "a"]}, "hosts names a host more than once: a"),
    ({"hosts": "a"}, "hosts must be a list of inventory host names, got 'a'"),
    ({"hosts": ["a"], "customers": {}}, "provision_accounts takes customers or hosts, not both"),
    ({"hosts": ["a"], "concurrency": 0}, "concurrency (sendgrid_throttle in the role) must be an integer from 1 to 100, got 0"),
    ({"hosts": ["a"], "concurrency": "many"}, "concurrency (sendgrid_throttle in the role) must be an integer from 1 to 100, got 'many'"),
    ({"hosts": ["a"], "max_new_ips": -1}, "max_new_ips (sendgrid_max_new_ips in the role) must be an integer of 0 or more, got -1"),
    ({"hosts": ["a"], "timeout": 0}, "timeout must be a number of seconds above 0 and at most 3600, got 0"),
    ({"hosts": ["a"], "validate_certs": "perhaps"}, "validate_certs must be true or false, got 'perhaps'"),
    ({"hosts": ["a"], "report_path": "out/report.csv"},
     "report_path (sendgrid_report_path in the role) names the JSON report (the CSV is written beside it), got 'out/report.csv'"),
    ({"hosts": ["a"], "plan_max_age": "soon"}, "sendgrid_plan_max_age must be a number of seconds (e.g. 86400) or a duration like "
                                               "24h, 90m, 2d, 3600s or 1h30m, at least 1 second; got 'soon'"),
])
def test_play_settings_name_the_option_and_the_role_variable(args, message):
    settings_, problems = play_settings(args)
    assert problems == [message]


def test_play_settings_convert_templated_values():
    settings_, problems = play_settings({"hosts": ["a"], "concurrency": "20", "max_new_ips": "50", "plan_max_age": "24h", "plan_path": ""})
    assert problems == []
    assert (settings_["concurrency"], settings_["max_new_ips"], settings_["plan_max_age"], settings_["plan_path"]) == (20, 50, 86400, None)


def test_host_variables_reads_each_hosts_own_variables():
    class Broken(dict):
        def __getitem__(self, name):
            if name == "sendgrid_ips":
                raise AnsibleError("template error while templating string")
            return dict.__getitem__(self, name)

        def __contains__(self, name):
            return name == "sendgrid_ips" or dict.__contains__(self, name)

    hostvars = {"h1": {"sendgrid_account_id": "a1", "sendgrid_ips": US1, "other": 1}, "h2": Broken(sendgrid_account_id="a2")}
    assert host_variables(hostvars, "h1") == {"account_id": "a1", "ips": US1, "api_key": UNSET, "api_url": UNSET}
    assert host_variables(hostvars, "h2") == {"error": "h2: sendgrid_ips: template error while templating string"}
    assert host_variables(hostvars, "h3") == {"error": "cannot read the variables of host h3: 'h3'"}


# --------------------------------------------------------------------------- variables and connections


def test_variables_are_checked_with_the_role_names_before_any_call(world):
    result = play(world, {
        "nokey": host("a1", US1, api_key=""),
        "noid": host(UNSET, US1),
        "noips": host("a2", UNSET),
        "empty": host("a3", []),
        "badcount": host("a4", [{"region": "us", "count": 11}]),
        "badurl": host("a5", US1, api_url="ftp://x"),
        "unreadable": {"error": "unreadable: sendgrid_ips: template error"},
    }, max_new_ips=5)
    assert world.built == [] and world.requests() == []
    assert errors(result) == {
        "nokey": "nokey: sendgrid_api_key is empty for this host: set it, or leave it unset to use module_defaults or SENDGRID_API_KEY",
        "noid": "noid: sendgrid_account_id is not set for this host (set it in the inventory: host or group variables); "
                "sendgrid_account_id must be a non-empty string, got None",
        "noips": "noips: sendgrid_ips is not set for this host (set it in the inventory: host or group variables); "
                 "sendgrid_ips must be a non-empty list of entries, got None",
        "empty": "empty: sendgrid_ips must be a non-empty list of entries, got []",
        "badcount": "badcount: sendgrid_ips[0].count must be an integer from 1 to 10, got 11",
        "badurl": "badurl: sendgrid_api_url 'ftp://x' is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com "
                  "or http(s)://host[:port]",
        "unreadable": "unreadable: sendgrid_ips: template error",
    }
    assert result["summary"]["failed"] == 7 and result["changed"] is False
    assert result["notes"][0] == "Done: 7 customers: 0 changed, 0 ok, 7 failed; 0 IPs added, 0 removed."
    assert result["notes"][1] == "Failed customers (7): nokey, noid, noips, empty, badcount, badurl, unreadable"
    assert result["failed_customers"] == ["nokey", "noid", "noips", "empty", "badcount", "badurl", "unreadable"]


def test_connection_precedence_host_then_task_then_environment(world):
    world.accounts = {ONE: {"a1": []}, TWO: {"a2": [], "a3": []}, THREE: {"a4": []}, DEFAULT_URL: {"a5": []}}
    env = {"SENDGRID_API_KEY": ENV_KEY, "SENDGRID_API_URL": THREE}
    result = play(world, {"own": host("a1", US1, api_key=HOST_KEY, api_url=ONE), "task": host("a2", US1),
                          "own_key": host("a3", US1, api_key=HOST_KEY)}, environ=env, api_key=TASK_KEY, api_url=TWO)
    assert sorted(set(world.built)) == [("host key", ONE), ("host key", TWO), ("task key", TWO)]
    assert sorted((url, account) for method, url, account, detail in world.requests("GET")) == [(ONE, "a1"), (TWO, "a2"), (TWO, "a3")]
    assert result["summary"]["changed"] == 3

    world.built = []
    play(world, {"env": host("a4", US1), "own_url": host("a1", US1, api_url=ONE)}, environ=env)
    assert sorted(set(world.built)) == sorted([("env key", ONE), ("env key", THREE)])

    world.built = []
    result = play(world, {"default": host("a5", US1), "empty_url": host("a5x", US1, api_url="")}, environ={"SENDGRID_API_KEY": ENV_KEY})
    assert sorted(set(world.built)) == [("env key", DEFAULT_URL)]
    assert result["hosts"]["default"]["status"] == "changed"

    world.built = []
    result = play(world, {"nothing": host("a5", US1)}, environ={})
    assert world.built == [] and result["hosts"]["nothing"]["error"].startswith("nothing: sendgrid_api_key is not set (or empty)")


def test_several_api_urls_share_one_plan_and_one_cap_each_account_listed_once(world):
    world.accounts = {ONE: {"a1": [], "a3": []}, TWO: {"a2": []}}
    hosts = {"h1": host("a1", US1), "h2": host("a2", [{"region": "us", "total": 2}], api_url=TWO), "h3": host("a3", US1)}
    result = play(world, hosts, api_url=ONE, max_new_ips=4)
    assert sorted((url, account) for method, url, account, detail in world.requests("GET")) == [(ONE, "a1"), (ONE, "a3"), (TWO, "a2")]
    assert result["plan"]["add_total"] == 4 and result["plan"]["summary"][-1] == "Spend cap: 4 of at most 4 new IPs."
    assert [line for line in world.shown() if line.startswith("Plan for")] == [
        "Plan for 3 customers: 3 to change, 0 failed before any change; add 4 IPs (us 4, eu 0), remove 0 IPs."]
    assert len(world.held(TWO, "a2")) == 2 and len(world.held(ONE, "a1")) == 1 and len(world.held(ONE, "a3")) == 1
    assert {name: line["status"] for name, line in result["hosts"].items()} == {"h1": "changed", "h2": "changed", "h3": "changed"}
    assert result["hosts"]["h2"]["ips"] == {"us": world.held(TWO, "a2")}


def test_a_cap_breach_fails_every_host_with_the_message_and_buys_nothing(world):
    world.accounts = {ONE: {"a1": [], "a3": [], "a4": [{"ip": "1.1.1.1", "region": "us"}]}, TWO: {"a2": []}}
    hosts = {"h1": host("a1", US1), "h2": host("a2", [{"region": "us", "total": 2}], api_url=TWO), "h3": host("a3", US1),
             "h4": host("a4", US1), "bad": host("a5", [{"region": "asia", "total": 1}])}
    result = play(world, hosts, api_url=ONE, max_new_ips=3)
    refused = result["plan"]["refused"]
    assert refused == ("The plan adds 4 new IPs, above the cap of 3 (max_new_ips; sendgrid_max_new_ips in the role), so nothing was "
                       "bought for any customer. Largest additions: h2 (a2): 2 us; h1 (a1): 1 us; h3 (a3): 1 us. If this is intended, "
                       "raise the cap for this run, e.g. -e sendgrid_max_new_ips=4.")
    assert world.requests("POST") == [] and world.requests("DELETE") == [] and len(world.requests("GET")) == 4
    assert errors(result) == {"h1": refused, "h2": refused, "h3": refused, "h4": refused,
                              "bad": "bad: sendgrid_ips[0].region must be eu or us, got 'asia'"}
    assert refused in world.shown() and result["changed"] is False and "saved_plan" not in result
    assert result["hosts"]["h4"]["ips"] == {"us": ["1.1.1.1"]}


def test_hosts_that_failed_earlier_get_a_report_line(world, tmp_path):
    world.accounts = {ONE: {"a1": []}}
    report = tmp_path / "report.json"
    result = play(world, {"h1": host("a1", US1)}, api_url=ONE, earlier=["h0", "h9"], report_path=str(report))
    assert result["hosts"]["h0"] == result["hosts"]["h9"] == {"status": "failed", "error": EARLIER, "ips": {}}
    assert result["summary"] == {"customers": 3, "ok": 0, "changed": 1, "failed": 2, "ips_added": 1, "ips_removed": 0}
    written = json.loads(report.read_text())
    assert [line["host"] for line in written["customers"]] == ["h1", "h0", "h9"]
    assert result["report_path"] == str(report)
    assert (tmp_path / "report.csv").read_text().splitlines()[2].startswith("h0,,failed,")


# --------------------------------------------------------------------------- check mode and saved plans


def test_check_mode_returns_the_saved_plan_stats_and_diff_lines_and_buys_nothing(world):
    world.accounts = {ONE: {"a1": [{"ip": "1.1.1.1", "region": "us"}, {"ip": "1.1.1.2", "region": "us"}], "a2": []}}
    hosts = {"h1": host("a1", [{"region": "us", "total": 3}, {"state": "absent", "ips": ["1.1.1.2"]}]), "h2": host("a2", US1)}
    result = play(world, hosts, check=True, diff=True, api_url=ONE, max_new_ips=5)
    assert world.requests("POST") == [] and world.requests("DELETE") == [] and len(world.requests("GET")) == 2
    assert result["diff_lines"] == ["h1 us: [1.1.1.1, 1.1.1.2] -> [(new IP 1 of 2), (new IP 2 of 2), 1.1.1.1]",
                                    "h2 us: [] -> [(new IP 1 of 1)]"]
    saved = result["saved_plan"]
    assert saved["format"] == "sendgrid.partners/plan" and saved["cap"] == 5
    assert saved["totals"] == {"add": {"eu": 0, "us": 3}, "add_total": 3, "remove_total": 1, "customers": 2}
    assert [(record["host"], record["add"], record["remove"]) for record in saved["customers"]] == [
        ("h1", {"us": 2}, ["1.1.1.2"]), ("h2", {"us": 1}, [])]
    assert result["ansible_stats"] == {"data": {"sendgrid_plan": saved}, "per_host": False, "aggregate": False}
    assert result["notes"][0] == ("Check mode, nothing changed. Would change: 2 customers: 2 changed, 0 ok, 0 failed; "
                                  "3 IPs to add, 1 removed.")
    assert result["hosts"]["h1"] == {"status": "changed", "error": None, "ips": {"eu": [], "us": ["1.1.1.1", "1.1.1.2"]}}


def test_check_mode_above_the_cap_saves_no_plan(world, tmp_path):
    world.accounts = {ONE: {"a1": []}}
    result = play(world, {"h1": host("a1", [{"region": "us", "total": 3}])}, check=True, api_url=ONE, max_new_ips=2,
                  plan_path=str(tmp_path / "plan.json"))
    assert result["plan"]["refused"] and "saved_plan" not in result and "ansible_stats" not in result
    assert not (tmp_path / "plan.json").exists()


def saved_plan(world, hosts, clock=None, **args):
    result = play(world, hosts, check=True, clock=clock, **dict({"api_url": ONE, "max_new_ips": 50}, **args))
    assert world.requests("POST") == []
    world.events = []
    world.built = []
    return result["saved_plan"]


def test_applying_a_saved_plan_buys_exactly_what_it_says(world, tmp_path):
    world.accounts = {ONE: {"a1": [], "a2": [{"ip": "2.2.2.2", "region": "eu"}]}}
    hosts = {"h1": host("a1", [{"region": "us", "total": 3}]),
             "h2": host("a2", [{"region": "eu", "total": 2}, {"state": "absent", "ips": ["2.2.2.2"]}])}
    path = tmp_path / "plans" / "onboard.json"
    plan = saved_plan(world, hosts, plan_path=str(path))
    assert json.loads(path.read_text()) == plan
    result = play(world, hosts, api_url=ONE, plan_path=str(path), max_new_ips=0)  # a saved plan's total is the approved spend
    assert sorted((event[2], tuple(event[3])) for event in world.requests() if event[0] != "GET") == [
        ("a1", ("us", 3)), ("a2", ("2.2.2.2",)), ("a2", ("eu", 2))]
    assert world.requests("DELETE")[0][2] == "a2" and world.requests().index(world.requests("DELETE")[0]) < \
        world.requests().index([event for event in world.requests("POST") if event[2] == "a2"][0])
    assert result["plan"]["summary"][-1].startswith("Applying the saved plan of %s (sendgrid_plan_path %s): at most 5 new IPs."
                                                    % (plan["made_at"], path))
    assert {name: line["status"] for name, line in result["hosts"].items()} == {"h1": "changed", "h2": "changed"}
    assert len(world.held(ONE, "a1")) == 3 and len(world.held(ONE, "a2")) == 2 and "2.2.2.2" not in world.held(ONE, "a2")


def test_a_customer_whose_account_changed_since_the_plan_fails_and_gets_nothing(world):
    world.accounts = {ONE: {"a1": [], "a2": []}}
    hosts = {"h1": host("a1", [{"region": "us", "total": 2}]), "h2": host("a2", [{"region": "us", "total": 2}])}
    plan = saved_plan(world, hosts)
    world.accounts[ONE]["a1"].insert(0, {"ip": "7.7.7.7", "region": "us"})
    result = play(world, hosts, api_url=ONE, plan=plan)
    assert errors(result)["h1"] == "h1: nothing bought or removed: plan saw 0 us IPs, the account now holds 1: re-plan"
    assert [event[2] for event in world.requests("POST")] == ["a2"] and world.held(ONE, "a1") == ["7.7.7.7"]
    assert result["hosts"]["h2"]["status"] == "changed" and len(world.held(ONE, "a2")) == 2


def test_a_customer_not_in_the_plan_fails_and_the_others_apply(world):
    world.accounts = {ONE: {"a1": [], "a3": []}}
    plan = saved_plan(world, {"h1": host("a1", US1)})
    result = play(world, {"h1": host("a1", US1), "h3": host("a3", US1)}, api_url=ONE, plan=plan)
    assert errors(result) == {"h1": None, "h3": "h3: nothing bought or removed: this customer is not in the plan: re-plan with this "
                                                "host in the inventory"}
    assert [event[2] for event in world.requests("POST")] == ["a1"]


def test_a_customer_whose_entries_changed_since_the_plan_fails(world):
    world.accounts = {ONE: {"a1": []}}
    plan = saved_plan(world, {"h1": host("a1", US1)})
    result = play(world, {"h1": host("a1", [{"region": "us", "total": 9}])}, api_url=ONE, plan=plan)
    assert errors(result)["h1"] == "h1: nothing bought or removed: sendgrid_ips changed since the plan was made: re-plan"
    assert world.requests("POST") == []


@pytest.mark.parametrize("case", ["another url", "expired", "another key", "not a plan"])
def test_a_plan_this_run_must_not_apply_is_refused_before_any_call(world, case):
    world.accounts = {ONE: {"a1": []}, TWO: {"a1": []}}
    hosts = {"h1": host("a1", US1)}
    made = (lambda: time.time() - 2 * 86400 - 60) if case == "expired" else None
    plan = saved_plan(world, hosts, clock=made)
    args = {"api_url": TWO if case == "another url" else ONE, "plan": {"format": "x"} if case == "not a plan" else plan}
    environ = {"SENDGRID_API_KEY": OTHER_KEY} if case == "another key" else None
    result = play(world, hosts, environ=environ, **args)
    assert world.built == [] and world.requests() == [] and world.shown() == []
    assert result["failed"] is True and "hosts" not in result
    assert result["msg"] == {
        "another url": "sendgrid_plan was made for https://one.example, but this run uses https://two.example:8443: apply a plan "
                       "made against the same API URL, or re-plan",
        "expired": "sendgrid_plan was made 2d1m ago (at %s), more than sendgrid_plan_max_age allows (1d): re-plan, or raise "
                   "sendgrid_plan_max_age, e.g. -e sendgrid_plan_max_age=2d1h" % plan["made_at"],
        "another key": "sendgrid_plan does not verify against this run's API key: it was edited by hand after it was made, or it was "
                       "made with another API key. Nothing was bought; re-plan with a check-mode run using this key",
        "not a plan": "sendgrid_plan is not a plan at all: it has no format 'sendgrid.partners/plan' (its keys: format). Give "
                      "sendgrid_plan the artifact sendgrid_plan of a check-mode run, or sendgrid_plan_path the file it wrote",
    }[case]


def test_a_second_run_against_the_same_api_fails_at_once(world):
    world.accounts = {ONE: {"a1": []}}
    with RunLocks([ONE]):
        result = play(world, {"h1": host("a1", US1)}, api_url=ONE)
    assert result["failed"] is True and world.built == [] and world.requests() == []
    assert "lock" in result["msg"]
    result = play(world, {"h1": host("a1", US1)}, api_url=ONE)
    assert result["hosts"]["h1"]["status"] == "changed"


# --------------------------------------------------------------------------- what is shown, and when


def test_the_plan_is_shown_before_the_first_purchase_and_progress_after(world):
    world.accounts = {ONE: {"a%d" % n: [] for n in range(12)}}
    hosts = {"h%02d" % n: host("a%d" % n, US1) for n in range(12)}
    play(world, hosts, api_url=ONE, concurrency=3, max_new_ips=50)
    kinds = [event[0] if event[0] != "show" else event[1].split(" ")[0] for event in world.events]
    first_post = kinds.index("POST")
    assert kinds.index("Plan") < first_post and "Spend" in kinds[:first_post]
    assert "GET" not in kinds[first_post:]  # every account listed before the first purchase
    assert kinds[-1] == "Applied"
    assert world.shown()[-1] == "Applied 12 of 12 customers to change: 12 changed, 0 failed, 12 IPs bought (0 s)."


# --------------------------------------------------------------------------- any host variables


HOSTVAR_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.just(UNSET), st.just("acct"),
                           st.lists(st.one_of(st.dictionaries(st.sampled_from(["region", "total", "count", "state", "ips"]),
                                                              st.one_of(st.sampled_from(["us", "eu", "absent", "3"]), st.integers(-2, 12),
                                                                        st.lists(st.text(max_size=9), max_size=2)), max_size=4),
                                              st.text(max_size=4), st.integers()), max_size=3))
HOST_VARIABLES = st.fixed_dictionaries({"account_id": HOSTVAR_VALUES, "ips": HOSTVAR_VALUES,
                                        "api_key": st.sampled_from([UNSET, "", OTHER_KEY]),
                                        "api_url": st.sampled_from([UNSET, TWO, "ftp://x", ""])})


@FUZZ
@given(hosts=st.dictionaries(st.text(min_size=1, max_size=4), HOST_VARIABLES, max_size=5),
       cap=st.one_of(st.none(), st.integers(0, 6)), check=st.booleans())
def test_any_host_variables_give_one_line_per_host_and_never_raise(monkeypatch, hosts, cap, check):
    made = World({ONE: {"acct": []}, TWO: {"acct": [{"ip": "1.1.1.1", "region": "us"}]}, DEFAULT_URL: {}})
    monkeypatch.setattr(provision_accounts, "SendGridClient", made.client)
    result = play(made, hosts, check=check, api_key=TASK_KEY, api_url=ONE, max_new_ips=cap)
    assert list(result["hosts"]) == list(hosts)
    for name, line in result["hosts"].items():
        assert line["status"] in ("ok", "changed", "failed")
        assert (line["status"] == "failed") == bool(line["error"]), (name, line)
        assert "Traceback" not in (line["error"] or "") and "unexpected error" not in (line["error"] or ""), line["error"]
    if check or result["plan"]["refused"]:
        assert made.requests("POST") == [] and made.requests("DELETE") == []
    if cap is not None and result["plan"]["add_total"] > cap:
        assert result["plan"]["refused"]


# --------------------------------------------------------------------------- customer_outcome


def test_outcome_of_a_changed_customer_sets_the_fact_and_changed():
    run = {"hosts": {"h1": {"status": "changed", "error": None, "ips": {"us": ["1.1.1.1"]}}}}
    assert outcome_of("h1", run, "r") == {"status": "changed", "changed": True, "ansible_facts": {"sendgrid_partners_ips": {"us": ["1.1.1.1"]}}}


def test_outcome_of_an_unchanged_customer_sets_the_fact_without_a_change():
    run = {"hosts": {"h1": {"status": "ok", "error": None, "ips": {"eu": ["2.2.2.2"], "us": []}}}}
    assert outcome_of("h1", run, "r") == {"status": "ok", "changed": False,
                                          "ansible_facts": {"sendgrid_partners_ips": {"eu": ["2.2.2.2"], "us": []}}}
    assert outcome_of("h1", {"hosts": {"h1": {"status": "ok", "error": None, "ips": None}}}, "r")["ansible_facts"] == {
        "sendgrid_partners_ips": {}}


def test_outcome_of_a_failed_customer_fails_with_its_message_and_no_fact():
    run = {"hosts": {"h1": {"status": "failed", "error": "GET ... failed with HTTP 404", "ips": {}}}}
    assert outcome_of("h1", run, "r") == {"failed": True, "status": "failed", "msg": "GET ... failed with HTTP 404"}
    assert outcome_of("h1", {"hosts": {"h1": {"status": "failed", "error": None}}}, "r") == {
        "failed": True, "status": "failed", "msg": "failed without a message"}


def test_outcome_of_a_failed_customer_deferred_keeps_its_message_without_failing_the_host():
    run = {"hosts": {"h1": {"status": "failed", "error": "GET ... failed with HTTP 404", "ips": {}}}}
    assert outcome_of("h1", run, "r", defer_failure=True) == {
        "status": "failed", "changed": False, "msg": "failed, and fails in a later play: GET ... failed with HTTP 404"}
    changed = {"hosts": {"h1": {"status": "changed", "error": None, "ips": {"us": ["1.1.1.1"]}}}}
    assert outcome_of("h1", changed, "r", defer_failure=True) == outcome_of("h1", changed, "r")
    assert outcome_of("h9", run, "r", defer_failure=True)["failed"] is True  # no outcome at all is never deferred


@pytest.mark.parametrize("run", [{"hosts": {}}, None, "not a dict", {"hosts": ["h9"]}, {"hosts": {"h9": "changed"}}, {}])
def test_outcome_of_a_host_the_run_did_not_cover_fails_clearly(run):
    assert outcome_of("h9", run, "__provision_ips_run") == {
        "failed": True, "msg": "h9 has no outcome in __provision_ips_run: did provision_accounts run for this play's hosts?"}


def test_outcome_of_a_real_play_run(world):
    world.accounts = {ONE: {"a1": [], "a2": [{"ip": "1.1.1.1", "region": "us"}]}}
    result = play(world, {"h1": host("a1", US1), "h2": host("a2", US1), "h3": host("zz", US1)}, api_url=ONE)
    assert outcome_of("h1", result, "r") == {"status": "changed", "changed": True,
                                             "ansible_facts": {"sendgrid_partners_ips": {"us": world.held(ONE, "a1")}}}
    assert outcome_of("h2", result, "r") == {"status": "ok", "changed": False, "ansible_facts": {"sendgrid_partners_ips": {"us": ["1.1.1.1"]}}}
    assert outcome_of("h3", result, "r")["msg"].startswith("GET /v3/partners/accounts/zz/ips failed with HTTP 404")
