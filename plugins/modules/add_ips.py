#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: add_ips
short_description: Give a SendGrid customer account dedicated IPs
version_added: 0.1.0
description:
  - Adds dedicated IPs to one customer account of a Twilio SendGrid reseller, in one region,
    through C(POST /v3/partners/accounts/{accountID}/ips).
  - With O(total) the task is idempotent, it lists the account's IPs and adds only the shortfall.
    With O(count) it adds that many IPs on every run.
  - Every dedicated IP is billed. The module never sends the same POST twice; see the notes for what
    happens when SendGrid's answer is lost.
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
options:
  account_id:
    description:
      - The customer's SendGrid account ID, for example V(sg1a2bcd3ef4ab5c67d8efab91c01de2fa).
      - Sent as one percent-encoded path segment.
    type: str
    required: true
  region:
    description:
      - The region of the IPs. All IPs added by one task are in this region.
    type: str
    required: true
    choices: [eu, us]
  count:
    description:
      - Add exactly this many new IPs now, from 1 to 10.
      - B(Not idempotent), every run buys O(count) more IPs. Prefer O(total).
      - Mutually exclusive with O(total).
      - An integer; a string of digits, as templating gives, is taken as one.
    type: raw
  total:
    description:
      - Make sure the account holds at least this many IPs in O(region), 1 or more (no upper bound).
      - Lists the account's IPs and adds only the shortfall, in requests of at most 10 IPs.
        Never removes IPs when the account holds more.
      - Mutually exclusive with O(count).
      - An integer; a string of digits, as templating gives, is taken as one.
    type: raw
  max_add:
    description:
      - A spend cap for this task, the most IPs it may add, 0 or more. When O(count), or the shortfall of O(total),
        is larger, the task fails before any POST with what it would add (in check mode too).
      - Unset (the default) means no cap.
    type: int
    version_added: 0.1.0
extends_documentation_fragment:
  - sendgrid.partners.connection
  - sendgrid.partners.connection.attributes
attributes:
  check_mode:
    support: full
    description: Sends no POST. With O(total) it lists the account (a safe GET) and predicts exactly what would be added.
  diff_mode:
    support: full
    description: Shows the account's IPs in O(region) before and after; in check mode the IPs still to be bought show as placeholders.
notes:
  - "When a POST ends without a clear answer (a timeout, a dropped connection or an HTTP 5xx), SendGrid may or may
    not have added the IPs. The module never repeats that POST. It lists the account again and compares with the
    list it took before."
  - With O(total), if exactly the asked IPs appeared, the task goes on (with a warning); otherwise it fails with what
    it found, and a rerun adds only what is still missing, so the account never ends with more than O(total) IPs
    from this task.
  - With O(count), the task fails and reports in RV(ips) the IPs that did appear, so that a rerun does not buy them twice.
  - An HTTP 429 answer was not processed; it is waited out and retried up to O(max_retries) times.
seealso:
  - module: sendgrid.partners.ips_info
  - module: sendgrid.partners.remove_ips
  - name: SendGrid IP Provisioning API
    description: The API this module calls.
    link: https://www.twilio.com/docs/sendgrid/api-reference/ip-provisioning
"""

EXAMPLES = r"""
- name: Make sure a customer has two dedicated IPs in the US (idempotent)
  sendgrid.partners.add_ips:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    region: us
    total: 2
  delegate_to: localhost

- name: EU customer through the EU API host, key from a vault variable
  sendgrid.partners.add_ips:
    api_url: https://api.eu.sendgrid.com
    api_key: "{{ vault_sendgrid_api_key }}"
    account_id: sg9f8e7d6c5b4a39281706f5e4d3c2b1a0
    region: eu
    total: 1
  delegate_to: localhost

- name: At least 3 IPs in the US, but never buy more than 2 in this run
  sendgrid.partners.add_ips:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    region: us
    total: 3
    max_add: 2
  delegate_to: localhost

