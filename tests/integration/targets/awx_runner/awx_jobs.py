#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection the way AWX runs a job, against the simulator, and check what happened.

AWX (and Automation Controller) launches every job through ansible-runner in a private data directory of its own:
env/envvars holds what the job's credentials inject (here a custom credential type: SENDGRID_API_KEY and
SENDGRID_API_URL), env/extravars the job's extra variables (the template's, the survey's, and in a workflow the
artifacts of the jobs before it), inventory/hosts the inventory (a script printing JSON; for a sliced job only the
slice's hosts), project/ the project checkout; facts go to a jsonfile fact cache in the job's artifacts. This
driver builds such directories, runs ansible_runner.run on them and reads the outcome back: the job's status, its
events (the host results, the stats and artifact_data), the fact cache, and through the simulator's control API
every request the job made and what each account holds afterwards.

Usage: awx_jobs.py WORK_DIR [CASE ...]   (every case by default; runme.sh passes the simulator in the environment)
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import sys
import textwrap
import time

import ansible_runner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("SIM_ROOT") or os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))
import simctl  # noqa: E402  pylint: disable=wrong-import-position

# What the credential injects, and nothing else: the jobs must get the key from env/envvars only.
URL = os.environ.pop("SENDGRID_API_URL")
KEY = os.environ.pop("SENDGRID_API_KEY")
WRONG_KEY = os.environ.get("SIM_WRONG_API_KEY", "wrongkey-awx-runner")
LOG_DIR = os.environ.get("SIM_LOG_DIR") or os.path.join(ROOT, "tests", "output", "awx_runner")
# The directory holding ansible_collections/sendgrid/partners: ansible-test's copy of the collection under test.
COLLECTIONS_PATH = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.abspath(os.path.join(ROOT, "..", "..", ".."))
# What ansible-runner itself writes the credential's environment into (AWX removes the private data dir after the
# job): env/envvars is the injection, artifacts/<ident>/command records the environment runner started ansible with.
CREDENTIAL_FILES = ("env/envvars", "command")

PROJECT_PLAYBOOK = """\
---
# The project's playbook: the role on every customer host of the job's inventory. (docs/awx.md imports
# sendgrid.partners.onboard, which fails the failed customers in a play of their own; the role alone, as here,
# fails them within its play, the path this test keeps covered.)
- name: Provision SendGrid customer IPs
  hosts: sendgrid_customers
  gather_facts: false
  tasks:
    - name: Provision the customers' IPs
      ansible.builtin.import_role:
        name: sendgrid.partners.provision_ips
        rolespec_validate: false
"""

# Twelve customers, sorted by name as AWX slices them: what each account holds and the entries of its host.
CUSTOMERS = {
    "c01": ({}, [{"region": "us", "total": 2}]),
    "c02": ({"us": 1}, [{"region": "us", "total": 3}, {"region": "eu", "total": 1}]),
    "c03": ({"us": 2}, [{"region": "us", "total": 2}]),
    "c04": ({"eu": 1}, [{"region": "eu", "total": 2}]),
    "c05": ({}, [{"region": "us", "total": 1}]),
    "c06": ({"us": 3}, [{"region": "us", "total": 1}]),
    "c07": ({}, [{"region": "eu", "total": 3}]),
    "c08": ({"us": 1, "eu": 1}, [{"region": "us", "total": 2}, {"region": "eu", "total": 2}]),
    "c09": ({}, [{"region": "us", "total": 4}]),
    "c10": ({"eu": 2}, [{"region": "eu", "total": 2}]),
    "c11": ({"us": 1}, [{"region": "us", "total": 2}]),
    "c12": ({}, [{"region": "us", "total": 1}, {"region": "eu", "total": 1}]),
}
HOSTS = sorted(CUSTOMERS)


def account(host):
    return "acc-%s" % host


def shortfall(host):
    held, entries = CUSTOMERS[host]
    return {entry["region"]: max(entry["total"] - held.get(entry["region"], 0), 0) for entry in entries}


