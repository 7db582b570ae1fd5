# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The onboarding engine: check every customer, list every account once, plan, hold the plan to its limit, apply.

Internal to the collection (hence the leading underscore): no stable API for other collections.
The module provision_accounts and the action plugin of the same name (the role's one play-wide step) both run it.
Each customer is planned and applied on its own; a failure fails that customer only. Nothing is bought for anyone
when the plan breaks the spend cap. Every part costs O(customers): no lookup scans the whole run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.sendgrid.partners.plugins.module_utils._client import REGIONS, SendGridError
from ansible_collections.sendgrid.partners.plugins.module_utils._customer import OPTION_NAMES, checked_customer
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import Purchase, Removal, placeholders, region_ips

LARGEST_SHOWN = 10
PROGRESS_SECONDS = 10.0  # a progress line at most this often, or at every tenth of the customers
PROGRESS_SHARE = 0.1
CAP_NAMES = "max_new_ips; sendgrid_max_new_ips in the role"


class CustomerRun:
    """One customer's plan (steps built from one listing) and, once applied, its outcome.

    connection: what tells the customer's API apart (URL and key); customers with one connection share clients.
    problems: what the caller found wrong already; label: what messages about the customer's input start with.
    """

    def __init__(self, name, customer, names=None, connection=None, problems=None, label=None):
        self.name = name
        self.names = names or OPTION_NAMES
        self.connection = connection
        customer, found = checked_customer(customer, self.names)
        problems = list(problems or []) + found
        self.account_id = customer.get("account_id") if isinstance(customer, dict) else None
        given = customer.get("ips") if isinstance(customer, dict) and isinstance(customer.get("ips"), list) else []
        self.named_regions = [region for region in REGIONS if any(isinstance(entry, dict) and entry.get("region") == region for entry in given)]
        self.entries = [] if problems else customer["ips"]
        self.message = ("%s: " % label if label else "") + "; ".join(problems) if problems else None
        self.steps = []
        self.held = self.at_listing = self.planned_held = {}
        self.listed = False
        self.warnings = []

    @property
    def failed(self):
        return self.message is not None

    def regions(self):
        """The regions the customer's entries name, or every region when a removal names none."""
        named = {entry.get("region") for entry in self.entries}
        return [region for region in REGIONS if region in named or None in named]

    def plan(self, client):
        listing = client.list_ips(self.account_id)
        self.listed = True
        self.held = {region: region_ips(listing, region) for region in REGIONS}
        self.at_listing = dict(self.held)
        misplaced = ["%s[%d].ips: %s is in region %s, not %s" % (self.names["ips"], position, item["ip"], item["region"], entry["region"])
                     for position, entry in enumerate(self.entries) if entry["state"] == "absent" and entry.get("region")
                     for item in listing if item["ip"] in entry["ips"] and item["region"] != entry["region"]]
        if misplaced:  # a typo in the region would stop mail on an IP the customer still uses
            raise SendGridError("nothing removed: %s" % "; ".join(misplaced))
        for entry in self.entries:  # removals first, whatever the order of the entries; each from what is left
            if entry["state"] == "absent":
                pool = self.held[entry["region"]] if entry.get("region") else [ip for region in REGIONS for ip in self.held[region]]
                removal = Removal(client, self.account_id, pool, entry["ips"])
                gone = set(removal.to_remove)
                for region in REGIONS:
                    self.held[region] = [ip for ip in self.held[region] if ip not in gone]
                self.steps.append(removal)
        for entry in self.entries:
            if entry["state"] == "present":
                region = entry["region"]
                self.steps.append(Purchase(client, self.account_id, region, self.held[region], count=entry.get("count"), total=entry.get("total")))
        self.planned_held = dict(self.held)  # after the planned removals, before any purchase

    def planned_add(self):
        return {step.region: step.wanted() for step in self.steps if isinstance(step, Purchase) and step.wanted()}

    def planned_remove(self):
        return [ip for step in self.steps if isinstance(step, Removal) for ip in step.to_remove]

    def not_found(self):
        return [ip for step in self.steps if isinstance(step, Removal) for ip in step.not_found]

    def to_change(self):
        return not self.failed and bool(self.planned_add() or self.planned_remove())

    def apply(self):
        for step in self.steps:
            if isinstance(step, Removal):
                step.remove()
                gone = set(step.removed)
                for region in REGIONS:
                    self.held[region] = [ip for ip in self.held[region] if ip not in gone]
            else:
                step.buy(self.warnings.append)
                self.held[step.region] = step.holdings()

    def added(self):
        """The IPs added by this run, per region, newest first like every IP list."""
        return {step.region: step.added[::-1] for step in self.steps if isinstance(step, Purchase) and step.added}

    def removed(self):
        return [ip for step in self.steps if isinstance(step, Removal) for ip in step.removed]

    def changed(self, check_mode):
        """In check mode, whether the plan changes the account; else whether it changed."""
        return self.to_change() if check_mode else bool(self.added() or self.removed())

    def outcome(self, check_mode):
        """The customer's result: in check mode what would change, else what did; ips as held now."""
        held = self.at_listing if check_mode else self.held
        result = {
            "account_id": self.account_id,
            "changed": self.changed(check_mode),
            "failed": self.failed,
            "ips": {region: list(held.get(region, [])) for region in self.regions()} if self.listed else {},
            "listed": {region: list(self.at_listing.get(region, [])) for region in self.regions()} if self.listed else {},
            "added": self.added(),
            "removed": self.removed(),
            "not_found": self.not_found(),
            "planned": {"add": self.planned_add(), "remove": self.planned_remove()},
            "warnings": list(self.warnings),
        }
        if self.failed:
            result["msg"] = self.message
        return result

    def diff(self, check_mode):
        """(before, after) of each asked region; in check mode, IPs still to buy show as placeholders."""
        before = {region: self.at_listing[region] for region in self.regions()}
        if check_mode:
            adds = self.planned_add()
            after = {region: placeholders(adds.get(region, 0)) + self.planned_held[region] for region in self.regions()}
        else:
            after = {region: self.held[region] for region in self.regions()}
        return before, after


class Engine:
    """Runs many customers' plans with `concurrency` API calls at a time.

    make_client(connection) gives a client for one connection; each worker thread keeps one per connection.
    progress(line): told how the apply goes, at most every PROGRESS_SECONDS or PROGRESS_SHARE of the customers.
    """

    def __init__(self, runs, make_client, concurrency, progress=None, clock=time.monotonic):
        self.runs = runs
        self.make_client = make_client
        self.concurrency = concurrency
        self.progress = progress
        self.clock = clock
        self.local = threading.local()
        self.clients = []
        self.clients_lock = threading.Lock()
        flag_shared_accounts(runs)

    def client(self, connection):
        cache = self.local.__dict__.setdefault("clients", {})
        if connection not in cache:
            cache[connection] = self.make_client(connection)
            with self.clients_lock:
                self.clients.append(cache[connection])
        return cache[connection]

    def close(self):
        for client in self.clients:
            client.close()

    def plan(self):
        """List every account that passed its checks, once, and plan it."""
        self._each([run for run in self.runs if not run.failed], lambda run: run.plan(self.client(run.connection)))

    def apply(self):
        """Carry out every healthy customer's plan, with progress lines."""
        todo = [run for run in self.runs if run.to_change()]
        counts = {"done": 0, "changed": 0, "failed": 0, "bought": 0}
        start = last_time = self.clock()
        last_done = 0

        def finished(run):
            nonlocal last_time, last_done
            counts["done"] += 1
            counts["failed" if run.failed else "changed"] += 1
            counts["bought"] += sum(len(ips) for ips in run.added().values())
            now = self.clock()
            if self.progress and counts["done"] < len(todo) and (
                    now - last_time >= PROGRESS_SECONDS or counts["done"] - last_done >= max(1, len(todo) * PROGRESS_SHARE)):
                last_time, last_done = now, counts["done"]
                self.progress(progress_line(counts, len(todo), now - start))

        self._each(todo, lambda run: run.apply(), finished)
        if self.progress and todo:
            self.progress(progress_line(counts, len(todo), self.clock() - start))

    def _each(self, runs, action, finished=None):
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(guarded, run, action): run for run in runs}
            for future in as_completed(futures):
                if finished:
                    finished(futures[future])


