# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sendgrid.partners.provision_accounts: main() with customers against a fake client; the exact result or failure."""

from __future__ import annotations

import json

from ansible_collections.sendgrid.partners.tests.unit.plugins.modules.utils import API_KEY

CUSTOMERS = {
    "acme": {"account_id": "a1", "ips": [{"region": "us", "total": 2}]},
    "initech": {"account_id": "a2", "ips": [{"region": "eu", "total": 1}, {"state": "absent", "ips": ["185.0.0.9"]}]},
}


def args(**options):
    base = {"api_key": API_KEY, "customers": CUSTOMERS, "concurrency": 1}
    base.update(options)
    return base


def accounts(fake_client):
    return fake_client.account("a1", ("174.0.0.1", "us")).account("a2", ("185.0.0.9", "eu"))


def test_a_run_brings_every_customer_to_its_entries(run_module, fake_client):
    fake = accounts(fake_client)
    outcome = run_module("provision_accounts", args(max_new_ips=5))
    assert not outcome.failed
    result = outcome.result
    assert result["changed"] is True and result["failed_customers"] == []
    assert result["plan"]["add"] == {"eu": 1, "us": 1} and result["plan"]["remove_total"] == 1
    assert result["plan"]["summary"][-1] == "Spend cap: 2 of at most 5 new IPs."
    assert result["customers"]["acme"]["added"] == {"us": ["10.0.0.1"]}
    assert result["customers"]["initech"]["removed"] == ["185.0.0.9"]
    assert fake.held("a1", "us") == ["10.0.0.1", "174.0.0.1"] and fake.held("a2") == ["10.0.0.2"]
    # initech's removal came before its purchase, though its entries name the total first
    calls_for_initech = [call for call in fake.calls if call[1] == "a2"]
    assert calls_for_initech == [("list_ips", "a2"), ("remove_ips", "a2", ["185.0.0.9"]), ("add_ips", "a2", "eu", 1)]
    assert API_KEY not in json.dumps(result)


def test_check_mode_plans_and_sends_nothing_but_listings(run_module, fake_client):
    fake = accounts(fake_client)
    outcome = run_module("provision_accounts", args(), check_mode=True, diff=True)
    assert not outcome.failed and outcome.result["changed"] is True
    assert fake.methods() == ["list_ips", "list_ips"]
    assert outcome.result["diff"]["after"]["acme"] == {"us": ["(new IP 1 of 1)", "174.0.0.1"]}
    assert outcome.result["diff"]["before"]["initech"] == {"eu": ["185.0.0.9"], "us": []}


def test_a_plan_above_the_cap_fails_and_buys_nothing(run_module, fake_client):
    fake = accounts(fake_client)
    outcome = run_module("provision_accounts", args(max_new_ips=1))
    assert outcome.failed
    assert outcome.result["msg"].startswith("The plan adds 2 new IPs, above the cap of 1 (max_new_ips; sendgrid_max_new_ips in the "
                                            "role), so nothing was bought for any customer.")
    assert fake.methods() == ["list_ips", "list_ips"]


def test_hosts_belong_to_the_action_plugin(run_module, fake_client):
    outcome = run_module("provision_accounts", {"api_key": API_KEY, "hosts": ["acme"]})
    assert outcome.failed and outcome.result["msg"].startswith("hosts: read on the controller by the action plugin")
    assert fake_client.calls == [] and fake_client.built_with == []


def test_a_bad_concurrency_fails_before_any_request(run_module, fake_client):
    outcome = run_module("provision_accounts", args(concurrency=0))
    assert outcome.failed and outcome.result["msg"] == "concurrency must be an integer from 1 to 100, got 0"
    assert fake_client.calls == [] and fake_client.built_with == []


def test_a_failing_customer_fails_alone(run_module, fake_client):
    fake_client.account("a1", ("174.0.0.1", "us"))  # a2 is unknown: 404
    outcome = run_module("provision_accounts", args())
    assert not outcome.failed and outcome.result["failed_customers"] == ["initech"]
    assert outcome.result["customers"]["initech"]["msg"].startswith("GET /v3/partners/accounts/a2/ips failed with HTTP 404")
    assert outcome.result["customers"]["acme"]["changed"] is True