EXPECTED_ADD = sum(sum(shortfall(host).values()) for host in HOSTS)


class Failure(Exception):
    pass


def expect(condition, message, *details):
    if not condition:
        raise Failure(message + "".join("\n  %s" % (detail,) for detail in details))


# ----- the simulator ---------------------------------------------------------------------------------------------

def control(method, path, body=None):
    return simctl.control_call(URL, method, path, body)


def seed_accounts():
    """Every customer's account as CUSTOMERS says, IPs numbered per customer; request log and faults cleared."""
    accounts = {}
    for number, host in enumerate(HOSTS, 1):
        held = CUSTOMERS[host][0]
        ips = [{"ip": "10.%d.%d.%d" % (1 if region == "us" else 2, number, index + 1), "region": region}
               for region in ("us", "eu") for index in range(held.get(region, 0))]
        accounts[account(host)] = {"ips": ips}
    control("POST", "/_sim/reset", {"accounts": accounts})


def holdings():
    """{host: {"us": n, "eu": n}} as the simulator holds them now."""
    accounts = control("GET", "/_sim/accounts")["accounts"]
    return {host: {region: sum(1 for item in accounts[account(host)] if item["region"] == region) for region in ("us", "eu")}
            for host in HOSTS}


def region_ips(host):
    accounts = control("GET", "/_sim/accounts")["accounts"]
    return {region: [item["ip"] for item in accounts[account(host)] if item["region"] == region] for region in ("us", "eu")}


def requests_since(seq):
    return [record for record in control("GET", "/_sim/requests")["requests"] if record["seq"] > seq]


def last_seq():
    records = control("GET", "/_sim/requests")["requests"]
    return records[-1]["seq"] if records else 0


def bought(records):
    """IPs bought by the POSTs among records: {account: n}."""
    counts = {}
    for record in records:
        if record["method"] == "POST" and record["status"] == 201:
            counts[record["account_id"]] = counts.get(record["account_id"], 0) + record["body"]["count"]
    return counts


# ----- one AWX job -----------------------------------------------------------------------------------------------