def guarded(run, action):
    try:
        action(run)
    except SendGridError as exc:
        run.message = str(exc)
    except Exception as exc:  # a bug must fail one customer and keep the others' results, not lose them all
        run.message = "unexpected error, please report it as a bug of sendgrid.partners: %s: %s\n%s" % (
            type(exc).__name__, exc, traceback.format_exc())


def flag_shared_accounts(runs):
    """Two customers on one account (and API) would each buy its shortfall: refuse both before any request."""
    names_by_account = {}
    for run in runs:
        if not run.failed:  # a failed one's account_id may not even be hashable
            names_by_account.setdefault((run.connection and run.connection[0], run.account_id), []).append(run.name)
    for run in runs:
        names = [] if run.failed else names_by_account[(run.connection and run.connection[0], run.account_id)]
        if len(names) > 1:
            run.message = "account %s is named by more than one customer (%s); give each account to one host only" % (
                run.account_id, ", ".join(names))


def progress_line(counts, total, seconds):
    return "Applied %d of %d customers to change: %d changed, %d failed, %d IPs bought (%d s)." % (
        counts["done"], total, counts["changed"], counts["failed"], counts["bought"], seconds)


def summarize(runs, max_new_ips=None):
    """The plan of every customer: totals, largest additions and the cap, with its summary lines."""
    adds = {region: 0 for region in REGIONS}
    largest = []
    failed = to_change = removals = not_found = 0
    for run in runs:
        if run.failed:
            failed += 1
            continue
        planned = run.planned_add()
        for region, count in planned.items():
            adds[region] += count
        if planned:
            largest.append({"name": run.name, "account_id": run.account_id, "add": sum(planned.values()), "regions": planned})
        to_change += run.to_change()
        removals += len(run.planned_remove())
        not_found += len(run.not_found())
    largest.sort(key=lambda item: (-item["add"], item["name"]))
    plan = {
        "customers": len(runs),
        "customers_failed": failed,
        "customers_to_change": to_change,
        "add": adds,
        "add_total": sum(adds.values()),
        "remove_total": removals,
        "not_found_total": not_found,
        "largest": largest[:LARGEST_SHOWN],
        "max_new_ips": max_new_ips,
        "refused": None,
    }
    if max_new_ips is not None and plan["add_total"] > max_new_ips:
        plan["refused"] = cap_breach(plan, max_new_ips)
    plan["summary"] = summary_lines(plan)
    return plan


