#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: remove_ips
short_description: Take dedicated IPs away from a SendGrid customer account
version_added: 0.1.0
description:
  - Removes the named dedicated IPs from one customer account of a Twilio SendGrid reseller, through
    C(DELETE /v3/partners/accounts/{accountID}/ips), in requests of at most 10 IPs.
  - B(The customer's mail stops on those IPs at once.) Run with C(--check --diff) first and read the plan.
  - Idempotent. It lists the account first and removes only the named IPs the account holds. IPs it does not hold
    are reported in RV(not_found) and as a warning, not as an error, unless O(fail_on_missing) is set.
  - There is no way to say "keep N IPs". The IPs to remove must be named, because SendGrid would stop mail on
    whichever IP was picked.
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
options:
  account_id:
    description:
      - The customer's SendGrid account ID. Sent as one percent-encoded path segment.
    type: str
    required: true
  ips:
    description:
      - The IPv4 addresses to remove. Each is checked as a dotted-quad IPv4 address before any request.
    type: list
    elements: str
    required: true
  fail_on_missing:
    description:
      - Fail, before removing anything, when one of O(ips) is not held by the account.
    type: bool
    default: false
extends_documentation_fragment:
  - sendgrid.partners.connection
  - sendgrid.partners.connection.attributes
attributes:
  check_mode:
    support: full
    description: Lists the account (a safe GET), sends no DELETE, and returns exactly what would be removed.
  diff_mode:
    support: full
    description: Shows the account's IPs before and after.
notes:
  - When a DELETE ends without a clear answer (a timeout, a dropped connection or an HTTP 5xx), the module lists the
    account again, reports what is really gone in RV(removed) and fails; it never repeats the DELETE. A rerun
    removes only what is left.
seealso:
  - module: sendgrid.partners.ips_info
  - module: sendgrid.partners.add_ips
"""

EXAMPLES = r"""
# Always look first: ansible-playbook offboard.yml --check --diff
- name: Take two IPs away from a customer (their mail stops on them at once)
  sendgrid.partners.remove_ips:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    ips:
      - 149.72.10.4
      - 149.72.10.5
  delegate_to: localhost

- name: Offboard a customer completely
  delegate_to: localhost
  block:
    - name: Read what the customer holds
      sendgrid.partners.ips_info:
        account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
      register: leaving

    - name: Remove every IP
      sendgrid.partners.remove_ips:
        account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
        ips: "{{ leaving.ips | map(attribute='ip') | list }}"

- name: Be strict about a list that must match the account
  sendgrid.partners.remove_ips:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    ips: [149.72.10.4]
    fail_on_missing: true
  delegate_to: localhost
"""

RETURN = r"""
account_id:
  description: The account ID the task worked on.
  returned: always
  type: str
  sample: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
removed:
  description:
    - The IPs removed by this task (in check mode, that would be removed).
    - On a failure after an unclear answer, the IPs that are really gone.
  returned: always
  type: list
  elements: str
  sample: ["149.72.10.4"]
remaining_ips:
  description: Every IP the account still holds, in all regions, newest first (in check mode, would still hold).
  returned: always
  type: list
  elements: str
  sample: ["149.72.3.1"]
not_found:
  description: The IPs of O(ips) that the account does not hold, so were not removed.
  returned: always
  type: list
  elements: str
  sample: ["149.72.99.9"]
"""

from ansible_collections.sendgrid.partners.plugins.module_utils._module import (
    account_id_problem,
    build_module,
    check_input,
    ipv4_problems,
    run_module,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import OutcomeError, Removal

ARGUMENT_SPEC = {
    "account_id": {"type": "str", "required": True},
    "ips": {"type": "list", "elements": "str", "required": True},
    "fail_on_missing": {"type": "bool", "default": False},
}


def run(module, client):
    params = module.params
    account_id = params["account_id"]
    removal = Removal(client, account_id, [item["ip"] for item in client.list_ips(account_id)], params["ips"])
    if removal.not_found:
        message = "account %s does not hold %s" % (account_id, ", ".join(removal.not_found))
        if params["fail_on_missing"]:
            raise OutcomeError("%s; nothing was removed (fail_on_missing is set)" % message, removal.result())
        module.warn("%s; left alone" % message)
    if module.check_mode:
        result = removal.result(removal.to_remove)
    else:
        removal.remove()
        result = removal.result()
    if module._diff:
        result["diff"] = {"before": {"account_id": account_id, "ips": removal.held},
                          "after": {"account_id": account_id, "ips": result["remaining_ips"]}}
    return result


def main():
    module = build_module(ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    problems = [account_id_problem(params["account_id"]),
                "ips must name at least one IPv4 address" if not params["ips"] else None]
    problems.extend(ipv4_problems("ips", params["ips"]))
    check_input(module, problems)
    run_module(module, run)


if __name__ == "__main__":
    main()