class Job:
    """One job: its private data directory, as AWX prepares it, run by ansible-runner; its outcome read back."""

    def __init__(self, work, name, hosts=None, extravars=None, check=False, diff=False, verbosity=0, api_key=KEY,
                 api_url=URL, envvars=None, files=None):
        self.name = name
        self.hosts = list(HOSTS if hosts is None else hosts)
        self.directory = os.path.join(work, "jobs", name)
        self.check = check
        self.diff = diff
        self.verbosity = verbosity
        self.extravars = dict(extravars or {})
        self.envvars = {
            # The custom credential type's injector (docs/awx.md)
            "SENDGRID_API_KEY": api_key,
            "SENDGRID_API_URL": api_url,
            # What AWX sets for every job (a selection), and the jsonfile fact cache of "Enable fact storage"
            "JOB_ID": str(abs(hash(name)) % 100000),
            "INVENTORY_ID": "1",
            "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
            "ANSIBLE_CACHE_PLUGIN": "jsonfile",
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
            "ANSIBLE_FORKS": "5",
        }
        self.envvars.update(envvars or {})
        self.files = dict(files or {})  # more files of the project checkout: {path in project/: text}
        self.runner = None
        self.seq_before = None
        self.seconds = None

    # -- preparing the private data directory

    def prepare(self):
        shutil.rmtree(self.directory, ignore_errors=True)
        for sub in ("env", "inventory", "project"):
            os.makedirs(os.path.join(self.directory, sub), mode=0o700)
        self._write("env/envvars", json.dumps(self.envvars, indent=2), 0o600)
        self._write("env/extravars", json.dumps(self.extravars, indent=2), 0o600)
        self._write("env/settings", json.dumps({"suppress_ansible_output": True}), 0o600)
        self._write("project/onboard.yml", PROJECT_PLAYBOOK, 0o644)
        for relative, content in self.files.items():
            os.makedirs(os.path.dirname(os.path.join(self.directory, "project", relative)), exist_ok=True)
            self._write(os.path.join("project", relative), content, 0o644)
        inventory = {
            "all": {"children": ["sendgrid_customers"]},
            "sendgrid_customers": {"hosts": self.hosts},
            "_meta": {"hostvars": {host: {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "sendgrid_account_id": account(host),
                "sendgrid_ips": CUSTOMERS[host][1],
            } for host in self.hosts}},
        }
        # AWX hands the job its inventory (of the slice, when sliced) as a script that prints it
        script = "#!%s\nimport json, sys\nprint(json.dumps(%s) if '--list' in sys.argv else '{}')\n" % (sys.executable, repr(inventory))
        self._write("inventory/hosts", script, 0o700)
        return self

    def _write(self, relative, content, mode):
        path = os.path.join(self.directory, relative)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.chmod(path, mode)

    # -- running it

    def start(self):
        """Start the job in the background (ansible_runner.run_async); finish() waits for it."""
        self.prepare()
        self.seq_before = last_seq()
        self._started = time.monotonic()
        self._thread, self.runner = ansible_runner.run_async(**self._arguments())
        return self

    def finish(self):
        self._thread.join()
        self.seconds = time.monotonic() - self._started
        self._keep_logs()
        print("job %-22s %-10s rc=%s %5.1f s, %d API requests" % (self.name, self.runner.status, self.runner.rc, self.seconds,
                                                                  len(self.requests())), flush=True)
        return self

    def run(self):
        return self.start().finish()

    def _arguments(self):
        arguments = {
            "private_data_dir": self.directory,
            "playbook": "onboard.yml",
            "ident": self.name,
            "quiet": True,
            "verbosity": self.verbosity,
            "rotate_artifacts": 1,
        }
        flags = (["--check"] if self.check else []) + (["--diff"] if self.diff else [])
        if flags:
            arguments["cmdline"] = " ".join(flags)
        return arguments

    # -- its outcome

    @property
    def artifacts(self):
        return os.path.join(self.directory, "artifacts", self.name)

    def events(self):
        directory = os.path.join(self.artifacts, "job_events")
        loaded = []
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), encoding="utf-8") as stream:
                loaded.append(json.load(stream))
        return sorted(loaded, key=lambda event: event.get("counter", 0))

    def stats(self):
        found = [event for event in self.events() if event.get("event") == "playbook_on_stats"]
        expect(len(found) == 1, "%s: expected one playbook_on_stats event, got %d" % (self.name, len(found)), self.stdout()[-3000:])
        return found[0]["event_data"]

    def failed_hosts(self):
        stats = self.stats()
        return sorted(host for host in self.hosts if stats.get("failures", {}).get(host) or stats.get("dark", {}).get(host))

    def changed_hosts(self):
        return sorted(host for host, count in self.stats().get("changed", {}).items() if count and host in self.hosts)

    def failure_messages(self):
        """{host: msg} of every failed task result of a customer host."""
        messages = {}
        for event in self.events():
            if event.get("event") == "runner_on_failed":
                data = event["event_data"]
                messages.setdefault(data.get("host"), []).append(str(data.get("res", {}).get("msg")))
        return {host: " | ".join(found) for host, found in messages.items()}

    def facts(self, host):
        """The host's facts in the jsonfile fact cache of the job (what AWX stores with "Enable fact storage").

        ansible-core 2.19+ names the file s<schema>_<host> and wraps the facts as {"__payload__": "<JSON text>"}.
        """
        directory = os.path.join(self.artifacts, "fact_cache")
        names = [name for name in os.listdir(directory) if name == host or re.fullmatch(r"s[0-9]+_" + re.escape(host), name)] \
            if os.path.isdir(directory) else []
        if len(names) != 1:
            return None
        with open(os.path.join(directory, names[0]), encoding="utf-8") as stream:
            facts = json.load(stream)
        if isinstance(facts, dict) and isinstance(facts.get("__payload__"), str):
            facts = json.loads(facts["__payload__"])
        return facts

    def stdout(self):
        path = os.path.join(self.artifacts, "stdout")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    def requests(self):
        """The API requests since the job started for the accounts of its hosts (slices running at once have others)."""
        accounts = {account(host) for host in self.hosts}
        return [record for record in requests_since(self.seq_before) if record["account_id"] in accounts]

    def posts(self):
        return [record for record in self.requests() if record["method"] == "POST"]

    def artifact_data(self):
        return self.stats().get("artifact_data") or {}

    def expect_status(self, status, failed=()):
        expect(self.runner.status == status, "%s: job status %s (rc %s), expected %s" % (self.name, self.runner.status, self.runner.rc, status),
               self.failure_messages(), self.stdout()[-4000:])
        expect(self.failed_hosts() == sorted(failed), "%s: failed hosts %s, expected %s" % (self.name, self.failed_hosts(), sorted(failed)),
               self.failure_messages())

    # -- what stays for the logs (and the leak check of simulator.sh)

    def leaks(self):
        """Files of the private data dir that hold the API key in any form, besides the credential's own files."""
        forms = key_forms(KEY) + key_forms(WRONG_KEY)
        with open(os.path.join(self.directory, "env", "envvars"), "rb") as stream:  # the search itself must work
            expect(any(form.encode() in stream.read() for form in forms), "%s: the key is not even in env/envvars" % self.name)
        found = []
        for folder, dummy, names in os.walk(self.directory):
            for name in names:
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, self.directory)
                if relative == "env/envvars" or (name == "command" and os.path.dirname(relative) == os.path.join("artifacts", self.name)):
                    continue
                with open(path, "rb") as stream:
                    content = stream.read()
                if any(form.encode() in content for form in forms):
                    found.append(relative)
        return found

    def _keep_logs(self):
        """The job's output for the target's log, and its artifacts without the credential's files."""
        with open(os.path.join(LOG_DIR, "ansible-playbook.log"), "a", encoding="utf-8") as log:
            log.write("=== AWX job %s (ansible-runner, %s)\n%s\n" % (self.name, self.runner.status, self.stdout()))
        kept = os.path.join(LOG_DIR, "awx-jobs", self.name)
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(self.directory, kept, ignore=lambda folder, names: [
            name for name in names if os.path.relpath(os.path.join(folder, name), self.directory) in (
                "env/envvars", os.path.join("artifacts", self.name, "command"))])