def describe_largest(largest):
    return "; ".join("%s (%s): %s" % (item["name"], item["account_id"], ", ".join(
        "%d %s" % (count, region) for region, count in sorted(item["regions"].items()))) for item in largest)


def summary_lines(plan):
    lines = ["Plan for %d customers: %d to change, %d failed before any change; add %d IPs (us %d, eu %d), remove %d IPs%s." % (
        plan["customers"], plan["customers_to_change"], plan["customers_failed"], plan["add_total"], plan["add"]["us"],
        plan["add"]["eu"], plan["remove_total"],
        " (%d more named for removal are not on their accounts)" % plan["not_found_total"] if plan["not_found_total"] else "")]
    if plan["largest"]:
        lines.append("Largest additions: %s." % describe_largest(plan["largest"]))
    if plan["refused"]:
        lines.append(plan["refused"])
    elif plan.get("max_new_ips") is not None:
        lines.append("Spend cap: %d of at most %d new IPs." % (plan["add_total"], plan["max_new_ips"]))
    return lines


def cap_breach(plan, max_new_ips):
    return ("The plan adds %d new IPs, above the cap of %d (%s), so nothing was bought for any customer. Largest "
            "additions: %s. If this is intended, raise the cap for this run, e.g. -e sendgrid_max_new_ips=%d."
            % (plan["add_total"], max_new_ips, CAP_NAMES, describe_largest(plan["largest"][:5]), plan["add_total"]))


