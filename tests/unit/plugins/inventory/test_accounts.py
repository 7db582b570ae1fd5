# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin sendgrid.partners.accounts: the client's ListAccount paging over fake answers, and the hosts,
groups, variables, errors and cache the plugin builds in a real InventoryData over a fake client.

What crosses HTTP (ansible-inventory against the simulator) is the integration target inventory_accounts.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar

from ansible_collections.sendgrid.partners.plugins.inventory import accounts as plugin_module
from ansible_collections.sendgrid.partners.plugins.module_utils import _client
from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    AccountApiError,
    ApiError,
    InvalidRequestError,
    ResponseError,
    SendGridClient,
)

PAYLOAD = "{{ 7 * 7 }}"


def ids(count, start=0):
    return ["sg%032x" % number for number in range(start, start + count)]


def account(account_id, **fields):
    return dict({"id": account_id, "created_at": "2026-01-02T03:04:05Z"}, **fields)


# ---- ListAccount paging (the client, over fake answers)


class FakeResponse:
    def __init__(self, document, status=200):
        self.document = document
        self.status_code = status
        self.text = json.dumps(document)
        self.headers = {"Content-Type": "application/json"}
        self.reason = "OK"

    def json(self):
        return self.document


class PagingClient(SendGridClient):
    """The real client whose request() answers from a function of the query; records each query."""

    def __init__(self, answer):
        super().__init__("key")
        self.answer = answer
        self.queries = []

    def request(self, method, path, params=None, body=None, expected=200):
        self.queries.append((method, path, dict(params or {})))
        return FakeResponse(self.answer(path, dict(params or {})))


def listing_of(all_ids, overlap=False, pages=True):
    """An answer function: all_ids in order, limit per page, after the offset (or from it, with overlap)."""
    def answer(path, params):
        start = 0
        if "offset" in params:
            position = all_ids.index(params["offset"])
            start = position if overlap else position + 1
        page = all_ids[start:start + params["limit"]]
        document = {"accounts": [account(account_id) for account_id in page]}
        if pages:
            document["pages"] = {"last": page[-1]} if page else {}
        return document
    return answer


def test_250_accounts_over_pages_of_100_with_an_id_repeated_across_pages():
    every = ids(250)
    client = PagingClient(listing_of(every, overlap=True))  # each page starts with the last of the one before
    assert [item["id"] for item in client.list_accounts()] == every
    assert client.queries == [
        ("GET", "/v3/partners/accounts", {"limit": 100}),
        ("GET", "/v3/partners/accounts", {"limit": 100, "offset": every[99]}),
        ("GET", "/v3/partners/accounts", {"limit": 100, "offset": every[198]}),
    ]


def test_a_last_page_exactly_full_is_followed_by_an_empty_one():
    every = ids(200)
    client = PagingClient(listing_of(every))
    assert len(client.list_accounts()) == 200
    assert [query[2].get("offset") for query in client.queries] == [None, every[99], every[199]]


def test_an_empty_account_list():
    client = PagingClient(lambda path, params: {"accounts": [], "pages": {}})
    assert client.list_accounts() == [] and len(client.queries) == 1


def test_without_pages_the_next_offset_is_the_last_account_listed():
    every = ids(250)
    client = PagingClient(listing_of(every, pages=False))
    assert [item["id"] for item in client.list_accounts()] == every
    assert [query[2].get("offset") for query in client.queries] == [None, every[99], every[199]]


def test_a_repeated_last_ends_the_listing():
    first = ids(100)
    client = PagingClient(lambda path, params: {"accounts": [account(i) for i in first], "pages": {"last": first[-1]}})
    assert len(client.list_accounts()) == 100 and len(client.queries) == 2  # the second page ended at its own offset