def key_forms(key):
    """The key and each of its base64 forms (one per alignment, without the padded ends)."""
    forms = [key]
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode((pad + key).encode()).decode()
        encoded = encoded[4:] if pad else encoded
        forms.append(encoded[:-4])
    return forms


def run_all(jobs):
    for job in jobs:
        job.start()
        time.sleep(0.2)
    return [job.finish() for job in jobs]


# ----- the cases -------------------------------------------------------------------------------------------------

def expect_cached_facts(job):
    """Every customer host of the job has, in the job's fact cache, sendgrid_partners_ips as the account holds them now."""
    for host in job.hosts:
        facts = job.facts(host)
        expect(facts is not None, "%s: no cached facts for %s in %s" % (job.name, host, os.path.join(job.artifacts, "fact_cache")))
        asked = [entry["region"] for entry in CUSTOMERS[host][1]]
        now = region_ips(host)
        expect(facts.get("sendgrid_partners_ips") == {region: now[region] for region in asked},
               "%s: %s's cached sendgrid_partners_ips differ from the account" % (job.name, host), facts.get("sendgrid_partners_ips"), now)


def case_real_run(work):
    """A real run as an AWX job: credentials from env/envvars only, -vvvv; every customer's cached facts hold its IPs."""
    seed_accounts()
    job = Job(work, "real-run", verbosity=4).run()
    job.expect_status("successful")
    expect(holdings() == {host: {region: max(CUSTOMERS[host][0].get(region, 0), dict((e["region"], e["total"]) for e in CUSTOMERS[host][1]).get(region, 0))
                                 for region in ("us", "eu")} for host in HOSTS},
           "real-run: the accounts do not hold what the customers asked for", holdings())
    expect(sum(bought(job.requests()).values()) == EXPECTED_ADD, "real-run: bought %s, expected %d in all" % (bought(job.requests()), EXPECTED_ADD))
    expect(all(record["authorized"] for record in job.requests()), "real-run: a request was not authorized: the key did not come from env/envvars")
    expect_cached_facts(job)
    expect(job.changed_hosts() == sorted(host for host in HOSTS if any(shortfall(host).values())),
           "real-run: changed hosts %s" % job.changed_hosts())
    expect(not job.leaks(), "real-run: the API key is in %s" % job.leaks())
    print("  real run: %d IPs bought for %d customers, facts cached for all %d hosts, no key outside env/envvars"
          % (EXPECTED_ADD, len(job.changed_hosts()), len(HOSTS)))

    again = Job(work, "rerun").run()
    again.expect_status("successful")
    expect(not again.posts() and not again.changed_hosts(), "rerun: bought %s, changed %s" % (bought(again.requests()), again.changed_hosts()))
    expect(not again.leaks(), "rerun: the API key is in %s" % again.leaks())
    print("  rerun: changed=0 on every host, 0 POSTs")