def report_line(host, run, check_mode, error=None):
    """One customer's line of the report: status, error, and per region the IPs held, added and removed."""
    error = error or (run.message if run else None)
    line = {"host": host, "account_id": run.account_id if run else None, "status": "failed" if error else "ok", "error": error,
            "regions": {}, "not_found": run.not_found() if run else []}
    if run is None or not run.listed:  # failed before its account was listed
        regions = run.named_regions if run else []
        line["regions"] = {region: {"ips": [], "added": 0, "added_ips": [], "removed_ips": []} for region in regions}
        return line
    outcome = run.outcome(check_mode)
    removed = outcome["planned"]["remove"] if check_mode else outcome["removed"]
    for region, ips in outcome["ips"].items():
        added_ips = outcome["added"].get(region, [])
        listed = set(outcome["listed"].get(region, []))
        line["regions"][region] = {
            "ips": ips,
            "added": outcome["planned"]["add"].get(region, 0) if check_mode and not error else len(added_ips),
            "added_ips": added_ips,
            "removed_ips": [ip for ip in removed if ip in listed],
        }
    if not error and outcome["changed"]:
        line["status"] = "changed"
    return line


def report_summary(lines):
    regions = [region for line in lines for region in line["regions"].values()]
    return {
        "customers": len(lines),
        "ok": sum(1 for line in lines if line["status"] == "ok"),
        "changed": sum(1 for line in lines if line["status"] == "changed"),
        "failed": sum(1 for line in lines if line["status"] == "failed"),
        "ips_added": sum(region["added"] for region in regions),
        "ips_removed": sum(len(region["removed_ips"]) for region in regions),
    }


def outcome_line(summary, check_mode):
    return "%s %d customers: %d changed, %d ok, %d failed; %d IPs %s, %d removed." % (
        "Check mode, nothing changed. Would change:" if check_mode else "Done:", summary["customers"], summary["changed"], summary["ok"],
        summary["failed"], summary["ips_added"], "to add" if check_mode else "added", summary["ips_removed"])


def diff_lines(name, run, check_mode):
    """One line per region that changes: 'name region: [before] -> [after]'."""
    if run.failed or not run.changed(check_mode):
        return []
    before, after = run.diff(check_mode)
    return ["%s %s: [%s] -> [%s]" % (name, region, ", ".join(before[region]), ", ".join(after[region]))
            for region in before if before[region] != after[region]]


CSV_COLUMNS = ["host", "account_id", "status"] + ["%s_%s" % (region, part) for region in ("us", "eu")
                                                  for part in ("ips", "added", "added_ips", "removed_ips")] + ["error"]


def csv_field(value):
    return "" if value is None else " ".join(value) if isinstance(value, list) else str(value)


def report_csv(report):
    """One line per customer; IP lists separated by spaces; fields quoted when they need it (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in report["customers"]:
        cells = [line["host"], line["account_id"], line["status"]]
        for region in ("us", "eu"):
            part = line["regions"].get(region, {})
            cells.extend(part.get(key) for key in ("ips", "added", "added_ips", "removed_ips"))
        writer.writerow([csv_field(cell) for cell in cells + [line["error"]]])
    return out.getvalue()


def write_report(path, report):
    """Write the JSON report at path and the CSV beside it (path relative to the working directory); the JSON's path."""
    json_path = os.path.abspath(os.path.expanduser(path))
    try:
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        for target, text in ((json_path, json.dumps(report, indent=2) + "\n"), (os.path.splitext(json_path)[0] + ".csv", report_csv(report))):
            with open(target + ".tmp", "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(target + ".tmp", target)
    except OSError as exc:
        raise SendGridError("sendgrid_report_path %s: cannot write the report: %s" % (path, exc.strerror or exc)) from None
    return json_path