def test_a_full_page_of_accounts_already_seen_with_a_new_last_is_refused():
    first = ids(100)
    lasts = iter(ids(5, start=1000))
    client = PagingClient(lambda path, params: {"accounts": [account(i) for i in first], "pages": {"last": next(lasts)}})
    with pytest.raises(ResponseError, match="a full page of accounts already seen .* refusing to loop"):
        client.list_accounts()


def test_an_id_listed_twice_in_one_page_is_kept_once_first_entry_wins():
    # The spec's own ListAccount example lists one ID twice.
    client = PagingClient(lambda path, params: {"accounts": [account("a", email="first@x"), account("a", email="second@x"),
                                                             account("b")], "pages": {"last": "b"}})
    assert client.list_accounts() == [account("a", email="first@x"), account("b")]


@pytest.mark.parametrize("document, message", [
    ({"pages": {}}, "answered without an 'accounts' list"),
    ({"accounts": {"id": "a"}}, "answered without an 'accounts' list"),
    ({"accounts": [{"created_at": "x"}]}, "an account without a string 'id'"),
    ({"accounts": [{"id": ""}]}, "an account without a string 'id'"),
    ({"accounts": ["sg1"]}, "an account without a string 'id'"),
])
def test_answers_off_the_schema_are_refused(document, message):
    with pytest.raises(ResponseError, match=message):
        PagingClient(lambda path, params: document).list_accounts()


@pytest.mark.parametrize("limit", [0, 101, True, "10"])
def test_a_limit_outside_1_to_100_is_refused_before_any_request(limit):
    client = PagingClient(lambda path, params: {"accounts": []})
    with pytest.raises(InvalidRequestError, match="limit must be an integer from 1 to 100"):
        client.list_accounts(limit)
    assert client.queries == []


def test_state_and_offerings_of_an_account():
    answers = {"/v3/partners/accounts/team%2Fa/state": {"state": "suspended"},
               "/v3/partners/accounts/team%2Fa/offerings": {"offerings": [{"name": "p", "type": "package", "quantity": 1},
                                                                          {"name": "ease", "type": "addon"}]},
               "/v3/partners/accounts/b/offerings": {}}
    client = PagingClient(lambda path, params: answers[path])
    assert client.account_state("team/a") == "suspended"
    assert client.account_offerings("team/a") == [{"name": "p", "type": "package", "quantity": 1},
                                                  {"name": "ease", "type": "addon", "quantity": None}]
    assert client.account_offerings("b") == []  # offerings is optional in the schema


@pytest.mark.parametrize("path_end, document, message", [
    ("state", {}, "answered without a 'state' string"),
    ("state", {"state": 3}, "answered without a 'state' string"),
    ("offerings", {"offerings": "x"}, "answered 'offerings' that is not a list"),
    ("offerings", {"offerings": [{"name": "x"}]}, "an offering that is not {name, type, quantity}"),
    ("offerings", {"offerings": [{"name": "x", "type": "addon", "quantity": "2"}]}, "an offering that is not"),
])
def test_state_and_offerings_off_the_schema_are_refused(path_end, document, message):
    client = PagingClient(lambda path, params: document)
    with pytest.raises(ResponseError, match=message):
        getattr(client, "account_state" if path_end == "state" else "account_offerings")("acc")


def test_account_errors_carry_hints_for_the_account_endpoints():
    class Forbidden(SendGridClient):
        def request(self, method, path, params=None, body=None, expected=200):
            raise ApiError(method, path, 403, "Forbidden", [{"message": "no", "field": "", "error_id": "10-40300"}])

    with pytest.raises(AccountApiError) as caught:
        Forbidden("key").account_state("acc")
    assert str(caught.value) == ("GET /v3/partners/accounts/acc/state failed with HTTP 403 Forbidden: no (error_id 10-40300). "
                                 "Hint: the API key lacks the partner account provisioning scope (reading customer accounts)")
    with pytest.raises(InvalidRequestError):
        Forbidden("key").account_offerings("..")


# ---- the plugin over a fake client