def case_check_run(work):
    """A check-mode job (job type Check, Show changes): nothing bought, the plan in its output and its artifacts."""
    seed_accounts()
    job = Job(work, "check-run", check=True, diff=True).run()
    job.expect_status("successful")
    expect(not job.posts(), "check-run: POSTs in check mode: %s" % job.posts())
    expect(holdings() == {host: {region: CUSTOMERS[host][0].get(region, 0) for region in ("us", "eu")} for host in HOSTS},
           "check-run: the accounts changed")
    expect("add %d IPs" % EXPECTED_ADD in job.stdout(), "check-run: the plan is not in the job output", job.stdout()[-3000:])
    artifact = job.artifact_data().get("sendgrid_plan")
    expect(isinstance(artifact, dict) and artifact.get("totals", {}).get("add_total") == EXPECTED_ADD,
           "check-run: playbook_on_stats artifact_data lacks the plan of %d IPs" % EXPECTED_ADD, job.artifact_data())
    expect(not os.path.exists(os.path.join(job.directory, "project", "plans")), "check-run: a plan file without sendgrid_plan_path")
    expect(not job.leaks(), "check-run: the API key is in %s" % job.leaks())
    print("  check run: 0 POSTs, plan of %d IPs shown and published as the artifact sendgrid_plan" % EXPECTED_ADD)


# ----- saved plans: plan job -> approval -> apply job ------------------------------------------------------------

def plan_module():
    """The collection's own plan code (to re-sign a plan the way a holder of another key, or of this one, could)."""
    sys.path.insert(0, COLLECTIONS_PATH)
    from ansible_collections.sendgrid.partners.plugins.module_utils import _plan  # pylint: disable=import-outside-toplevel
    return _plan


