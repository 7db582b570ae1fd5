# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What one customer entry may say, described once, and the one validator that checks it.

Internal to the collection (hence the leading underscore): no stable API for other collections.
The modules, the action plugin and the role's argument spec (roles/provision_ips/meta/argument_specs.yml, checked
against ENTRY_OPTIONS and ENTRY_RULES by a unit test) all follow these rules.
"""

from __future__ import annotations

from ansible_collections.sendgrid.partners.plugins.module_utils._client import REGIONS, MAX_IPS_PER_REQUEST
from ansible_collections.sendgrid.partners.plugins.module_utils._module import account_id_problem, as_int, int_problem, ipv4_problems

# One entry of sendgrid_ips (the role) or of a customer's ips (provision_accounts). min/max: inclusive integer range.
ENTRY_OPTIONS = {
    "region": {"type": "str", "choices": list(REGIONS)},
    "total": {"type": "int", "min": 1},
    "count": {"type": "int", "min": 1, "max": MAX_IPS_PER_REQUEST},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "ips": {"type": "list", "elements": "str"},
}
ENTRY_RULES = {
    "mutually_exclusive": [["total", "count"], ["total", "ips"], ["count", "ips"]],
    "required_if": [["state", "present", ["region"]], ["state", "present", ["total", "count"], True], ["state", "absent", ["ips"]]],
}
MAX_INTEGER = 2 ** 31 - 1  # no account holds more IPs: a bigger total or count is a typo or an overflow, not a wish
OPTION_NAMES = {"account_id": "account_id", "ips": "ips"}  # what messages call them; the role uses its variables' names
ROLE_NAMES = {"account_id": "sendgrid_account_id", "ips": "sendgrid_ips"}


def range_problem(name, value, key):
    """A message naming name, value and the allowed range of ENTRY_OPTIONS[key] when value is out of it, else None."""
    option = ENTRY_OPTIONS[key]
    problem = int_problem(name, value, option["min"], option.get("max"))
    if problem is None and value is not None and as_int(value) > MAX_INTEGER:
        problem = "%s must be an integer of %d or more and at most %d (a 32-bit integer), got %r" % (name, option["min"], MAX_INTEGER, value)
    return problem


def normalized(entry):
    """The entry with total/count given as digit strings (templated inventory values) made integers, state explicit."""
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    for key in ("total", "count"):
        if as_int(entry.get(key)) is not None:
            entry[key] = as_int(entry[key])
    entry.setdefault("state", ENTRY_OPTIONS["state"]["default"])
    return entry


def entry_problems(entry, position, ips_name="ips"):
    """What is wrong with one normalized entry: {region, total|count} or {state: absent, ips, region?}."""
    where = "%s[%d]" % (ips_name, position)
    if not isinstance(entry, dict):
        return ["%s must be a dict like {region: us, total: 2}, got %r" % (where, entry)]
    problems = []
    unknown = sorted((str(key) for key in set(entry) - set(ENTRY_OPTIONS)))
    if unknown:
        problems.append("%s has unknown keys %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(ENTRY_OPTIONS)))
    state, region = entry.get("state"), entry.get("region")
    if state not in ENTRY_OPTIONS["state"]["choices"]:
        problems.append("%s.state must be present or absent, got %r" % (where, state))
    if region not in REGIONS and (state == "present" or region is not None):
        problems.append("%s.region must be eu or us, got %r" % (where, region))
    if state == "absent":
        if entry.get("total") is not None or entry.get("count") is not None:
            problems.append("%s: state absent takes ips to remove, not total or count" % where)
        ips = entry.get("ips")
        if not isinstance(ips, list) or not ips:
            problems.append("%s.ips must be a non-empty list of the IPv4 addresses to remove, got %r" % (where, ips))
        else:
            problems.extend(ipv4_problems(where + ".ips", ips))
    elif state == "present":
        if (entry.get("total") is None) == (entry.get("count") is None):
            problems.append("%s needs exactly one of total and count, got %r" % (where, entry))
        for key in ("total", "count"):
            problems.append(range_problem("%s.%s" % (where, key), entry.get(key), key))
        if "ips" in entry:
            problems.append("%s: ips is only for state absent" % where)
    return [problem for problem in problems if problem]


def customer_problems(customer, names=None):
    """Everything wrong with {account_id, ips: [normalized entries]}; names: what to call account_id and ips."""
    names = names or OPTION_NAMES
    if not isinstance(customer, dict):
        return ["each customer must be a dict with account_id and ips, got %r" % (customer,)]
    problem = account_id_problem(customer.get("account_id"))  # also refuses a list or dict (unhashable) ID
    problems = [problem.replace("account_id", names["account_id"], 1) if problem else None]
    entries = customer.get("ips")
    if not isinstance(entries, list) or not entries:
        return [problem for problem in problems if problem] + ["%s must be a non-empty list of entries, got %r" % (names["ips"], entries)]
    for position, entry in enumerate(entries):
        problems.extend(entry_problems(entry, position, names["ips"]))
    added_regions = [entry.get("region") for entry in entries if isinstance(entry, dict) and entry.get("state") == "present"]
    for region in sorted(set(region for region in added_regions if added_regions.count(region) > 1 and region in REGIONS)):
        problems.append("%s has more than one total/count entry for region %s; use one entry per region" % (names["ips"], region))
    return [problem for problem in problems if problem]


def checked_customer(customer, names=None):
    """(customer with normalized entries, problems): the one way in for every caller."""
    if isinstance(customer, dict) and isinstance(customer.get("ips"), list):
        customer = dict(customer, ips=[normalized(entry) for entry in customer["ips"]])
    return customer, customer_problems(customer, names)
