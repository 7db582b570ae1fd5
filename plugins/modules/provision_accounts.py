#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: provision_accounts
short_description: Plan and give many SendGrid customer accounts their dedicated IPs in one step
version_added: 0.1.0
description:
  - Brings many customer accounts of a Twilio SendGrid reseller to the IPs they should hold, in one task, with
    O(concurrency) API calls at a time. This is what the role C(sendgrid.partners.provision_ips) runs once per play;
    it also works on its own.
  - "It works in three phases: it checks every customer's entries, lists every account once and plans what to add
    and remove (RV(plan)); it refuses the whole run, buying nothing for anyone, when the plan adds more than
    O(max_new_ips) IPs; then it carries out each customer's plan, removals before additions."
  - Each customer succeeds or fails on its own. A failed customer is reported in RV(customers) with its message;
    the task itself fails only when the whole run is refused (the spend cap) or its own options are wrong.
  - Each entry follows the same rules as M(sendgrid.partners.add_ips) (C(total), C(count)) and
    M(sendgrid.partners.remove_ips) (C(state=absent)), including what happens after an unclear answer.
  - With O(hosts) it runs on the controller, in the action plugin, and does what the role
    C(sendgrid.partners.provision_ips) needs; see O(hosts).
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
options:
  customers:
    description:
      - The customers, keyed by a name (the role uses the inventory host name). Each value is a dict with
        C(account_id), the customer's SendGrid account ID, and C(ips), the list of what the account should hold,
        applied in order.
      - Each entry of C(ips) is one of C({region, total}) (at least that many IPs in the region, see
        M(sendgrid.partners.add_ips)), C({region, count}) (buy that many now, on every run) or
        C({state=absent, ips=[...]}) (remove those IPs, see M(sendgrid.partners.remove_ips); C(region) optional).
        At most one C(total) or C(count) entry per region. Removals run before additions, whatever the order.
      - A customer whose entries are wrong fails before any request; the others go on.
      - Two customers with the same account ID both fail before any request, since each would buy its shortfall.
      - Exactly one of O(customers) and O(hosts) is required.
    type: dict
  hosts:
    description:
      - Instead of O(customers), the inventory hosts that are customers, usually V({{ ansible_play_batch }}), with
        C(run_once) and C(delegate_to=localhost). Each host's own variables (inventory host and group variables,
        facts, extra vars) give its customer, keyed by the host name, C(sendgrid_account_id) and C(sendgrid_ips) as for
        the role C(sendgrid.partners.provision_ips). They are read on the controller, so no customer host runs a task
        for it, and messages name those variables.
      - "The connection of each customer: the host's C(sendgrid_api_key) and C(sendgrid_api_url), else O(api_key) and
        O(api_url) of this task (where C(module_defaults) for C(group/sendgrid.partners.partners) lands), else the
        controller's E(SENDGRID_API_KEY) and E(SENDGRID_API_URL). Customers of several API URLs or keys are listed
        once each and share one plan and one O(max_new_ips)."
      - The plan is printed before the first purchase, and progress lines while the run applies it (at most every
        10 seconds or every tenth of the customers).
      - A real run takes a lock per API URL on the controller for its duration; a second run against the same API
        fails at once with the lock's path and the process holding it.
      - Adds the return values RV(hosts), RV(summary), RV(notes), RV(diff_lines), RV(report_path) and RV(saved_plan).
    type: list
    elements: str
  report_path:
    description:
      - With O(hosts) only. Path of a JSON report of every customer, written on the controller after all of them;
        a CSV report with the same name and C(.csv) goes beside it. Relative to the directory C(ansible-playbook) runs
        in. Written in check mode too.
    type: str
  plan:
    description:
      - With O(hosts) only, in a real run. A saved plan (RV(saved_plan) of a check-mode run) to apply exactly, instead
        of planning afresh under O(max_new_ips). See the role variable C(sendgrid_plan) for the rules.
    type: dict
  plan_path:
    description:
      - With O(hosts) only. In check mode, where to write the plan; in a real run, the saved plan to apply (unless
        O(plan) is given).
    type: str
  plan_max_age:
    description:
      - With O(hosts) only. How old an applied plan may be, seconds or a duration such as V(24h) or V(90m).
      - Unset means 24 hours.
    type: raw
  concurrency:
    description:
      - How many API calls run at once. A rate limit (HTTP 429) met by one call pauses all of them until
        C(X-RateLimit-Reset).
    type: int
    default: 10
  max_new_ips:
    description:
      - The most IPs this run may buy, over all customers. When the plan adds more, nothing is bought for anyone and
        the task fails with the plan's largest additions (with O(hosts), every customer fails with that message).
      - Unset means no cap.
    type: int
