"""The simulator's Account Provisioning operations: ListAccount, GetAccountState, ListAccountOffering (see README.md)."""

import json
import os

import pytest

from conftest import API_KEY
from simctl import SimulatorError, api_call

IDS = ["sg%032x" % number for number in range(1, 8)]


def listing(sim, **query):
    answer = sim.call("GET", None, resource="accounts", query=query)
    assert answer.status == 200, answer.body
    return answer.json()


def test_accounts_are_listed_in_creation_order_after_the_offset(sim):
    sim.reset({account_id: {} for account_id in IDS})
    first = listing(sim, limit=3)
    assert [account["id"] for account in first["accounts"]] == IDS[:3]
    assert first["pages"] == {"last": IDS[2]}
    second = listing(sim, limit=3, offset=IDS[2])
    assert [account["id"] for account in second["accounts"]] == IDS[3:6]
    third = listing(sim, limit=3, offset=IDS[5])
    assert [account["id"] for account in third["accounts"]] == IDS[6:] and third["pages"] == {"last": IDS[6]}
    assert listing(sim, limit=3, offset=IDS[6]) == {"accounts": [], "pages": {}}
    assert listing(sim, offset="sg-unknown") == {"accounts": [], "pages": {}}
    assert len(listing(sim)["accounts"]) == 7  # default limit 10


def test_an_account_lists_created_at_and_only_the_profile_fields_it_has(sim):
    sim.reset({"a": {"email": "{{ lookup('pipe', 'id') }}@example.com", "created_at": "2024-05-06T07:08:09Z",
                     "updated_at": "2025-01-01T00:00:00+02:00"}, "b": {}})
    assert listing(sim)["accounts"] == [
        {"id": "a", "created_at": "2024-05-06T07:08:09Z", "email": "{{ lookup('pipe', 'id') }}@example.com",
         "updated_at": "2025-01-01T00:00:00+02:00"},
        {"id": "b", "created_at": "2026-01-01T00:00:00Z"},
    ]


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", ""])
def test_a_limit_outside_1_to_100_is_400(sim, limit):
    sim.reset({"a": {}})
    answer = sim.call("GET", None, resource="accounts", query={"limit": limit})
    assert answer.status == 400
    assert answer.json()["errors"] == [{"message": "limit must be an integer from 1 to 100", "field": "limit", "error_id": "10-40000"}]


def test_state_and_offerings_of_an_account(sim):
    offerings = [{"name": "org.ei.pro.v1", "type": "package", "quantity": 1}, {"name": "org.ip.v1", "type": "addon", "quantity": 3},
                 {"name": "org.ease.v1", "type": "addon"}]
    sim.reset({"a": {"state": "banned", "offerings": offerings}, "b": {}, "team/c": {"offerings": []}})
    assert sim.call("GET", "a", resource="state").json() == {"state": "banned"}
    assert sim.call("GET", "a", resource="offerings").json() == {"offerings": offerings}
    assert sim.call("GET", "b", resource="state").json() == {"state": "activated"}
    assert sim.call("GET", "b", resource="offerings").json() == {
        "offerings": [{"name": "org.ei.free.v1", "type": "package", "quantity": 1}]}
    assert sim.call("GET", "team/c", resource="offerings").json() == {"offerings": []}
    for resource in ("state", "offerings"):
        missing = sim.call("GET", "nobody", resource=resource)
        assert missing.status == 404 and missing.json()["errors"][0]["message"] == "Account not found"
        assert sim.call("GET", "a", resource=resource, api_key="wrong").status == 401
        assert sim.call("PUT", "a", resource=resource, body={}).status == 405
    assert sim.call("POST", None, resource="accounts", body={}).status == 405


def test_state_and_profile_change_through_the_control_api(sim):
    sim.reset({"a": {"generate": {"us": 2}, "email": "a@example.com"}})
    ips = sim.accounts()["a"]
    changed = sim.update_account("a", state="suspended", email=None, offerings=[{"name": "x", "type": "addon", "quantity": 0}])
    assert changed == {"id": "a", "ips": ips, "account": {"created_at": "2026-01-01T00:00:00Z", "state": "suspended",
                                                          "offerings": [{"name": "x", "type": "addon", "quantity": 0}]}}
    assert sim.call("GET", "a", resource="state").json() == {"state": "suspended"}
    assert listing(sim)["accounts"] == [{"id": "a", "created_at": "2026-01-01T00:00:00Z"}]
    assert sim.accounts()["a"] == ips  # the IPs stay
    with pytest.raises(SimulatorError, match="'state' must be one of activated, deactivated, suspended, banned, indeterminate"):
        sim.update_account("a", state="gone")
    with pytest.raises(SimulatorError, match="an account's profile has the keys"):
        sim.update_account("a", ips=[])
    with pytest.raises(SimulatorError, match="404"):
        sim.update_account("nobody", state="banned")