class FakeApi:
    """Accounts in memory; the fake clients' answers, with failures to inject, and every call recorded."""

    def __init__(self, accounts, states=None, offerings=None, ips=None):
        self.accounts = accounts
        self.states = states or {}
        self.offerings = offerings or {}
        self.ips = ips or {}
        self.fail = {}  # (source, account id) -> status
        self.calls = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay = 0.0
        self.clients = []

    def call(self, source, account_id, value):
        with self.lock:
            self.calls.append((source, account_id))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            status = self.fail.get((source, account_id))
            if status:
                raise AccountApiError("GET", "/v3/partners/accounts/%s/%s" % (account_id, source), status, "Error",
                                      [{"message": "Something went wrong", "field": "", "error_id": "10-50000"}])
            return value
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def api(monkeypatch):
    fake = FakeApi([])

    class FakeClient:
        def __init__(self, **settings):
            self.settings = settings
            self.closed = False
            fake.clients.append(self)

        def list_accounts(self):
            return [dict(item) for item in fake.call("accounts", None, fake.accounts)]

        def account_state(self, account_id):
            return fake.call("state", account_id, fake.states.get(account_id, "activated"))

        def account_offerings(self, account_id):
            return fake.call("offerings", account_id, fake.offerings.get(account_id, []))

        def list_ips(self, account_id):
            return fake.call("ips", account_id, fake.ips.get(account_id, []))

        def close(self):
            self.closed = True

    monkeypatch.setattr(plugin_module, "SendGridClient", FakeClient)
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.unit-test-key")
    monkeypatch.delenv("SENDGRID_API_URL", raising=False)
    return fake


class Warnings:
    def __init__(self):
        self.messages = []


@pytest.fixture
def run(tmp_path, monkeypatch):
    """run({options}) -> (InventoryData, warnings): the plugin parses a config file with those options."""
    def parse(options, cache=True, name="customers.sendgrid.partners.accounts.yml"):
        path = tmp_path / name
        path.write_text(json.dumps(dict({"plugin": "sendgrid.partners.accounts"}, **options)))
        plugin = inventory_loader.get("sendgrid.partners.accounts")
        assert plugin is not None, "the plugin must load by its FQCN"
        warnings = Warnings()
        monkeypatch.setattr(plugin.display, "warning", lambda message, *args, **kwargs: warnings.messages.append(message))
        inventory = InventoryData()
        assert plugin.verify_file(str(path))
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        if getattr(plugin, "_cache", None) is not None and options.get("cache"):
            plugin.update_cache_if_changed()
        return inventory, warnings
    return parse


def hostvars(inventory, name):
    return inventory.get_host(name).get_vars()


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


def test_every_account_is_a_host_named_by_its_id_in_the_group(api, run):
    api.accounts = [account("sg1", email="a@example.com"), account("team/2")]
    inventory, warnings = run({})
    assert members(inventory, "sendgrid_customers") == ["sg1", "team/2"]
    assert {key: value for key, value in hostvars(inventory, "sg1").items() if not key.startswith("inventory_") and key != "group_names"} == {
        "ansible_connection": "local", "sendgrid_account_id": "sg1", "sendgrid_created_at": "2026-01-02T03:04:05Z",
        "sendgrid_account": {"id": "sg1", "created_at": "2026-01-02T03:04:05Z", "email": "a@example.com"}}
    assert api.calls == [("accounts", None)] and warnings.messages == []
    assert all(client.closed for client in api.clients)


def test_the_group_option_and_an_empty_listing(api, run):
    inventory, dummy = run({"group": "resold"})
    assert "resold" in inventory.groups and members(inventory, "resold") == []