extends_documentation_fragment:
  - sendgrid.partners.connection
  - sendgrid.partners.connection.attributes
attributes:
  action:
    support: full
    description: With O(hosts), the action plugin reads the hosts' variables and runs the whole step on the controller.
  check_mode:
    support: full
    description: Lists every account (safe GETs), returns the exact plan, and sends no POST or DELETE.
  diff_mode:
    support: full
    description: Shows, for each customer that changes, its IPs per region before and after.
seealso:
  - module: sendgrid.partners.add_ips
  - module: sendgrid.partners.remove_ips
"""

EXAMPLES = r"""
- name: Give three customers their IPs, at most 20 new IPs in this run
  sendgrid.partners.provision_accounts:
    customers:
      acme:
        account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
        ips:
          - {region: us, total: 2}
          - {region: eu, total: 1}
      globex:
        account_id: sg2b3cde4fa5bc6d78e9fabc02d12ef3ab
        ips:
          - {region: us, total: 1}
      initech:
        account_id: sg3c4def5ab6cd7e89fabcd13e23fa4bc
        ips:
          - {state: absent, ips: [149.72.10.4]}
    concurrency: 20
    max_new_ips: 20
  register: onboarding
  delegate_to: localhost

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ onboarding.plan.summary }}"
"""

RETURN = r"""
plan:
  description: What the run found to do, worked out before any POST or DELETE.
  returned: always
  type: dict
  contains:
    customers:
      description: How many customers were given.
      type: int
      returned: always
    customers_failed:
      description: How many customers failed before any change (wrong entries, listing failed).
      type: int
      returned: always
    customers_to_change:
      description: How many customers get IPs added or removed.
      type: int
      returned: always
    add:
      description: How many IPs would be added, per region.
      type: dict
      returned: always
      sample: {"us": 12, "eu": 3}
    add_total:
      description: How many IPs would be added in all.
      type: int
      returned: always
    remove_total:
      description: How many IPs would be removed in all.
      type: int
      returned: always
    not_found_total:
      description: How many IPs named for removal are not on their accounts (left alone).
      type: int
      returned: always
    largest:
      description: The customers with the largest additions, largest first (at most 10).
      type: list
      elements: dict
      returned: always
      sample: [{"name": "acme", "account_id": "sg1a2bcd3ef4ab5c67d8efab91c01de2fa", "add": 3, "regions": {"us": 2, "eu": 1}}]
    max_new_ips:
      description: The cap the plan was held to (O(max_new_ips)), or V(null).
      type: int
      returned: always
    refused:
      description: Why nothing was bought when the plan broke the cap, else V(null).
      type: str
      returned: always
    summary:
      description: The plan in a few lines for people.
      type: list
      elements: str
      returned: always
