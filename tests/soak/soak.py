"""Fault soak: onboard N customers with the role/playbook against the simulator under random faults, rerun
until converged, and check that no money was lost and nothing was bought twice.

    python tests/soak/soak.py --customers 300           # make soak (hack/soak.sh picks the venv)
    python tests/soak/soak.py --customers 12 --seed 5    # make soak-small, the small size inside make test

Needs ansible-playbook (the ansible-core under test) on PATH, run with the Python that has requests. The
collection is this work tree (linked as ansible_collections/sendgrid/partners in a temporary directory). The
playbook is sendgrid.partners.onboard with the role variables of the product contract (SPEC.md):
sendgrid_account_id, sendgrid_ips ({region, total}), sendgrid_report_path; the key and URL come from
SENDGRID_API_KEY and SENDGRID_API_URL.

Checks (exit 1 and say which when one fails):
- after every run, no account holds more IPs in a region than its total (IPs are never removed here, so this
  is "ever");
- the first run's report exists, lists every customer, and every host the play recap counts as failed is
  'failed' in the report with a non-empty error message;
- within --max-reruns reruns (default: N) every account holds exactly its total; a last run without faults
  then changes nothing and fails nothing;
- POSTs <= the ideal number (one per 10 IPs of each shortfall) + one per fault injected into a POST;
- the API key and its base64 forms appear in no output, log, report or request log, and no request carried the
  key outside the Authorization header.
"""

import argparse
import base64
import importlib.util
import json
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIMCTL = os.path.join(REPO, "tests", "simulator", "simctl.py")
FAULT_RATES = {"rate_limit": 0.10, "error_commit": 0.05, "error": 0.03, "slow": 0.02, "drop": 0.005, "drop_commit": 0.005}
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def load_simctl():
    spec = importlib.util.spec_from_file_location("sendgrid_partners_simctl", SIMCTL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--customers", type=int, default=50, help="how many customers (inventory hosts)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the customers and of the faults")
    parser.add_argument("--max-reruns", type=int, help="reruns allowed to converge (default: --customers)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--slow-delay", type=float, default=31.0,
                        help="seconds a 'slow' answer takes: above the modules' default timeout of 30 s")
    parser.add_argument("--calm-reruns", action="store_true", help="faults in the first run only")
    parser.add_argument("--work", help="keep everything here (default: a temporary directory, removed on success)")
    parser.add_argument("--verbosity", default="-vvvv", help="ansible-playbook verbosity (the leak check greps it)")
    return parser.parse_args(argv)


def make_customers(count, rng):
    """{host: (account_id, {region: total}, {region: already held})}; some IDs need encoding, some need 2 POSTs."""
    customers = {}
    for number in range(1, count + 1):
        host = "c%03d" % number
        account_id = "soak-%03d" % number if number % 7 else "soak/%03d %%2F" % number
        totals = {"us": rng.randint(1, 13)}
        if rng.random() < 0.5:
            totals["eu"] = rng.randint(1, 3)
        held = {region: rng.randint(0, total - 1) for region, total in totals.items() if rng.random() < 0.3}
        customers[host] = (account_id, totals, held)
    return customers


def inventory(customers):
    hosts = {host: {"sendgrid_account_id": account_id,
                    "sendgrid_ips": [{"region": region, "total": total} for region, total in sorted(totals.items())]}
             for host, (account_id, totals, _held) in customers.items()}
    return {"sendgrid_customers": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "sendgrid_throttle": 8}}}


