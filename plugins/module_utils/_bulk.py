# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Many customers in one step: check every request, list every account, plan, cap, then apply.

Internal to the collection (hence the leading underscore): no stable API for other collections.
Each customer is planned and applied on its own; a failure fails that customer only. Nothing is
bought for anyone when the plan breaks the spend cap.
"""

from __future__ import annotations

import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.sendgrid.partners.plugins.module_utils._client import REGIONS, SendGridError
from ansible_collections.sendgrid.partners.plugins.module_utils._module import MAX_TOTAL, account_id_problem, as_int, int_problem, ipv4_problems
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import Purchase, Removal, placeholders, region_ips

LARGEST_SHOWN = 10
OPTION_NAMES = {"account_id": "account_id", "ips": "ips"}  # what messages call them; the role passes its variables' names


def normalized(entry):
    """The entry with total/count given as digit strings (templated inventory values) made integers."""
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    for key in ("total", "count"):
        if as_int(entry.get(key)) is not None:
            entry[key] = as_int(entry[key])
    return entry


def entry_problems(entry, position, ips_name="ips"):
    """What is wrong with one wanted-IPs entry: {region, total|count} or {state: absent, ips, region?}."""
    where = "%s[%d]" % (ips_name, position)
    if not isinstance(entry, dict):
        return ["%s must be a dict like {region: us, total: 2}, got %r" % (where, entry)]
    problems = []
    unknown = sorted(set(entry) - {"region", "total", "count", "state", "ips"})
    if unknown:
        problems.append("%s has unknown keys %s (allowed: region, total, count, state, ips)" % (where, ", ".join(unknown)))
    state = entry.get("state", "present")
    region = entry.get("region")
    if state not in ("present", "absent"):
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
        for key, maximum in (("total", MAX_TOTAL), ("count", 10)):
            problems.append(int_problem("%s.%s" % (where, key), entry.get(key), 1, maximum))
        if "ips" in entry:
            problems.append("%s: ips is only for state absent" % where)
    return [problem for problem in problems if problem]


def customer_problems(customer, names=None):
    """names: what to call account_id and ips in messages (the role's sendgrid_account_id and sendgrid_ips)."""
    names = names or OPTION_NAMES
    if not isinstance(customer, dict):
        return ["each customer must be a dict with name, account_id and ips, got %r" % (customer,)]
    problem = account_id_problem(customer.get("account_id"))  # also refuses a list or dict (unhashable) ID
    problems = [problem.replace("account_id", names["account_id"], 1) if problem else None]
    entries = customer.get("ips")
    if not isinstance(entries, list):
        return [problem for problem in problems if problem] + ["%s must be a list of entries, got %r" % (names["ips"], entries)]
    for position, entry in enumerate(entries):
        problems.extend(entry_problems(entry, position, names["ips"]))
    added_regions = [entry.get("region") for entry in entries if isinstance(entry, dict) and entry.get("state", "present") == "present"]
    for region in sorted(set(region for region in added_regions if added_regions.count(region) > 1 and region in REGIONS)):
        problems.append("%s has more than one total/count entry for region %s; use one entry per region" % (names["ips"], region))
    return [problem for problem in problems if problem]


class CustomerRun:
    """One customer's plan (steps built from one listing) and, once applied, its outcome."""

    def __init__(self, name, customer, names=None):
        self.name = name
        self.names = names or OPTION_NAMES
        if isinstance(customer, dict) and isinstance(customer.get("ips"), list):
            customer = dict(customer, ips=[normalized(entry) for entry in customer["ips"]])
        self.account_id = customer.get("account_id") if isinstance(customer, dict) else None
        problems = customer_problems(customer, self.names)
        self.entries = [] if problems else customer["ips"]
        self.message = "; ".join(problems) if problems else None
        self.steps = []
        self.held = self.at_listing = self.planned_held = {}
        self.listed = False
        self.warnings = []

    @property
    def failed(self):
        return self.message is not None

    def regions(self):
        named = {entry.get("region") for entry in self.entries}
        return [region for region in REGIONS if region in named or None in named]

    def plan(self, client):
        listing = client.list_ips(self.account_id)
        self.listed = True
        self.held = {region: region_ips(listing, region) for region in REGIONS}
        self.at_listing = dict(self.held)
        misplaced = ["%s[%d].ips: %s is in region %s, not %s" % (self.names["ips"], position, item["ip"], item["region"], entry["region"])
                     for position, entry in enumerate(self.entries) if entry.get("state") == "absent" and entry.get("region")
                     for item in listing if item["ip"] in entry["ips"] and item["region"] != entry["region"]]
        if misplaced:  # a typo in the region would stop mail on an IP the customer still uses
            raise SendGridError("nothing removed: %s" % "; ".join(misplaced))
        for entry in self.entries:
            if entry.get("state", "present") == "absent":
                pool = self.held[entry["region"]] if entry.get("region") else [item["ip"] for item in listing]
                removal = Removal(client, self.account_id, pool, entry["ips"])
                for region in REGIONS:
                    self.held[region] = [ip for ip in self.held[region] if ip not in removal.to_remove]
                self.steps.append(removal)
            else:
                region = entry["region"]
                self.steps.append(Purchase(client, self.account_id, region, self.held[region],
                                           count=entry.get("count"), total=entry.get("total")))
        self.planned_held = dict(self.held)  # after the planned removals, before any purchase

    def planned_add(self):
        add = {}
        for step in self.steps:
            if isinstance(step, Purchase) and step.wanted():
                add[step.region] = add.get(step.region, 0) + step.wanted()
        return add

    def planned_remove(self):
        return [ip for step in self.steps if isinstance(step, Removal) for ip in step.to_remove]

    def apply(self):
        for step in self.steps:
            if isinstance(step, Purchase):
                step.buy(self.warnings.append)
                self.held[step.region] = step.holdings()
            else:
                step.remove()
                for region in REGIONS:
                    self.held[region] = [ip for ip in self.held[region] if ip not in step.removed]

    def outcome(self, check_mode):
        """The customer's result: in check mode what would change, else what did; ips as held now."""
        added, removed = {}, []
        for step in self.steps:
            if isinstance(step, Purchase) and step.added:
                added.setdefault(step.region, [])[:0] = step.added[::-1]  # newest first, like every IP list
            elif isinstance(step, Removal):
                removed.extend(step.removed)
        planned = {"add": self.planned_add(), "remove": self.planned_remove()}
        held = self.at_listing if check_mode else self.held
        result = {
            "account_id": self.account_id,
            "changed": (not self.failed and bool(planned["add"] or planned["remove"])) if check_mode else bool(added or removed),
            "failed": self.failed,
            "ips": {region: list(held.get(region, [])) for region in self.regions()} if self.listed else {},
            "listed": {region: list(self.at_listing.get(region, [])) for region in self.regions()} if self.listed else {},
            "added": added,
            "removed": removed,
            "not_found": [ip for step in self.steps if isinstance(step, Removal) for ip in step.not_found],
            "planned": planned,
            "warnings": list(self.warnings),
        }
        if self.failed:
            result["msg"] = self.message
        return result

    def diff(self, check_mode):
        """Each asked region before and after; in check mode, IPs still to buy show as placeholders."""
        after = {}
        for region in self.regions():
            after[region] = (placeholders(self.planned_add().get(region, 0)) + self.planned_held[region]) if check_mode else self.held[region]
        return {region: self.at_listing[region] for region in self.regions()}, after


def run_all(customers, make_client, concurrency, apply, max_new_ips=None, names=None):
    """Plan every customer, enforce the cap, then (if apply) carry out every plan.

    customers: {name: {account_id, ips: [...]}}. make_client() gives one client per worker thread.
    Returns (runs, plan, cap_message): cap_message is set, and nothing applied, when the plan breaks the cap.
    """
    runs = [CustomerRun(name, customer, names) for name, customer in customers.items()]
    flag_shared_accounts(runs)
    local = threading.local()

    def client():
        if not hasattr(local, "client"):
            local.client = make_client()
        return local.client

    def guarded(run, action):
        try:
            action(run)
        except SendGridError as exc:
            run.message = str(exc)
        except Exception as exc:  # a bug must fail one customer and keep the others' results, not lose them all
            run.message = "unexpected error, please report it as a bug of sendgrid.partners: %s: %s\n%s" % (
                type(exc).__name__, exc, traceback.format_exc())

    def for_each(action, selected):
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda run: guarded(run, action), selected))

    for_each(lambda run: run.plan(client()), [run for run in runs if not run.failed])
    plan = summarize(runs, max_new_ips)
    cap_message = None
    if max_new_ips is not None and plan["add_total"] > max_new_ips:
        cap_message = cap_breach(plan, max_new_ips)
        plan["refused"] = cap_message
    elif apply:
        for_each(lambda run: run.apply(), [run for run in runs if not run.failed and (run.planned_add() or run.planned_remove())])
    return runs, plan, cap_message


