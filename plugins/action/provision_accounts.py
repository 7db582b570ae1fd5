# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""provision_accounts with hosts: read each customer host's variables on the controller, then run the module once
per API URL and key, under one spend cap for all of them.

With customers instead of hosts, the module runs as it is. The role provision_ips runs this once per play, so
that no customer host needs a task of its own before its result (a task per host costs a process per host).
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.sendgrid.partners.plugins.module_utils._bulk import (
    LARGEST_SHOWN,
    cap_breach,
    customer_problems,
    normalized,
    summary_lines,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._client import REGIONS
from ansible_collections.sendgrid.partners.plugins.module_utils._module import as_int, int_problem
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import placeholders

MODULE = "sendgrid.partners.provision_accounts"
HOST_VARIABLES = {"account_id": "sendgrid_account_id", "ips": "sendgrid_ips"}
CONNECTION_VARIABLES = {"api_key": "sendgrid_api_key", "api_url": "sendgrid_api_url"}
UNSET = object()
ENTRY_NAME = re.compile(r"(?<![\w.])ips\[(\d+)\]")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        hosts = args.pop("hosts", None)
        if hosts is None:
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        problem = self._options_problem(args, hosts)
        if problem:
            result.update(failed=True, msg=problem)
            return result
        found = {host: self._host_variables(task_vars["hostvars"], host) for host in hosts}
        running = found.get(task_vars.get("inventory_hostname"), {})
        for key in CONNECTION_VARIABLES:
            # A value that is the running host's own variable is not the play's: the others fall back to the environment.
            if running.get(key, UNSET) is not UNSET and running[key] == args.get(key):
                args.pop(key, None)
        play = PlayRun(hosts, args)
        for host in hosts:
            play.add(host, found[host])
        play.run(lambda module_args, check: self._call(module_args, check, task_vars))
        result.update(play.result(self._task.check_mode))
        return result

    @staticmethod
    def _options_problem(args, hosts):
        problem = int_problem("max_new_ips", args.get("max_new_ips"), 0)
        if problem:
            return problem
        if "customers" in args:
            return "provision_accounts takes customers or hosts, not both"
        if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
            return "hosts must be a list of inventory host names, got %r" % (hosts,)
        if len(set(hosts)) != len(hosts):
            return "hosts names a host more than once: %s" % ", ".join(sorted({host for host in hosts if hosts.count(host) > 1}))
        return None

    @staticmethod
    def _host_variables(hostvars, host):
        """The host's own variables (inventory, group_vars, facts, extra vars); UNSET where it has none."""
        try:
            own = hostvars[host]
        except (KeyError, AnsibleError) as exc:
            return {"error": "cannot read the variables of host %s: %s" % (host, to_text(exc))}
        found = {}
        for key, name in list(HOST_VARIABLES.items()) + list(CONNECTION_VARIABLES.items()):
            try:
                found[key] = own[name] if name in own else UNSET
            except AnsibleError as exc:  # a template in the variable failed
                return {"error": "%s: %s: %s" % (host, name, to_text(exc))}
        return found

    def _call(self, module_args, check, task_vars):
        saved = self._task.check_mode
        self._task.check_mode = check or saved
        try:
            answer = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            self._task.check_mode = saved
        answer.pop("invocation", None)
        return answer


class PlayRun:
    """The customers of a play, grouped by API URL and key, planned together and applied under one cap."""

    def __init__(self, hosts, args):
        self.hosts = hosts
        self.args = args
        self.cap = as_int(args.get("max_new_ips"))
        self.errors = {}  # host: message, for hosts that fail before or without the module
        self.groups = []  # [(connection, {host: customer})], in the order the hosts come
        self.outcomes = {}  # host: the module's outcome for it
        self.account_ids = {}  # host: its sendgrid_account_id as given, for the report
        self.regions = {}  # host: the regions its entries name, for the report
        self.plans = []
        self.cap_message = None
        self.warnings = []

    def add(self, host, found):
        if "error" in found:
            self.errors[host] = found["error"]
            return
        customer = {}
        problems = []
        if found["account_id"] is not UNSET:
            self.account_ids[host] = found["account_id"]
        if isinstance(found["ips"], list):
            named = {entry.get("region") for entry in found["ips"] if isinstance(entry, dict) and isinstance(entry.get("region"), str)}
            self.regions[host] = [region for region in REGIONS if region in named]
        for key, name in HOST_VARIABLES.items():
            if found[key] is UNSET:
                problems.append("%s is not set for this host (set it in the inventory: host or group variables)" % name)
            customer[key] = None if found[key] is UNSET else found[key]
        if customer["ips"] == []:
            problems.append("sendgrid_ips must have at least one entry, got []")
        if not problems:
            problems = customer_problems(dict(customer, ips=[normalized(entry) for entry in customer["ips"]])
                                         if isinstance(customer["ips"], list) else customer, HOST_VARIABLES)
        connection = tuple(self.args.get(key) if found[key] is UNSET else found[key] for key in CONNECTION_VARIABLES)
        if connection[0] == "":  # unset (None) falls back to SENDGRID_API_KEY in the module
            problems.append("sendgrid_api_key is empty: set it, or SENDGRID_API_KEY in the environment of the controller")
        if problems:
            self.errors[host] = "%s: %s" % (host, "; ".join(problems))
            return
        for known, customers in self.groups:
            if known == connection:
                customers[host] = customer
                break
        else:
            self.groups.append((connection, {host: customer}))

    def _module_args(self, connection, customers, max_new_ips):
        module_args = dict(self.args, customers=customers, max_new_ips=max_new_ips)
        module_args.update(zip(CONNECTION_VARIABLES, connection))
        return {key: value for key, value in module_args.items() if value is not None}

    def run(self, call):
        cap = self.cap
        if len(self.groups) == 1 or cap is None:
            # One call per group plans, caps and applies (with one group the module's own cap is the play's).
            for connection, customers in self.groups:
                self._record(call(self._module_args(connection, customers, cap), False), customers)
            return
        # Several API URLs or keys under one cap: plan them all first, then apply each within its planned share.
        planned = [(connection, customers, call(self._module_args(connection, customers, None), True))
                   for connection, customers in self.groups]
        total = sum(answer.get("plan", {}).get("add_total", 0) for dummy, dummy, answer in planned)
        if total > cap:
            for dummy, customers, answer in planned:
                self._record(answer, customers)
            self.cap_message = cap_breach_message(self.plans, total, cap)
            return
        for connection, customers, answer in planned:
            share = answer.get("plan", {}).get("add_total", 0)
            outcomes = answer.get("customers") or {}
            healthy = {host: customer for host, customer in customers.items() if host in outcomes and not outcomes[host]["failed"]}
            self._record(answer, {host: customers[host] for host in customers if host not in healthy}, plan=False)
            if healthy:  # the plan's failures are final: no second listing for them
                self._record(call(self._module_args(connection, healthy, share), False), healthy)

    def _record(self, answer, customers, plan=True):
        if plan and "plan" in answer:
            self.plans.append(answer["plan"])
        self.warnings.extend(answer.get("warnings", []))
        cap = self.cap
        if answer.get("failed") and "plan" in answer and cap is not None and answer["plan"]["add_total"] > cap:
            self.cap_message = answer.get("msg")
        outcomes = answer.get("customers") or {}
        for host in customers:
            if host in outcomes:
                self.outcomes[host] = outcomes[host]
                if outcomes[host].get("msg"):  # the module names the entries ips[N]; here they are sendgrid_ips[N]
                    outcomes[host]["msg"] = ENTRY_NAME.sub(r"sendgrid_ips[\1]", outcomes[host]["msg"])
            elif not self.cap_message:
                self.errors[host] = answer.get("msg") or "provision_accounts failed without a message"

    def result(self, check_mode):
        lines = [self._line(host, check_mode) for host in self.hosts]
        plan = merged_plan(self.plans, len(self.hosts), self.cap)
        if self.cap_message:
            plan["summary"].append(self.cap_message)
            plan["refused"] = self.cap_message
        failed = [line["host"] for line in lines if line["status"] == "failed"]
        notes = list(self.warnings)
        if failed:
            notes.append("Failed customers (%d): %s" % (len(failed), ", ".join(failed)))
        notes.extend("%s: %s" % (host, "; ".join(outcome["warnings"])) for host, outcome in self.outcomes.items() if outcome.get("warnings"))
        regions = [region for line in lines for region in line["regions"].values()]
        report = {
            "check_mode": check_mode,
            "plan": plan,
            "summary": {
                "customers": len(lines),
                "ok": sum(1 for line in lines if line["status"] == "ok"),
                "changed": sum(1 for line in lines if line["status"] == "changed"),
                "failed": len(failed),
                "ips_added": sum(region["added"] for region in regions),
                "ips_removed": sum(len(region["removed_ips"]) for region in regions),
            },
            "customers": lines,
        }
        return {
            "changed": any(line["status"] == "changed" for line in lines),
            "plan": plan,
            "report": report,
            "hosts": {line["host"]: {"status": line["status"], "error": line["error"],
                                     "ips": {name: region["ips"] for name, region in line["regions"].items()}} for line in lines},
            "failed_customers": failed,
            "notes": notes,
            "diff_lines": [text for host in self.hosts for text in self._diff_lines(host, check_mode)],
        }

    def _line(self, host, check_mode):
        outcome = self.outcomes.get(host)
        error = self.errors.get(host) or (outcome.get("msg") if outcome and outcome["failed"] else None) or self.cap_message
        line = {"host": host, "account_id": outcome["account_id"] if outcome else self.account_ids.get(host), "status": "failed" if error else "ok",
                "error": error, "regions": {}}
        if not outcome or not outcome["ips"]:  # failed before its account was listed
            line["regions"] = {region: {"ips": [], "added": 0, "added_ips": [], "removed_ips": []} for region in self.regions.get(host, [])}
            return line
        removed = outcome["planned"]["remove"] if check_mode else outcome["removed"]
        for region, ips in outcome["ips"].items():
            added_ips = outcome["added"].get(region, [])
            line["regions"][region] = {
                "ips": ips,
                "added": outcome["planned"]["add"].get(region, 0) if check_mode and not error else len(added_ips),
                "added_ips": added_ips,
                "removed_ips": [ip for ip in removed if ip in outcome["listed"].get(region, [])],
            }
        if not error and outcome["changed"]:  # in check mode the module's changed is the planned change
            line["status"] = "changed"
        return line

    def _diff_lines(self, host, check_mode):
        outcome = self.outcomes.get(host)
        if not outcome or outcome["failed"] or not outcome["changed"]:
            return []
        texts = []
        for region, ips in outcome["ips"].items():
            before = outcome["listed"].get(region, [])
            if check_mode:
                after = placeholders(outcome["planned"]["add"].get(region, 0)) + [ip for ip in before if ip not in outcome["planned"]["remove"]]
            else:
                after = ips
            if before != after:
                texts.append("%s %s: [%s] -> [%s]" % (host, region, ", ".join(before), ", ".join(after)))
        return texts


def largest_of(plans):
    """The largest additions of several plans together, largest first, as each plan orders its own."""
    return sorted((item for plan in plans for item in plan["largest"]), key=lambda item: (-item["add"], item["name"]))


def merged_plan(plans, customers, max_new_ips):
    add = {region: sum(plan["add"].get(region, 0) for plan in plans) for region in REGIONS}
    largest = largest_of(plans)[:LARGEST_SHOWN]
    plan = {
        "customers": customers,
        "customers_failed": customers - sum(plan["customers"] - plan["customers_failed"] for plan in plans),
        "customers_to_change": sum(plan["customers_to_change"] for plan in plans),
        "add": add,
        "add_total": sum(add.values()),
        "remove_total": sum(plan["remove_total"] for plan in plans),
        "largest": largest,
        "max_new_ips": max_new_ips,
        "refused": None,
    }
    plan["summary"] = summary_lines(plan)
    return plan


def cap_breach_message(plans, total, cap):
    return cap_breach({"add_total": total, "largest": largest_of(plans)}, cap)