- name: Buy one more IP now (runs every time; prefer total)
  sendgrid.partners.add_ips:
    account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
    region: us
    count: 1
  register: bought
  delegate_to: localhost

- name: Show what was bought (the API key is never in a result)
  ansible.builtin.debug:
    var: bought.ips

- name: Set the key and URL once for every module of the collection
  module_defaults:
    group/sendgrid.partners.partners:
      api_key: "{{ vault_sendgrid_api_key }}"
      api_url: https://api.sendgrid.com
  block:
    - name: Twelve US IPs, added in requests of 10 and 2
      sendgrid.partners.add_ips:
        account_id: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
        region: us
        total: 12
      delegate_to: localhost
"""

RETURN = r"""
account_id:
  description: The account ID the task worked on.
  returned: always
  type: str
  sample: sg1a2bcd3ef4ab5c67d8efab91c01de2fa
region:
  description: The region of the IPs.
  returned: always
  type: str
  sample: us
ips:
  description:
    - The IPs this task added, newest first. Empty when none were added, and in check mode.
    - On a failure after an unclear answer, the IPs that appeared on the account during the task.
  returned: always
  type: list
  elements: str
  sample: ["149.72.10.4", "149.72.10.5"]
added:
  description: How many IPs were added (in check mode, would be added).
  returned: always
  type: int
  sample: 2
region_ips:
  description:
    - Every IP the account holds in O(region) after the task, newest first. In check mode, the IPs it holds today.
  returned: when O(total) is used
  type: list
  elements: str
  sample: ["149.72.10.5", "149.72.10.4", "149.72.3.1"]
"""

from ansible_collections.sendgrid.partners.plugins.module_utils._module import (
    account_id_problem,
    as_int,
    build_module,
    check_input,
    int_problem,
    run_module,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._customer import range_problem
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import Purchase, placeholders, region_ips

ARGUMENT_SPEC = {
    "account_id": {"type": "str", "required": True},
    "region": {"type": "str", "required": True, "choices": ["eu", "us"]},
    "count": {"type": "raw"},
    "total": {"type": "raw"},
    "max_add": {"type": "int"},
}


def ips_diff(account_id, region, before, after):
    def state(ips):
        return {"account_id": account_id, "region": region, "count": len(ips), "ips": ips}
    return {"before": state(before), "after": state(after)}


def run(module, client):
    params = module.params
    account_id, region = params["account_id"], params["region"]
    before = region_ips(client.list_ips(account_id), region)
    purchase = Purchase(client, account_id, region, before, count=params["count"], total=params["total"])
    wanted = purchase.wanted()
    if params["max_add"] is not None and wanted > params["max_add"]:
        module.fail_json(msg="account %s would get %d new IP(s) in %s, above max_add %d: nothing bought. It holds %d there now; "
                             "raise max_add if this is intended." % (account_id, wanted, region, params["max_add"], len(before)),
                         changed=False, added=0, ips=[], region_ips=before)
    if module.check_mode or wanted == 0:
        result = purchase.result(before)
        result.update(changed=wanted > 0, added=wanted)
        after = placeholders(wanted) + before
    else:
        purchase.buy(module.warn)
        result = purchase.result()
        after = purchase.holdings()
    if module._diff:
        result["diff"] = ips_diff(account_id, region, before, after)
    return result


def main():
    module = build_module(
        ARGUMENT_SPEC,
        mutually_exclusive=[("count", "total")],
        required_one_of=[("count", "total")],
        supports_check_mode=True,
    )
    params = module.params
    check_input(module, [
        account_id_problem(params["account_id"]),
        range_problem("count", params["count"], "count"),
        range_problem("total", params["total"], "total"),
        int_problem("max_add", params["max_add"], 0),
        "one of count and total is required, got neither (or an empty value)" if params["count"] is None and params["total"] is None else None,
    ])
    for name in ("count", "total"):
        params[name] = as_int(params[name])
    run_module(module, run)


if __name__ == "__main__":
    main()