customers:
  description: Each customer's outcome, by name.
  returned: always
  type: dict
  sample:
    acme:
      account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
      changed: true
      failed: false
      ips: {"us": ["149.72.10.5", "149.72.10.4"], "eu": ["159.183.2.7"]}
      added: {"us": ["149.72.10.5"], "eu": ["159.183.2.7"]}
      removed: []
      not_found: []
      planned: {"add": {"us": 1, "eu": 1}, "remove": []}
      warnings: []
  contains:
    account_id:
      description: The account ID.
      type: str
      returned: always
    changed:
      description: Whether the account changed (in check mode, would change).
      type: bool
      returned: always
    failed:
      description: Whether this customer failed.
      type: bool
      returned: always
    msg:
      description: Why this customer failed, and what is known about its account.
      type: str
      returned: when failed
    ips:
      description: Every IP the account holds in each region its entries name, newest first (in check mode, today's).
      type: dict
      returned: always
    listed:
      description: Every IP the account held in each region its entries name, when it was listed before any change.
      type: dict
      returned: always
    added:
      description: The IPs added by this run, per region.
      type: dict
      returned: always
    removed:
      description: The IPs removed by this run.
      type: list
      elements: str
      returned: always
    not_found:
      description: IPs to remove that the account did not hold.
      type: list
      elements: str
      returned: always
    planned:
      description: What the plan was for this customer, C(add) per region and C(remove).
      type: dict
      returned: always
    warnings:
      description: Warnings met while applying, such as an unclear answer that turned out carried out.
      type: list
      elements: str
      returned: always
failed_customers:
  description: The names of the customers that failed (with O(hosts), their hosts).
  returned: always
  type: list
  elements: str
hosts:
  description: With O(hosts), each host's C(status) (V(ok), V(changed) or V(failed)), C(error) and C(ips) per region.
  returned: when O(hosts) is given
  type: dict
  sample: {"acme": {"status": "changed", "error": null, "ips": {"us": ["149.72.10.5", "149.72.10.4"]}}}
summary:
  description: With O(hosts), how many customers are C(ok), C(changed) and C(failed), and how many IPs were added and removed.
  returned: when O(hosts) is given
  type: dict
  sample: {"customers": 3, "ok": 1, "changed": 1, "failed": 1, "ips_added": 2, "ips_removed": 0}
notes:
  description: With O(hosts), the outcome in one line, then the failed customers and the warnings met, one line each.
  returned: when O(hosts) is given
  type: list
  elements: str
diff_lines:
  description: With O(hosts) and C(--diff), one line per customer and region that changes, C(host region [before] -> [after]).
  returned: when O(hosts) is given in diff mode
  type: list
  elements: str
report_path:
  description: With O(report_path), the absolute path of the JSON report written.
  returned: when O(report_path) is given
  type: str
saved_plan:
  description:
    - With O(hosts) in check mode, the plan of the run as a saved plan (also written to O(plan_path) when given, and
      published as the stats artifact C(sendgrid_plan)). Not made when the plan breaks O(max_new_ips).
  returned: with O(hosts), in check mode, when the plan is within the cap
  type: dict
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.sendgrid.partners.plugins.module_utils._client import HAS_REQUESTS, RateLimitGate
from ansible_collections.sendgrid.partners.plugins.module_utils._engine import CustomerRun, Engine, summarize
from ansible_collections.sendgrid.partners.plugins.module_utils._module import build_module, check_input, client_for, int_problem

ARGUMENT_SPEC = {
    "customers": {"type": "dict"},
    "hosts": {"type": "list", "elements": "str"},
    "concurrency": {"type": "int", "default": 10},
    "max_new_ips": {"type": "int"},
    "report_path": {"type": "str"},
    "plan": {"type": "dict"},
    "plan_path": {"type": "str"},
    "plan_max_age": {"type": "raw"},
}
HOSTS_ONLY = ("hosts", "report_path", "plan", "plan_path", "plan_max_age")


def main():
    module = build_module(ARGUMENT_SPEC, supports_check_mode=True, required_one_of=[("customers", "hosts")],
                          mutually_exclusive=[("customers", "hosts")])
    params = module.params
    given = [name for name in HOSTS_ONLY if params[name] is not None]
    if given:
        module.fail_json(msg="%s: read on the controller by the action plugin of sendgrid.partners.provision_accounts, with hosts;"
                             " run it through ansible-playbook with hosts, or give customers" % ", ".join(given))
    check_input(module, [int_problem("concurrency", params["concurrency"], 1, 100), int_problem("max_new_ips", params["max_new_ips"], 0)])
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    gate = RateLimitGate()  # one 429 pauses every worker
    runs = [CustomerRun(name, customer) for name, customer in params["customers"].items()]
    engine = Engine(runs, lambda connection: client_for(module, gate), params["concurrency"])
    try:
        engine.plan()
        plan = summarize(runs, params["max_new_ips"])
        if not module.check_mode and not plan["refused"]:
            engine.apply()
    finally:
        engine.close()
    customers = {run.name: run.outcome(module.check_mode) for run in runs}
    result = {
        "changed": any(outcome["changed"] for outcome in customers.values()),
        "plan": plan,
        "customers": customers,
        "failed_customers": [run.name for run in runs if run.failed],
    }
    if module._diff:
        diffs = {run.name: run.diff(module.check_mode) for run in runs if customers[run.name]["changed"]}
        result["diff"] = {"before": {name: diff[0] for name, diff in diffs.items()}, "after": {name: diff[1] for name, diff in diffs.items()}}
    if plan["refused"]:
        module.fail_json(msg=plan["refused"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