def test_opt_in_sources_each_one_request_per_account(api, run):
    api.accounts = [account("a"), account("b")]
    api.states = {"a": "suspended"}
    api.offerings = {"b": [{"name": "org.ip.v1", "type": "addon", "quantity": 2}]}
    api.ips = {"a": [{"ip": "174.0.0.2", "region": "us"}, {"ip": "185.0.0.1", "region": "eu"}, {"ip": "174.0.0.1", "region": "us"}]}
    inventory, dummy = run({"with_state": True, "with_offerings": True, "with_ips": True})
    a, b = hostvars(inventory, "a"), hostvars(inventory, "b")
    assert a["sendgrid_account_state"] == "suspended" and b["sendgrid_account_state"] == "activated"
    assert a["sendgrid_offerings"] == [] and b["sendgrid_offerings"] == [{"name": "org.ip.v1", "type": "addon", "quantity": 2}]
    assert a["sendgrid_current_ips"] == {"us": ["174.0.0.2", "174.0.0.1"], "eu": ["185.0.0.1"]}
    assert b["sendgrid_current_ips"] == {"us": [], "eu": []}
    assert sorted(api.calls[1:]) == sorted((source, name) for source in ("state", "offerings", "ips") for name in "ab")


def test_without_opt_in_no_per_account_request_and_no_variable(api, run):
    api.accounts = [account("a")]
    inventory, dummy = run({"with_state": False})
    assert api.calls == [("accounts", None)]
    assert not {"sendgrid_account_state", "sendgrid_offerings", "sendgrid_current_ips"} & set(hostvars(inventory, "a"))


def test_keyed_groups_by_state_and_offering_groups_and_compose(api, run):
    api.accounts = [account(name) for name in ("a", "b", "c")]
    api.states = {"a": "activated", "b": "suspended", "c": "activated"}
    api.offerings = {"a": [{"name": "org.ei.pro.v1", "type": "package", "quantity": 1}, {"name": "org.ip.v1", "type": "addon", "quantity": 2}],
                     "b": [{"name": "org.ei.free.v1", "type": "package", "quantity": 1}]}
    inventory, dummy = run({
        "with_state": True, "with_offerings": True,
        "keyed_groups": [{"key": "sendgrid_account_state", "prefix": "state"},
                         {"key": "sendgrid_offerings | map(attribute='name')", "prefix": "offering"}],
        "groups": {"ip_buyers": "sendgrid_offerings | selectattr('type', 'eq', 'addon') | list | length > 0"},
        "compose": {"ip_quantity": "sendgrid_offerings | selectattr('name', 'eq', 'org.ip.v1') | map(attribute='quantity') | sum"},
    })
    assert members(inventory, "state_activated") == ["a", "c"] and members(inventory, "state_suspended") == ["b"]
    assert members(inventory, "offering_org_ei_pro_v1") == ["a"] and members(inventory, "offering_org_ip_v1") == ["a"]
    assert members(inventory, "offering_org_ei_free_v1") == ["b"]
    assert members(inventory, "ip_buyers") == ["a"]
    assert [int(hostvars(inventory, name)["ip_quantity"]) for name in "abc"] == [2, 0, 0]  # a string before 2.19


def test_a_hostname_template_over_the_account_fields(api, run):
    api.accounts = [account("sg1", email="acme@example.com"), account("sg2")]
    inventory, dummy = run({"hostname": "{{ (email | default(id)).split('@') | first }}"})
    assert members(inventory, "sendgrid_customers") == ["acme", "sg2"]
    assert hostvars(inventory, "acme")["sendgrid_account_id"] == "sg1"


def test_two_accounts_with_one_host_name_are_refused(api, run):
    api.accounts = [account("sg1", email="ops@acme.com"), account("sg2", email="ops@globex.com"), account("sg3", email="ops@acme.com")]
    with pytest.raises(AnsibleError) as caught:
        run({"hostname": "{{ email }}"})
    assert str(caught.value).startswith("sendgrid.partners.accounts: accounts sg1 and sg3 would both be the host 'ops@acme.com'; "
                                        "change the hostname template")


