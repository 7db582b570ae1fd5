# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""provision_accounts with hosts: the play-wide step of the role provision_ips, run in-process on the controller.

It reads each customer host's variables, runs the onboarding engine (plan, then apply under the spend cap or a saved
plan), shows the plan before the first purchase and progress while it applies, and writes the report. With customers
instead of hosts, the module runs as it is.
"""

from __future__ import annotations

import os
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    COLLECTION_VERSION,
    HAS_REQUESTS,
    RateLimitGate,
    SendGridClient,
    SendGridError,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._customer import ROLE_NAMES
from ansible_collections.sendgrid.partners.plugins.module_utils._engine import (
    CustomerRun,
    Engine,
    diff_lines,
    outcome_line,
    report_line,
    report_summary,
    summarize,
    write_report,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._lock import RunLocks
from ansible_collections.sendgrid.partners.plugins.module_utils._module import MAX_TIMEOUT, api_url_or_default, as_int, base_url_ok, int_problem
from ansible_collections.sendgrid.partners.plugins.module_utils._plan import (
    PLAN_PATH_VAR,
    PLAN_VAR,
    build_plan,
    check_plan,
    customer_record,
    load_plan,
    parse_max_age,
    record_problem,
    records_by_host,
    write_plan,
)

MODULE = "sendgrid.partners.provision_accounts"
HOST_VARIABLES = {"account_id": "sendgrid_account_id", "ips": "sendgrid_ips", "api_key": "sendgrid_api_key", "api_url": "sendgrid_api_url"}
ENVIRONMENT = {"api_key": "SENDGRID_API_KEY", "api_url": "SENDGRID_API_URL"}
UNSET = object()
NAMES_SHOWN = 20  # of the failed customers, in the notes
PLAN_SHOWN_PAUSE = 0.5  # seconds between printing the plan and the first purchase
display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if "hosts" not in args:
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        settings, problems = play_settings(args)
        if problems:
            result.update(failed=True, msg="; ".join(problems))
            return result
        play = PlayRun(settings, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff), show=display.display)
        for host in settings["hosts"]:
            play.add(host, host_variables(task_vars["hostvars"], host))
        named = set(settings["hosts"])
        earlier = [host for host in task_vars.get("ansible_play_hosts_all") or [] if host not in named]
        result.update(play.run(earlier))
        return result


def play_settings(args):
    """The task's options, checked and converted; messages name the option and the role variable that sets it."""
    problems = []
    hosts = args.get("hosts")
    if "customers" in args:
        problems.append("provision_accounts takes customers or hosts, not both")
    if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
        problems.append("hosts must be a list of inventory host names, got %r" % (hosts,))
    elif len(set(hosts)) != len(hosts):
        seen, twice = set(), set()
        for host in hosts:
            (twice if host in seen else seen).add(host)
        problems.append("hosts names a host more than once: %s" % ", ".join(sorted(twice)))
    settings = {"hosts": hosts, "api_key": args.get("api_key"), "api_url": args.get("api_url"), "ca_path": args.get("ca_path")}
    for name, role_name, default, minimum, maximum in (("concurrency", "sendgrid_throttle", 10, 1, 100),
                                                       ("max_new_ips", "sendgrid_max_new_ips", None, 0, None),
                                                       ("max_retries", None, 3, 0, None)):
        value = args.get(name, default)
        problem = int_problem(name + (" (%s in the role)" % role_name if role_name else ""), value, minimum, maximum)
        problems.append(problem)
        settings[name] = None if value is None or problem else as_int(value)
    try:
        settings["timeout"] = float(args.get("timeout", 30))
        if not 0 < settings["timeout"] <= MAX_TIMEOUT:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("timeout must be a number of seconds above 0 and at most %d, got %r" % (MAX_TIMEOUT, args.get("timeout")))
    try:
        settings["validate_certs"] = boolean(args.get("validate_certs", True), strict=True)
    except TypeError:
        problems.append("validate_certs must be true or false, got %r" % (args.get("validate_certs"),))
    report_path = args.get("report_path") or ""
    if not isinstance(report_path, str) or os.path.splitext(report_path)[1].lower() == ".csv":
        problems.append("report_path (sendgrid_report_path in the role) names the JSON report (the CSV is written beside it), got %r"
                        % (report_path,))
    settings["report_path"] = report_path
    settings["plan"], settings["plan_path"] = args.get("plan"), args.get("plan_path") or None
    try:
        settings["plan_max_age"] = parse_max_age(args.get("plan_max_age"))
    except SendGridError as exc:
        problems.append(str(exc))
    return settings, [problem for problem in problems if problem]