@pytest.mark.parametrize("account, message", [
    ({"state": "closed"}, "'state' must be one of"),
    ({"created_at": "yesterday"}, "'created_at' must be an RFC 3339 date-time"),
    ({"updated_at": 5}, "'updated_at' must be an RFC 3339 date-time"),
    ({"email": ["a"]}, "'email' must be a string"),
    ({"offerings": {"name": "x"}}, "'offerings' must be a list"),
    ({"offerings": [{"name": "x", "type": "bundle"}]}, "each of 'offerings' must be"),
    ({"offerings": [{"name": "x", "type": "addon", "quantity": -1}]}, "each of 'offerings' must be"),
    ({"offerings": [{"name": "x", "type": "addon", "price": 1}]}, "each of 'offerings' must be"),
    ({"first_name": "x"}, "optional keys 'ips', 'generate', created_at, updated_at, email, state, offerings"),
])
def test_bad_profiles_are_refused_and_change_nothing(sim, account, message):
    sim.reset({"kept": {}})
    with pytest.raises(SimulatorError, match=message):
        sim.reset({"a": account})
    assert list(sim.accounts()) == ["kept"]


def test_requests_are_logged_with_their_operation_and_faults_match_it(sim):
    sim.reset({"a": {}, "b": {}})
    sim.faults([{"match": {"operation": "GetAccountState", "account_id": "b"}, "action": "error", "status": 503}])
    assert sim.call("GET", "b", resource="offerings").status == 200
    assert sim.call("GET", "b").status == 200
    assert sim.call("GET", "a", resource="state").status == 200
    assert sim.call("GET", "b", resource="state").status == 503
    assert sim.call("GET", "b", resource="state").status == 200
    assert sim.call("GET", None, resource="accounts").status == 200
    assert sim.call("GET", "b", resource="nothing").status == 404
    assert [(record["operation"], record["account_id"], record["status"], record["fault"]) for record in sim.requests()] == [
        ("ListAccountOffering", "b", 200, None), ("ListAccountIps", "b", 200, None), ("GetAccountState", "a", 200, None),
        ("GetAccountState", "b", 503, "error"), ("GetAccountState", "b", 200, None), ("ListAccount", None, 200, None),
        (None, None, 404, None)]
    with pytest.raises(SimulatorError, match="fault 'match' may only have the keys method, account_id, operation"):
        sim.faults([{"match": {"path": "/"}, "action": "drop"}])


def test_mangled_listings(sim):
    sim.reset({account_id: {} for account_id in IDS})
    sim.faults([{"action": "mangle", "mode": "overlap_pages", "match": {"operation": "ListAccount"}}])
    overlap = listing(sim, limit=3, offset=IDS[2])
    assert [account["id"] for account in overlap["accounts"]] == IDS[2:5] and overlap["pages"] == {"last": IDS[4]}
    sim.faults([{"action": "mangle", "mode": "no_pages"}])
    assert listing(sim, limit=2) == {"accounts": listing(sim, limit=2)["accounts"]}
    sim.faults([{"action": "mangle", "mode": "repeat_page"}])
    assert listing(sim, limit=2, offset=IDS[1]) == listing(sim, limit=2)
    sim.faults([{"action": "mangle", "mode": "repeat_page", "shift_last": True}])
    shifted = listing(sim, limit=2, offset=IDS[1])
    assert [account["id"] for account in shifted["accounts"]] == IDS[:2] and shifted["pages"]["last"] not in IDS
    sim.faults([{"action": "mangle", "mode": "endless_pages", "times": 2}])
    one, two = listing(sim, limit=100), listing(sim, limit=100)
    ids = [account["id"] for account in one["accounts"] + two["accounts"]]
    assert len(set(ids)) == 200 and not set(ids) & set(IDS) and one["pages"]["last"] == ids[99]


def test_profiles_survive_a_restart_with_a_state_file(make_simulator, tmp_path):
    state = str(tmp_path / "state.json")
    first = make_simulator(state=state)
    first.reset({"a": {"state": "deactivated", "email": "a@example.com", "offerings": []}})
    first.stop()
    with open(state, encoding="utf-8") as handle:
        assert json.load(handle)["profiles"]["a"]["state"] == "deactivated"
    second = make_simulator(state=state)
    assert second.account("a")["account"] == {"created_at": "2026-01-01T00:00:00Z", "email": "a@example.com",
                                              "state": "deactivated", "offerings": []}


def test_a_state_file_without_profiles_gives_the_defaults(make_simulator, tmp_path):
    state = tmp_path / "old-state.json"
    state.write_text(json.dumps({"version": 1, "accounts": {"a": [{"ip": "174.0.0.1", "region": "us"}]},
                                 "next_ip_index": {"us": 1, "eu": 0}}))
    sim = make_simulator(state=str(state))
    assert sim.call("GET", "a", resource="state").json() == {"state": "activated"}
    assert sim.accounts() == {"a": [{"ip": "174.0.0.1", "region": "us"}]}


def test_the_example_seed_lists_its_accounts(make_simulator):
    seed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "example_seed.yml")
    sim = make_simulator(seed=seed)
    answer = api_call(sim.url, "GET", "/v3/partners/accounts", API_KEY, query={"limit": 100})
    assert [account["email"].split("@")[1] for account in answer.json()["accounts"]] == [
        "acme.example.com", "globex.example.com", "initech.example.com", "umbrella.example.com", "wonka.example.com", "hooli.example.com"]