def make_plan(work, name, verbosity=0):
    """A plan job as the workflow's first node runs it: job type Check, Show changes, sendgrid_plan_path."""
    job = Job(work, name, check=True, diff=True, extravars={"sendgrid_plan_path": "plans/onboard.json"}, verbosity=verbosity).run()
    job.expect_status("successful")
    expect(not job.posts() and not [record for record in job.requests() if record["method"] == "DELETE"],
           "%s: the plan job changed an account" % name, job.requests())
    artifact = job.artifact_data().get("sendgrid_plan")
    expect(isinstance(artifact, dict), "%s: playbook_on_stats artifact_data has no sendgrid_plan" % name, job.artifact_data())
    path = os.path.join(job.directory, "project", "plans", "onboard.json")
    expect(os.path.exists(path), "%s: no plan file %s" % (name, path))
    with open(path, encoding="utf-8") as stream:
        expect(json.load(stream) == artifact, "%s: the plan file and the artifact differ" % name)
    expect(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "%s: the plan file is not 0600" % name)
    records = {record["host"]: record for record in artifact["customers"]}
    expect(sorted(records) == HOSTS, "%s: the plan's customers are %s" % (name, sorted(records)))
    for host in HOSTS:
        expect(records[host]["add"] == {region: count for region, count in shortfall(host).items() if count},
               "%s: %s's plan adds %s, its shortfall is %s" % (name, host, records[host]["add"], shortfall(host)))
    expect(artifact["totals"]["add_total"] == EXPECTED_ADD, "%s: the plan's total is %s" % (name, artifact["totals"]))
    expect(not job.leaks(), "%s: the API key is in %s" % (name, job.leaks()))
    return job, artifact


def planned_by_account(plan, hosts=None):
    return {account(record["host"]): sum(record["add"].values()) for record in plan["customers"]
            if sum(record["add"].values()) and (hosts is None or record["host"] in hosts)}


def apply_job(work, name, plan, hosts=None, extravars=None, **options):
    """An apply job: the workflow hands it the plan job's artifacts as extra vars."""
    return Job(work, name, hosts=hosts, extravars=dict(extravars or {}, sendgrid_plan=plan), **options).run()


def case_plan_apply(work):
    """Plan job (check, diff) -> its artifact sendgrid_plan as the apply job's extra vars -> the apply buys the plan."""
    seed_accounts()
    dummy, plan = make_plan(work, "plan", verbosity=4)  # -vvvv: the plan in every task result, and still no key
    # The apply template's own cap (here 5) does not apply again: the plan's total is the approved spend.
    job = apply_job(work, "apply", plan, extravars={"sendgrid_max_new_ips": 5})
    job.expect_status("successful")
    expect(bought(job.requests()) == planned_by_account(plan), "apply: bought %s, the plan %s" % (bought(job.requests()), planned_by_account(plan)))
    expect_cached_facts(job)
    expect(not job.leaks(), "apply: the API key is in %s" % job.leaks())
    print("  plan total %d IPs (us %d, eu %d); the apply bought %d, account for account"
          % (plan["totals"]["add_total"], plan["totals"]["add"]["us"], plan["totals"]["add"]["eu"], sum(bought(job.requests()).values())))
    again = apply_job(work, "apply-again", plan)  # the same plan once more: every account changed since
    expect(again.runner.status == "failed" and not again.posts(), "apply-again: status %s, POSTs %s" % (again.runner.status, again.posts()))
    print("  the same plan applied again: refused for every customer that got IPs, 0 POSTs")


def slice_hosts(number, count, hosts=HOSTS):
    """AWX's job slicing: the hosts sorted by name, slice n (from 1) takes every count-th host from the (n-1)-th."""
    return sorted(hosts)[number - 1::count]


def case_plan_slices(work):
    """The same plan applied by a sliced apply job (3 slices, run at once, each in its own container): the plan's total in all."""
    seed_accounts()
    dummy, plan = make_plan(work, "plan-for-slices")
    jobs = [Job(work, "apply-slice-%d" % number, hosts=slice_hosts(number, 3), extravars={"sendgrid_plan": plan},
                envvars={"SENDGRID_LOCK_DIR": os.path.join(work, "container-%d" % number)}) for number in (1, 2, 3)]
    for job in jobs:
        job.start()
    total = 0
    for job in jobs:
        job.finish()
    for number, job in enumerate(jobs, 1):
        job.expect_status("successful")
        own = bought(job.requests())
        expect(own == planned_by_account(plan, job.hosts), "slice %d: bought %s, its share of the plan %s" % (number, own, planned_by_account(plan, job.hosts)))
        total += sum(own.values())
        share = sum(planned_by_account(plan, job.hosts).values())
        print("  slice %d (%s): plan share %d IPs, bought %d" % (number, " ".join(job.hosts), share, sum(own.values())))
    everything = requests_since(0)
    expect(sum(bought(everything).values()) == plan["totals"]["add_total"] == total,
           "slices: bought %d in all, the plan's total is %d" % (sum(bought(everything).values()), plan["totals"]["add_total"]))
    print("  3 slices bought %d IPs in all, the plan's total %d" % (total, plan["totals"]["add_total"]))