def flag_shared_accounts(runs):
    """Two customers on one account would each buy its shortfall: refuse both before any request."""
    names_by_account = {}
    for run in runs:
        if not run.failed:
            names_by_account.setdefault(run.account_id, []).append(run.name)
    for run in runs:
        if run.failed:  # its account_id may not even be hashable
            continue
        names = names_by_account[run.account_id]
        if len(names) > 1:
            run.message = "account %s is named by more than one customer (%s); give each account to one host only" % (
                run.account_id, ", ".join(names))


def summarize(runs, max_new_ips=None):
    adds = {region: 0 for region in REGIONS}
    largest = []
    for run in runs:
        if run.failed:
            continue
        planned = run.planned_add()
        for region, count in planned.items():
            adds[region] += count
        if planned:
            largest.append({"name": run.name, "account_id": run.account_id, "add": sum(planned.values()), "regions": planned})
    largest.sort(key=lambda item: (-item["add"], item["name"]))
    plan = {
        "customers": len(runs),
        "customers_failed": sum(1 for run in runs if run.failed),
        "customers_to_change": sum(1 for run in runs if not run.failed and (run.planned_add() or run.planned_remove())),
        "add": adds,
        "add_total": sum(adds.values()),
        "remove_total": sum(len(run.planned_remove()) for run in runs if not run.failed),
        "largest": largest[:LARGEST_SHOWN],
        "max_new_ips": max_new_ips,
        "refused": None,
    }
    plan["summary"] = summary_lines(plan)
    return plan