def base64_forms(secret):
    forms = []
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode((pad + secret).encode()).decode()
        forms.append((encoded[4:] if pad else encoded)[:-4])
    return forms


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = args.work or tempfile.mkdtemp(prefix="sendgrid-soak-")
        os.makedirs(self.work, exist_ok=True)
        self.key = "soakkey-" + secrets.token_hex(16)
        self.problems = []
        self.customers = make_customers(args.customers, self.rng)
        self.figures = {}

    def check(self, ok, message):
        if not ok:
            self.problems.append(message)
            print("SOAK CHECK FAILED: %s" % message, flush=True)

    # ---- running the playbook

    def environment(self, sim):
        collections = os.path.join(self.work, "collections")
        link = os.path.join(collections, "ansible_collections", "sendgrid", "partners")
        if not os.path.exists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(REPO, link)
        return dict(os.environ, SENDGRID_API_KEY=self.key, SENDGRID_API_URL=sim.url, ANSIBLE_COLLECTIONS_PATH=collections,
                    ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=os.path.join(self.work, "tmp"),
                    ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                    ANSIBLE_PYTHON_INTERPRETER=sys.executable)

    def ips_to_buy(self):
        """The spend cap: every IP the customers lack at the start, so the cap is met exactly, never passed."""
        return sum(max(total - held.get(region, 0), 0)
                   for _account_id, totals, held in self.customers.values() for region, total in totals.items())

    def run_playbook(self, sim, number):
        report = os.path.join(self.work, "reports", "run%02d.json" % number)
        log = os.path.join(self.work, "run%02d.log" % number)
        command = [shutil.which("ansible-playbook") or "ansible-playbook", "sendgrid.partners.onboard",
                   "-i", os.path.join(self.work, "customers.json"), "-f", str(self.args.forks),
                   "-e", "sendgrid_report_path=%s" % report, "-e", "sendgrid_max_new_ips=%d" % self.ips_to_buy(),
                   self.args.verbosity]
        started = time.monotonic()
        with open(log, "w", encoding="utf-8") as output:
            done = subprocess.run(command, env=self.environment(sim), stdout=output, stderr=subprocess.STDOUT,
                                  cwd=self.work, check=False, timeout=3600)
        with open(log, encoding="utf-8", errors="replace") as output:
            text = output.read()
        recap = {match.group(1): {"changed": int(match.group(3)), "failed": int(match.group(5)) + int(match.group(4))}
                 for match in RECAP.finditer(text)}
        print("run %d: exit %d in %.0f s, %d hosts failed, %d changed" % (
            number, done.returncode, time.monotonic() - started, sum(1 for r in recap.values() if r["failed"]),
            sum(1 for r in recap.values() if r["changed"])), flush=True)
        self.check(set(recap) >= set(self.customers), "run %d: the play recap lacks hosts (see %s)" % (number, log))
        return recap, report

    # ---- invariants

    def holdings(self, sim):
        accounts = sim.accounts()
        return {host: {region: sum(1 for entry in accounts.get(account_id, []) if entry["region"] == region)
                       for region in ("us", "eu")}
                for host, (account_id, _totals, _held) in self.customers.items()}

    def check_never_above_total(self, sim, number):
        for host, held in self.holdings(sim).items():
            for region, total in self.customers[host][1].items():
                self.check(held[region] <= total, "run %d: %s holds %d IPs in %s, above its total %d"
                           % (number, host, held[region], region, total))
            for region in ("us", "eu"):
                if region not in self.customers[host][1]:
                    self.check(held[region] == self.customers[host][2].get(region, 0),
                               "run %d: %s got IPs in %s, which it never asked for" % (number, host, region))

    def converged(self, sim):
        return all(held[region] == total for host, held in self.holdings(sim).items()
                   for region, total in self.customers[host][1].items())

    def check_report(self, recap, report_path, number):
        try:
            with open(report_path, encoding="utf-8") as handle:
                report = json.load(handle)
        except (OSError, ValueError) as exc:
            self.check(False, "run %d: no readable JSON report at %s: %s" % (number, report_path, exc))
            return
        lines = {line.get("host"): line for line in report.get("customers", [])}
        self.check(set(lines) == set(self.customers), "run %d: the report lists %d customers, not the %d hosts"
                   % (number, len(lines), len(self.customers)))
        for host, outcome in recap.items():
            if host not in self.customers:
                continue
            line = lines.get(host, {})
            if outcome["failed"]:
                self.check(line.get("status") == "failed" and str(line.get("error") or "").strip(),
                           "run %d: %s failed but its report line is %r" % (number, host, line))
            else:
                self.check(line.get("status") in ("ok", "changed"), "run %d: %s did not fail but its report line is %r"
                           % (number, host, line))
        if not os.path.exists(os.path.splitext(report_path)[0] + ".csv"):
            self.check(False, "run %d: no CSV report beside %s" % (number, report_path))

    def check_posts(self, sim, chaos_stats):
        ideal = 0
        for _host, (_account_id, totals, held) in self.customers.items():
            for region, total in totals.items():
                ideal += math.ceil(max(total - held.get(region, 0), 0) / 10)
        posts = sum(1 for record in sim.requests() if record["method"] == "POST")
        post_faults = sum(by_method.get("POST", 0) for by_method in chaos_stats.get("injected", {}).values())
        self.figures.update(posts=posts, ideal_posts=ideal, post_bound=ideal + post_faults)
        self.check(ideal <= posts <= ideal + post_faults, "%d POSTs, outside [ideal %d, ideal + POST faults %d]"
                   % (posts, ideal, ideal + post_faults))

    def check_leaks(self, requests):
        forms = [self.key] + base64_forms(self.key)
        hits = []
        for directory, _dirs, files in os.walk(self.work):
            if os.path.join(self.work, "collections") in directory:
                continue
            for name in files:
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                hits += [path for form in forms if form in text]
        self.check(not hits, "the API key (or its base64 form) is in %s" % sorted(set(hits)))
        leaked = [record["seq"] for record in requests if record.get("key_elsewhere")]
        self.check(not leaked, "requests %s carried the API key outside the Authorization header" % leaked)

    # ---- the soak

    def run(self):
        started = time.monotonic()
        requests = []
        with open(os.path.join(self.work, "customers.json"), "w", encoding="utf-8") as handle:
            json.dump(inventory(self.customers), handle, indent=1)
        simctl = load_simctl()
        sim = simctl.Simulator(api_key=self.key, directory=os.path.join(self.work, "simulator"))
        sim.start()
        try:
            sim.reset({account_id: {"generate": held} for account_id, _totals, held in self.customers.values()})
            chaos = {"seed": self.args.seed, "rates": FAULT_RATES, "options": {"slow": {"delay": self.args.slow_delay}}}
            sim.chaos(chaos)
            max_reruns = self.args.customers if self.args.max_reruns is None else self.args.max_reruns
            stats = {}
            number = 1
            recap, report = self.run_playbook(sim, number)
            self.check_never_above_total(sim, number)
            self.check_report(recap, report, number)
            self.figures["first_run_failed_hosts"] = sum(1 for r in recap.values() if r["failed"])
            while not self.converged(sim) and number <= max_reruns:
                if self.args.calm_reruns and sim.chaos()["enabled"]:
                    stats = sim.stop_chaos()
                number += 1
                recap, report = self.run_playbook(sim, number)
                self.check_never_above_total(sim, number)
                self.check_report(recap, report, number)
            stats = sim.stop_chaos() if sim.chaos()["enabled"] else stats
            self.figures["reruns_to_converge"] = number - 1
            self.check(self.converged(sim), "not converged after %d reruns" % (number - 1))
            self.check_posts(sim, stats)
            # Converged: a calm run must change and fail nothing.
            posts_before = self.figures["posts"]
            number += 1
            recap, report = self.run_playbook(sim, number)
            self.check(all(not r["failed"] and not r["changed"] for host, r in recap.items() if host in self.customers),
                       "the run after convergence changed or failed hosts: %s"
                       % sorted(host for host, r in recap.items() if r["failed"] or r["changed"]))
            self.check(sum(1 for record in sim.requests() if record["method"] == "POST") == posts_before,
                       "the run after convergence sent POSTs")
            self.check_report(recap, report, number)
            requests = sim.requests()
        finally:
            sim.stop()
        self.check_leaks(requests)
        injected = {kind: sum(by_method.values()) for kind, by_method in stats.get("injected", {}).items()}
        self.figures.update(customers=len(self.customers), requests=len(requests),
                            requests_by_method={m: sum(1 for r in requests if r["method"] == m) for m in ("GET", "POST", "DELETE")},
                            faults_injected=injected, faults_total=sum(injected.values()),
                            seconds=round(time.monotonic() - started, 1), work=self.work)
        print("soak figures: %s" % json.dumps(self.figures, sort_keys=True))
        if self.problems:
            print("SOAK FAILED: %d check(s) failed; everything is kept in %s" % (len(self.problems), self.work))
            return 1
        print("SOAK PASSED: %d customers, %d faults injected, converged after %d rerun(s), %d POSTs (ideal %d, bound %d), "
              "%.0f s" % (len(self.customers), self.figures["faults_total"], self.figures["reruns_to_converge"],
                          self.figures["posts"], self.figures["ideal_posts"], self.figures["post_bound"], self.figures["seconds"]))
        if not self.args.work:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0


def main(argv=None):
    return Soak(parse_args(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