def case_stale_plan(work):
    """IPs added to one account between plan and apply: that customer fails with what changed, the others are applied."""
    seed_accounts()
    dummy, plan = make_plan(work, "plan-stale")
    held = control("GET", "/_sim/accounts/" + account("c02"))["ips"]
    control("POST", "/_sim/accounts", {"accounts": {account("c02"): {"ips": [{"ip": "10.1.99.1", "region": "us"},
                                                                             {"ip": "10.1.99.2", "region": "us"}] + held}}})
    job = apply_job(work, "apply-stale", plan)
    job.expect_status("failed", failed=["c02"])
    expect("plan saw 1 us IP, the account now holds 3: re-plan" in job.failure_messages().get("c02", ""),
           "apply-stale: c02's message", job.failure_messages())
    changes = [record for record in job.requests() if record["method"] in ("POST", "DELETE") and record["account_id"] == account("c02")]
    expect(not changes, "apply-stale: requests that changed c02: %s" % changes)
    expected = {acc: count for acc, count in planned_by_account(plan).items() if acc != account("c02")}
    expect(bought(job.requests()) == expected, "apply-stale: bought %s, expected %s" % (bought(job.requests()), expected))
    print("  c02 failed (%s), nothing bought for it; %d IPs bought for the %d others as planned"
          % (job.failure_messages()["c02"], sum(expected.values()), len(expected)))


def resigned(plan, key, **changes):
    """A copy of plan with changes, signed again with key (what only a holder of that key can do)."""
    _plan = plan_module()
    document = json.loads(json.dumps(plan))
    document.update(changes)
    document["signature"] = _plan.signature_of(document, key)
    return document


def refused(work, name, plan, message, **options):
    job = apply_job(work, name, plan, **options)
    expect(job.runner.status == "failed", "%s: status %s, expected failed" % (name, job.runner.status))
    expect(not job.requests(), "%s: %d API requests, expected none" % (name, len(job.requests())), job.requests()[:3])
    expect(message in job.stdout(), "%s: the output lacks %r" % (name, message), job.failure_messages(), job.stdout()[-3000:])
    expect(not job.leaks(), "%s: the API key is in %s" % (name, job.leaks()))
    print("  %s: refused with 0 requests: ...%s..." % (name, message))
    return job


def case_refused_plans(work):
    """An expired plan, a plan for another URL, one edited by hand, one made with another key: refused with 0 requests."""
    seed_accounts()
    dummy, plan = make_plan(work, "plan-refusals")
    _plan = plan_module()
    old = resigned(plan, KEY, made_at=_plan.iso_time(time.time() - 25 * 3600))
    refused(work, "apply-expired", old, "more than sendgrid_plan_max_age allows (1d)")
    # The same plan as a file of the project, applied with sendgrid_plan_path and a longer sendgrid_plan_max_age
    job = Job(work, "apply-file-2d", extravars={"sendgrid_plan_path": "plans/approved.json", "sendgrid_plan_max_age": "2d"},
              files={"plans/approved.json": json.dumps(old)}).run()
    job.expect_status("successful")
    expect(bought(job.requests()) == planned_by_account(plan), "apply-file-2d: bought %s" % bought(job.requests()))
    print("  the same plan from a file (sendgrid_plan_path) with sendgrid_plan_max_age 2d: applied, %d IPs" % sum(bought(job.requests()).values()))
    seed_accounts()
    elsewhere = resigned(plan, KEY, customers=[dict(record, api_url="https://api.eu.sendgrid.com") for record in plan["customers"]])
    refused(work, "apply-other-url", elsewhere, "was made for https://api.eu.sendgrid.com, but this run uses %s" % URL)
    edited = json.loads(json.dumps(plan))
    record = next(record for record in edited["customers"] if record["host"] == "c09")
    record["add"]["us"] += 3
    edited["totals"]["add"]["us"] += 3
    edited["totals"]["add_total"] += 3
    refused(work, "apply-edited", edited, "edited by hand after it was made, or it was made with another API key")
    refused(work, "apply-other-key", resigned(plan, WRONG_KEY), "edited by hand after it was made, or it was made with another API key")
    expect(not any(record["method"] == "POST" for record in requests_since(0)), "refusals: something was bought")