def describe_largest(largest):
    return "; ".join("%s (%s): %s" % (item["name"], item["account_id"], ", ".join(
        "%d %s" % (count, region) for region, count in sorted(item["regions"].items()))) for item in largest)


def summary_lines(plan):
    lines = ["Plan for %d customers: %d to change, %d failed before any change; add %d IPs (us %d, eu %d), remove %d IPs." % (
        plan["customers"], plan["customers_to_change"], plan["customers_failed"], plan["add_total"],
        plan["add"]["us"], plan["add"]["eu"], plan["remove_total"])]
    if plan["largest"]:
        lines.append("Largest additions: %s." % describe_largest(plan["largest"]))
    if plan.get("max_new_ips") is not None and plan["add_total"] <= plan["max_new_ips"]:
        lines.append("Spend cap: %d of at most %d new IPs." % (plan["add_total"], plan["max_new_ips"]))
    return lines


def cap_breach(plan, max_new_ips):
    return ("The plan adds %d new IPs, above the cap of %d (max_new_ips; sendgrid_max_new_ips in the role), so nothing was "
            "bought for any customer. Largest additions: %s. If this is intended, raise the cap for this run, e.g. "
            "-e sendgrid_max_new_ips=%d." % (plan["add_total"], max_new_ips, describe_largest(plan["largest"][:5]), plan["add_total"]))