@pytest.mark.parametrize("template, message", [
    ("{{ email }}", "the hostname template '{{ email }}' failed for account sg2: "),
    ("{{ email | default('') }}", "the hostname template \"{{ email | default('') }}\" gave '' for account sg2, not a host name"),
])
def test_a_hostname_template_that_fails_names_the_account(api, run, template, message):
    api.accounts = [account("sg1", email="x@y"), account("sg2")]
    with pytest.raises(AnsibleError) as caught:
        run({"hostname": template})
    assert message in str(caught.value)


def test_strings_from_sendgrid_are_never_templated(api, run, tmp_path):
    api.accounts = [account("sg1", email=PAYLOAD)]
    api.states = {"sg1": PAYLOAD}
    inventory, dummy = run({"with_state": True, "hostname": "{{ email }}-{{ id }}", "compose": {"copy": "sendgrid_account.email"}})
    name = PAYLOAD + "-sg1"
    variables = hostvars(inventory, name)
    templar = Templar(loader=DataLoader(), variables=variables)
    for template in ("{{ sendgrid_account.email }}", "{{ sendgrid_account_state }}", "{{ copy }}"):
        assert templar.template(_trusted(template)) == PAYLOAD  # not 49
    assert templar.template(_trusted("{{ inventory_hostname }}")) == name  # the host name is unsafe too


def _trusted(template):
    """A template as if from a playbook (ansible-core 2.19+ templates only trusted strings)."""
    try:
        from ansible.template import trust_as_template
    except ImportError:
        return template
    return trust_as_template(template)


def test_a_failed_request_fails_the_inventory_by_default(api, run):
    api.accounts = [account(name) for name in ("a", "b", "c")]
    api.fail[("state", "b")] = 500
    with pytest.raises(AnsibleError) as caught:
        run({"with_state": True, "concurrency": 1})
    assert str(caught.value) == (
        "sendgrid.partners.accounts: reading sendgrid_account_state of account b failed: GET /v3/partners/accounts/b/state failed "
        "with HTTP 500 Error: Something went wrong (error_id 10-50000). With strict: false the inventory is built without the "
        "variables that could not be read, with a warning")
    assert ("state", "c") not in api.calls  # the others stop once one failed


def test_with_strict_false_a_host_lacks_the_variable_and_one_warning_counts(api, run):
    api.accounts = [account(name) for name in ("a", "b", "c", "d")]
    api.fail[("state", "b")] = 500
    api.fail[("state", "d")] = 503
    api.fail[("ips", "d")] = 502
    inventory, warnings = run({"with_state": True, "with_ips": True, "strict": False, "concurrency": 1})
    assert "sendgrid_account_state" not in hostvars(inventory, "b") and hostvars(inventory, "a")["sendgrid_account_state"] == "activated"
    assert "sendgrid_current_ips" in hostvars(inventory, "b") and "sendgrid_current_ips" not in hostvars(inventory, "d")
    assert len(warnings.messages) == 1
    assert warnings.messages[0].startswith(
        "sendgrid.partners.accounts: 3 of 8 per-account requests failed (sendgrid_account_state 2, sendgrid_current_ips 1), so "
        "those hosts lack that variable and the result was not cached; the first: reading sendgrid_account_state of account b failed: ")


def test_concurrency_bounds_the_per_account_requests(api, run):
    api.accounts = [account(name) for name in ids(40)]
    api.delay = 0.01
    run({"with_state": True, "with_offerings": True, "concurrency": 4})
    assert api.most_in_flight == 4 and len(api.calls) == 81