def case_one_run_at_a_time(work):
    """Two runs at once on one controller against one API: the second fails at once, the first finishes, nothing bought twice."""
    seed_accounts()
    locks = os.path.join(work, "controller-locks")
    control("POST", "/_sim/faults", {"faults": [{"match": {"method": "GET"}, "action": "slow", "delay": 6, "commit": True,
                                                 "times": len(HOSTS)}]})
    first = Job(work, "first-run", envvars={"SENDGRID_LOCK_DIR": locks}).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            os.path.getsize(os.path.join(locks, name)) for name in (os.listdir(locks) if os.path.isdir(locks) else [])):
        time.sleep(0.1)
    expect(time.monotonic() < deadline, "first-run never took the lock in %s" % locks)
    lock_files = os.listdir(locks)
    with open(os.path.join(locks, lock_files[0]), encoding="utf-8") as stream:
        holder = json.load(stream)
    second = Job(work, "second-run", envvars={"SENDGRID_LOCK_DIR": locks}).run()
    first.finish()
    first.expect_status("successful")
    expect(second.runner.status == "failed", "second-run: status %s, expected failed" % second.runner.status)
    text = second.stdout()
    expect("is in progress on this controller: PID %d " % holder["pid"] in text and os.path.join(locks, lock_files[0]) in text,
           "second-run: the lock message (naming %s and PID %s) is missing" % (lock_files, holder["pid"]), second.failure_messages(),
           text[-3000:])
    expect(len(lock_files) == 1 and URL.split("//")[1] not in lock_files[0], "lock files %s: one, named without the URL" % lock_files)
    gets = [record for record in requests_since(0) if record["method"] == "GET"]
    expect(len(gets) == len(HOSTS), "%d GETs: the second run listed accounts too" % len(gets))
    expect(sum(bought(requests_since(0)).values()) == EXPECTED_ADD, "bought %s in all, expected %d once" % (bought(requests_since(0)), EXPECTED_ADD))
    expect(not second.leaks() and not first.leaks(), "the API key is in the jobs' files")
    print("  second run failed in %.1f s, 0 requests, naming the lock %s and PID %d (%s); the first bought %d IPs, once"
          % (second.seconds, lock_files[0], holder["pid"], holder.get("command"), EXPECTED_ADD))


CASES = {
    "real_run": case_real_run,
    "check_run": case_check_run,
    "plan_apply": case_plan_apply,
    "plan_slices": case_plan_slices,
    "stale_plan": case_stale_plan,
    "refused_plans": case_refused_plans,
    "one_run_at_a_time": case_one_run_at_a_time,
}


def main(argv):
    work = os.path.abspath(argv[1])
    names = argv[2:] or list(CASES)
    os.makedirs(LOG_DIR, exist_ok=True)
    started = time.monotonic()
    for name in names:
        print("== %s: %s" % (name, textwrap.shorten(CASES[name].__doc__, 150)), flush=True)
        case_started = time.monotonic()
        try:
            CASES[name](work)
        except Failure as exc:
            print("FAILED %s: %s" % (name, exc), file=sys.stderr)
            return 1
        print("   %s: ok in %.1f s" % (name, time.monotonic() - case_started), flush=True)
    print("awx_runner: %d cases passed in %.1f s" % (len(names), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
