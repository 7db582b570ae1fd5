#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ips_info
short_description: List the dedicated IPs of a SendGrid customer account
version_added: 0.1.0
description:
  - Lists every dedicated IP of one customer account of a Twilio SendGrid reseller, following every page of
    C(GET /v3/partners/accounts/{accountID}/ips).
  - Read-only; runs the same in check mode.
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
options:
  account_id:
    description:
      - The customer's SendGrid account ID. Sent as one percent-encoded path segment.
    type: str
    required: true
  region:
    description:
      - Return only the IPs of this region.
    type: str
    choices: [eu, us]
extends_documentation_fragment:
  - sendgrid.partners.connection
  - sendgrid.partners.connection.attributes
attributes:
  check_mode:
    support: full
    description: Reads only, so it runs the same in check mode.
  diff_mode:
    support: N/A
    description: Changes nothing.
seealso:
  - module: sendgrid.partners.add_ips
  - module: sendgrid.partners.remove_ips
"""

EXAMPLES = r"""
- name: Read a customer's IPs
  sendgrid.partners.ips_info:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
  register: customer
  delegate_to: localhost

- name: Print the US ones
  ansible.builtin.debug:
    msg: "{{ customer.ips | selectattr('region', 'equalto', 'us') | map(attribute='ip') | list }}"

- name: Only the EU IPs
  sendgrid.partners.ips_info:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    region: eu
  register: customer_eu
  delegate_to: localhost
"""

RETURN = r"""
ips:
  description: The account's IPs (of O(region) when given), newest first.
  returned: always
  type: list
  elements: dict
  contains:
    ip:
      description: The IPv4 address.
      type: str
      returned: always
      sample: 149.72.10.4
    region:
      description: Its region, V(eu) or V(us).
      type: str
      returned: always
      sample: us
  sample: [{"ip": "149.72.10.4", "region": "us"}, {"ip": "159.183.2.7", "region": "eu"}]
"""

from ansible_collections.sendgrid.partners.plugins.module_utils._module import (
    account_id_problem,
    build_module,
    check_input,
    run_module,
)

ARGUMENT_SPEC = {
    "account_id": {"type": "str", "required": True},
    "region": {"type": "str", "choices": ["eu", "us"]},
}


def run(module, client):
    region = module.params["region"]
    ips = client.list_ips(module.params["account_id"])
    return {"changed": False, "ips": [item for item in ips if region in (None, item["region"])]}


def main():
    module = build_module(ARGUMENT_SPEC, supports_check_mode=True)
    check_input(module, [account_id_problem(module.params["account_id"])])
    run_module(module, run)


if __name__ == "__main__":
    main()