@pytest.mark.parametrize("options, message", [
    ({"concurrency": 0}, "concurrency must be an integer from 1 to 100, got 0"),
    ({"concurrency": 101}, "concurrency must be an integer from 1 to 100, got 101"),
    ({"api_url": "ftp://x"}, "api_url 'ftp://x' is not a base URL"),
    ({"timeout": 0}, "timeout must be a number of seconds above 0 and at most 3600, got 0"),
    ({"max_retries": -1}, "max_retries must be 0 or more, got -1"),
    ({"group": " "}, "group must be a non-empty group name, got ' '"),
])
def test_wrong_options_fail_before_any_request(api, run, options, message):
    with pytest.raises(AnsibleError, match="sendgrid.partners.accounts: .*" + _escaped(message)):
        run(options)
    assert api.calls == []


def test_no_api_key_names_both_ways_to_set_it(api, run, monkeypatch):
    monkeypatch.delenv("SENDGRID_API_KEY")
    with pytest.raises(AnsibleError, match="api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable"):
        run({})
    assert api.calls == []


def test_the_connection_options_reach_the_client(api, run, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_URL", "")  # as AWX renders an empty credential field: the default
    run({"timeout": 5, "max_retries": 0, "validate_certs": False})
    settings = api.clients[0].settings
    assert settings["api_key"] == "SG.unit-test-key" and settings["api_url"] == "https://api.sendgrid.com"
    assert (settings["timeout"], settings["max_retries"], settings["validate_certs"]) == (5, 0, False)
    assert isinstance(settings["gate"], _client.RateLimitGate)


def test_the_file_name_must_end_in_the_plugin_name(tmp_path):
    plugin = inventory_loader.get("sendgrid.partners.accounts")
    for name, valid in (("x.sendgrid.partners.accounts.yml", True), ("sendgrid.partners.accounts.yaml", True),
                        ("accounts.yml", False), ("x.sendgrid.partners.accounts.json", False)):
        (tmp_path / name).write_text("plugin: sendgrid.partners.accounts\n")
        assert plugin.verify_file(str(tmp_path / name)) is valid, name


def test_the_cache_answers_the_second_time_and_a_flush_reads_again(api, run, tmp_path):
    api.accounts = [account("a"), account("b", email="sgcachedaccount@example.com")]
    options = {"with_state": True, "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    run(options)
    assert len(api.calls) == 3
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1
    text = cached[0].read_text()
    assert "sgcachedaccount" in text and "SG.unit-test-key" not in text and "unit-test-key" not in text
    inventory, dummy = run(options)
    assert len(api.calls) == 3 and members(inventory, "sendgrid_customers") == ["a", "b"]  # no request
    assert hostvars(inventory, "a")["sendgrid_account_state"] == "activated"
    run(options, cache=False)  # --flush-cache
    assert len(api.calls) == 6
    run(dict(options, with_offerings=True))  # a cache of other sources is not used
    assert len(api.calls) == 11


def test_an_empty_cached_listing_is_a_hit(api, run, tmp_path):
    options = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    run(options)
    run(options)
    assert api.calls == [("accounts", None)]


def test_a_cache_that_is_not_ours_is_a_miss(api, run, tmp_path):
    api.accounts = [account("a")]
    options = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    run(options)
    cached = next((tmp_path / "cache").iterdir())
    document = json.loads(cached.read_text())
    payload = json.loads(document["__payload__"]) if "__payload__" in document else document
    payload["records"] = [{"account": {"name": "no id"}}]
    cached.write_text(json.dumps({"__payload__": json.dumps(payload)}) if "__payload__" in document else json.dumps(payload))
    inventory, dummy = run(options)
    assert api.calls == [("accounts", None)] * 2 and members(inventory, "sendgrid_customers") == ["a"]


def test_a_result_with_failures_is_not_cached(api, run, tmp_path):
    api.accounts = [account("a")]
    api.fail[("state", "a")] = 500
    options = {"with_state": True, "strict": False, "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
               "cache_connection": str(tmp_path / "cache")}
    run(options)
    del api.fail[("state", "a")]
    inventory, dummy = run(options)
    assert len(api.calls) == 4 and hostvars(inventory, "a")["sendgrid_account_state"] == "activated"


def _escaped(text):
    import re
    return re.escape(text)