def host_variables(hostvars, host):
    """The host's own variables (inventory, group_vars, facts, extra vars); UNSET where it has none."""
    try:
        own = hostvars[host]
    except (KeyError, AnsibleError) as exc:
        return {"error": "cannot read the variables of host %s: %s" % (host, to_text(exc))}
    found = {}
    for key, name in HOST_VARIABLES.items():
        try:
            found[key] = own[name] if name in own else UNSET
        except AnsibleError as exc:  # a template in the variable failed
            return {"error": "%s: %s: %s" % (host, name, to_text(exc))}
    return found


class PlayRun:
    """The customers of a play: one engine run, one plan and one cap (or one saved plan) for all of them."""

    def __init__(self, settings, check_mode, diff, show, environ=None, clock=time.time, sleep=time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.check_mode = check_mode
        self.diff = diff
        self.show = show
        self.environ = os.environ if environ is None else environ
        self.clock = clock
        self.runs = []
        self.errors = {}  # host: why it failed before the engine saw it
        self.warnings = []

    def connection(self, found):
        """(api_url, api_key) of one customer: its own variables, else the task's options, else the environment."""
        values = []
        for key in ("api_url", "api_key"):
            value = found[key] if found[key] is not UNSET else self.settings.get(key)
            if value is None:
                value = self.environ.get(ENVIRONMENT[key])
            values.append(value)
        return api_url_or_default(values[0]), values[1]

    def add(self, host, found):
        if "error" in found:
            self.errors[host] = found["error"]
            return
        problems = ["%s is not set for this host (set it in the inventory: host or group variables)" % HOST_VARIABLES[key]
                    for key in ("account_id", "ips") if found[key] is UNSET]
        url, key = self.connection(found)
        if found["api_key"] is not UNSET and not found["api_key"]:
            problems.append("sendgrid_api_key is empty for this host: set it, or leave it unset to use module_defaults or "
                            "SENDGRID_API_KEY")
        elif not key:
            problems.append("sendgrid_api_key is not set (or empty): set SENDGRID_API_KEY in the controller's environment, "
                            "sendgrid_api_key for the host, or api_key in module_defaults for group/sendgrid.partners.partners")
        if not isinstance(url, str) or not base_url_ok(url):
            problems.append("sendgrid_api_url %r is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com "
                            "or http(s)://host[:port]" % (url,))
        customer = {key: None if found[key] is UNSET else found[key] for key in ("account_id", "ips")}
        self.runs.append(CustomerRun(host, customer, ROLE_NAMES, (url, key), problems, label=host))

    def _client_maker(self):
        gates = {}

        def make(connection):
            url, key = connection
            gate = gates.setdefault(connection, RateLimitGate())  # one 429 pauses every worker of that API and key
            return SendGridClient(api_key=key, api_url=url, timeout=self.settings["timeout"], validate_certs=self.settings["validate_certs"],
                                  ca_path=self.settings["ca_path"], max_retries=self.settings["max_retries"],
                                  warn=self.warnings.append, gate=gate)
        return make

    def _keys_and_urls(self):
        healthy = [run for run in self.runs if not run.failed]
        return sorted({run.connection[1] for run in healthy}), sorted({run.connection[0] for run in healthy})

    def run(self, earlier_failed=()):
        if not HAS_REQUESTS:
            return {"failed": True, "msg": "sendgrid.partners needs the Python library requests on the controller: pip install requests"}
        keys, urls = self._keys_and_urls()
        try:
            approved = self._approved_plan(keys, urls)
            locks = RunLocks(urls if not self.check_mode else [])
            locks.acquire()
        except SendGridError as exc:
            return {"failed": True, "msg": str(exc)}
        engine = Engine(self.runs, self._client_maker(), self.settings["concurrency"], progress=self.show)
        try:
            engine.plan()
            if approved is not None:
                self._hold_to(approved)
            plan = summarize(self.runs, None if approved is not None else self.settings["max_new_ips"])
            if approved is not None:
                plan["summary"].append("Applying the saved plan of %s (%s): at most %d new IPs." % (
                    approved["made_at"], approved.source, approved["totals"]["add_total"]))
            for line in plan["summary"]:
                self.show(line)
            if not self.check_mode and not plan["refused"]:
                # A worker's output reaches the screen through the controller's queue: let the plan get there first.
                self.sleep(PLAN_SHOWN_PAUSE)
                engine.apply()
        finally:
            engine.close()
            locks.release()
        return self._result(plan, keys, list(earlier_failed))

    def _approved_plan(self, keys, urls):
        """The saved plan to apply (checked before any request), or None to plan and cap afresh."""
        value, path = self.settings["plan"], self.settings["plan_path"]
        if self.check_mode or (value is None and path is None) or not keys:
            return None
        document = load_plan(value, PLAN_VAR) if value is not None else load_plan(path, PLAN_PATH_VAR)
        return check_plan(document, keys[0] if len(keys) == 1 else keys, urls, self.settings["plan_max_age"])

    def _hold_to(self, approved):
        """Each customer buys and removes exactly what the saved plan says, or fails with what changed."""
        records = records_by_host(approved)
        for run in self.runs:
            if run.failed:
                continue
            record = records.get(run.name)
            problem = record_problem(record, run.account_id, run.at_listing, run.entries, api_url=run.connection[0])
            if problem is None and (run.planned_add() != record["add"] or sorted(run.planned_remove()) != sorted(record["remove"])):
                problem = "the account's plan now differs from the saved plan (saved: add %s, remove %s): re-plan" % (
                    record["add"], record["remove"])
            if problem:
                run.message = "%s: nothing bought or removed: %s" % (run.name, problem)

    def _result(self, plan, keys, earlier_failed):
        runs = {run.name: run for run in self.runs}
        lines = [report_line(host, runs[host], self.check_mode, error=runs[host].message or plan["refused"]) if host in runs
                 else report_line(host, None, self.check_mode, error=self.errors[host]) for host in self.settings["hosts"]]
        earlier = "failed before its IPs were provisioned: an earlier task failed; see its error in the play output"
        lines.extend(report_line(host, None, self.check_mode, error=earlier) for host in earlier_failed)
        summary = report_summary(lines)
        report = {"check_mode": self.check_mode, "plan": plan, "summary": summary, "customers": lines}
        failed = [line["host"] for line in lines if line["status"] == "failed"]
        result = {
            "changed": summary["changed"] > 0,
            "plan": plan,
            "summary": summary,
            "hosts": {line["host"]: {"status": line["status"], "error": line["error"],
                                     "ips": {region: part["ips"] for region, part in line["regions"].items()}} for line in lines},
            "failed_customers": failed,
            "notes": [outcome_line(summary, self.check_mode)] + self._notes(failed),
        }
        if self.diff:
            result["diff_lines"] = [text for run in self.runs for text in diff_lines(run.name, run, self.check_mode)]
        try:
            if self.settings["report_path"]:
                result["report_path"] = write_report(self.settings["report_path"], report)
            if self.check_mode and not plan["refused"] and keys:
                result["saved_plan"] = self._saved_plan(keys)
                # Published like set_stats: ansible-runner's artifact_data, passed on by an AWX workflow as extra vars.
                result["ansible_stats"] = {"data": {PLAN_VAR: result["saved_plan"]}, "per_host": False, "aggregate": False}
        except SendGridError as exc:
            result.update(failed=True, msg=str(exc))
        if self.warnings:
            more = len(self.warnings) - NAMES_SHOWN
            result["warnings"] = self.warnings[:NAMES_SHOWN] + (["... and %d more warnings like these" % more] if more > 0 else [])
        return result

    def _saved_plan(self, keys):
        records = [customer_record(run.name, run.account_id, run.connection[0], run.at_listing, run.entries, run.planned_add(),
                                   run.planned_remove()) for run in self.runs if not run.failed]
        document = build_plan(records, self.settings["max_new_ips"], self.clock(), COLLECTION_VERSION, keys[0] if len(keys) == 1 else keys)
        if self.settings["plan_path"]:
            write_plan(self.settings["plan_path"], document)
        return dict(document)

    def _notes(self, failed):
        notes = []
        if failed:
            notes.append("Failed customers (%d): %s%s" % (len(failed), ", ".join(failed[:NAMES_SHOWN]),
                                                          ", ... (see each host's error)" if len(failed) > NAMES_SHOWN else ""))
        notes.extend("%s: %s" % (run.name, "; ".join(run.warnings)) for run in self.runs if run.warnings)
        return notes
