#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: customer_outcome
short_description: Give one customer host its outcome of a play-wide provision_accounts run
version_added: 0.1.0
description:
  - Internal to the role C(sendgrid.partners.provision_ips), not an interface of its own. It has no stability
    promise and may change or go away in any release; playbooks should use the role.
  - Runs on each customer host after the role's play-wide M(sendgrid.partners.provision_accounts) step. Sets the fact
    C(sendgrid_partners_ips) (every IP the account holds in each region its entries name), reports C(changed) when
    the customer's account changed (in check mode, would change), and fails the host with the customer's message
    when the customer failed.
  - It reads the variables named in O(run_var) and O(defer_failure_var) without templating them and sends no request.
  - Runs on the controller only (an action plugin); it has no use outside a play.
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
options:
  run_var:
    description:
      - The name of the variable that holds the registered result of
        M(sendgrid.partners.provision_accounts) with O(sendgrid.partners.provision_accounts#module:hosts).
    type: str
    required: true
  defer_failure_var:
    description:
      - The name of a variable, read without templating like O(run_var). When it holds V(true), a failed customer's
        host is not failed; the task records its status and message, and a later play on the failed customers (the
        role's entry point C(fail_deferred)) runs this module without this option to fail them.
      - ansible-core compares every host with the list of the play's failed hosts for every task it runs, so when
        thousands of customers fail within one play every later task costs customers times failures; failing them
        in a play of their own keeps the run linear.
    type: str
attributes:
  action:
    support: full
    description: Runs entirely on the controller.
  check_mode:
    support: full
    description: Reports what the run planned; it changes nothing itself.
  diff_mode:
    support: none
    description: The play-wide run shows the diff; this task has none.
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the customer host is.
seealso:
  - module: sendgrid.partners.provision_accounts
"""

EXAMPLES = r"""
# As the role sendgrid.partners.provision_ips uses it, after its play-wide step registered onboarding:
- name: Each customer host gets its outcome and the fact sendgrid_partners_ips
  sendgrid.partners.customer_outcome:
    run_var: onboarding
"""

RETURN = r"""
ansible_facts:
  description: The fact C(sendgrid_partners_ips), cached like gathered facts (for AWX fact caching).
  returned: when the customer did not fail
  type: dict
  sample: {"sendgrid_partners_ips": {"us": ["149.72.10.5", "149.72.10.4"]}}
status:
  description: The customer's status, V(ok), V(changed) or V(failed).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"run_var": {"type": "str", "required": True},
                                          "defer_failure_var": {"type": "str"}},
                           supports_check_mode=True)
    module.fail_json(msg="sendgrid.partners.customer_outcome runs on the controller, as an action plugin, within a play")


if __name__ == "__main__":
    main()
