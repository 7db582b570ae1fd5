"""make bench: time sendgrid.partners.onboard against a uri-task-per-host playbook and Python thread pools.

Run through hack/bench.sh, which builds and installs the collection and passes its path:

    hack/bench.sh [--sizes 1000,10000] [--rounds 3 | --rounds 1000=5,10000=3] [--latency 0.05] [--forks 50 | 5,50]
                  [--variants a,a10,b,c,d] [--threads 20] [--profile 1000]

For each size, for each round (the order of the variants rotates from round to round, to spread drift over all
of them): the simulator is reset to N fresh empty accounts, the variant runs, and every account must then hold
exactly one US IP (else the benchmark stops with the accounts that do not). Variants:

    a    ansible-playbook sendgrid.partners.onboard (the installed collection), -f FORKS
    a10  the same run with one account in ten unknown to the simulator: the inventory names them, the simulator
         does not have them (HTTP 404), so the role fails those hosts. Afterwards the others hold exactly one US
         IP, the unknown ones are still absent, exactly their hosts failed, and ansible-playbook exited 2 (hosts
         failed), not with a crash
    b    ansible-playbook bench/baseline_uri.yml: one ansible.builtin.uri POST per host, same inventory and -f FORKS;
         only at sizes up to 1,000 (at 10,000 a run would take about 40 minutes)
    c    bench/pool.py: the same POSTs from one Python process, a ThreadPoolExecutor(THREADS), a Session per thread:
         the blind-POST floor
    d    bench/pool.py --list-first: the role's own requests from the same pool, GET the account (limit=5000), then
         POST what is missing: the limit for idempotent onboarding

Every variant is a child process, timed from start to exit. Its memory is measured twice: "peak RSS" is the largest
resident set of any single process of the run (the child itself or any worker or module process it reaped: the
ru_maxrss that wait4() returns), and "tree PSS" is the peak of the summed proportional set size of the whole process
tree, sampled every --sample-interval seconds (shared pages counted once). CPU is user + system of the whole tree.

Prints the medians and the ratios, and writes bench/results/<UTC timestamp>.json (every run, medians, ratios,
machine, versions); ansible-playbook output goes to bench/results/logs/<timestamp>/, not the console.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "simulator"))

import simctl  # noqa: E402 (tests/simulator, put on the path above)

API_KEY = "SG.bench-key.0123456789abcdef"
VARIANTS = {
    "a": "role sendgrid.partners.onboard",
    "a10": "role, 10% accounts unknown (404)",
    "b": "uri task per host (baseline)",
    "c": "thread pool, blind POST (floor)",
    "d": "thread pool, GET then POST (limit)",
}
PLAYBOOKS = ("a", "a10", "b")  # run with -f FORKS; the pools are one process
POOLS = ("c", "d")
BASELINE_MAX_SIZE = 1000  # (b) above this is skipped: about 40 minutes a run at 10,000
UNKNOWN_EVERY = 10  # (a10): every tenth account of the inventory is unknown to the simulator
EXIT_HOSTS_FAILED = 2  # what ansible-playbook exits with when hosts failed (a crash or an error is another code)
CRASH_SIGNS = ("An exception occurred during task execution", "Traceback (most recent call last)")
# The targets of the role, for 2 cores, a latency of 50 ms and medians of 3 rounds (see TARGET_CONDITIONS).
TARGET_CONDITIONS = {"cpu_count": 2, "latency_s": 0.05, "rounds": 3}
TARGET_SIZES = (1000, 10000)
TARGET_A_OVER_D = 2.5  # (a)/(d) at most, at each of TARGET_SIZES
TARGET_LINEAR = 11.0  # (a) at 10,000 at most this many times (a) at 1,000
TARGET_PSS_MB = 600.0  # tree PSS of (a) at 10,000, at most
TARGET_A10_BAND = 0.15  # (a10) within 15 % of (a) at the same size
TARGET_B_OVER_A = 8.0  # (b)/(a) at 1,000, at least
# Ratios of median wall times printed for every size: (name, numerator, denominator).
RATIOS = (("b_over_a", "b", "a"), ("a_over_c", "a", "c"), ("a_over_d", "a", "d"), ("a10_over_a", "a10", "a"))


class BenchError(Exception):
    """A run failed or left the accounts wrong: the benchmark stops."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="1000,10000",
                        help="customer counts, comma-separated (default 1000,10000); (b) runs only at sizes up to %d"
                             % BASELINE_MAX_SIZE)
    parser.add_argument("--rounds", default="3",
                        help="rounds per size: N, or SIZE=N,... (default 3; the targets are for medians of 3)")
    parser.add_argument("--latency", type=float, default=0.05, help="simulator latency per API answer, s (0.05)")
    parser.add_argument("--forks", default="50", help="ansible-playbook -f for (a), (a10) and (b), comma-separated (50)")
    parser.add_argument("--threads", type=int, default=20, help="thread pool size of (c) and (d) (20)")
    parser.add_argument("--variants", default="a,a10,b,c,d", help="which variants to run (a,a10,b,c,d)")
    parser.add_argument("--profile", type=int, metavar="SIZE",
                        help="after the rounds, one more run of (a) at SIZE customers with the per-task timing "
                             "callback (bench/callback_plugins/bench_profile.py), reported apart from the medians")
    parser.add_argument("--profile-variant", default="a", choices=PLAYBOOKS, help="the variant --profile runs (a)")
    parser.add_argument("--sample-interval", type=float, default=0.5,
                        help="seconds between samples of the process tree's PSS; 0 turns sampling off (0.5)")
    parser.add_argument("--run-timeout", type=float, default=3600, help="a run taking longer is killed, s (3600)")
    parser.add_argument("--collections-path", required=True, help="where hack/bench.sh installed the collection")
    parser.add_argument("--collection-tarball", help="the tarball installed (its sha256 goes into the results)")
    parser.add_argument("--work-dir", default=os.path.join(REPO, "build", "bench"),
                        help="simulator and generated inventories (build/bench)")
    parser.add_argument("--results-dir", default=os.path.join(BENCH, "results"), help="bench/results")
    args = parser.parse_args(argv)

    args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    args.forks = [int(forks) for forks in args.forks.split(",") if forks.strip()]
    args.variants = [variant.strip() for variant in args.variants.split(",") if variant.strip()]
    rounds = {}
    for part in args.rounds.split(","):
        size, _sep, count = part.rpartition("=")
        if size:
            rounds[int(size)] = int(count)
        else:
            rounds["default"] = int(count)
    args.rounds = {size: rounds.get(size, rounds.get("default", 3)) for size in args.sizes}
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown or not args.variants:
        parser.error("--variants: choose among %s, got %s" % (", ".join(VARIANTS), ",".join(unknown or ["nothing"])))
    if not args.sizes or min(args.sizes) < 1 or not args.forks or min(args.forks) < 1 or min(args.rounds.values()) < 1:
        parser.error("--sizes, --forks and --rounds must be positive integers")
    return args


# ---- measuring one child process


def _children_map():
    """{ppid: [pid, ...]} of every process on the machine, from /proc."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    return children


def _pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed PSS and the number of processes of a process tree until stopped."""

    def __init__(self, root, interval):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_pss_kib, self.peak_processes, self.samples = 0, 0, 0
        self.stopped = threading.Event()

    def run(self):
        wait = min(self.interval, 0.1)  # a first sample early, for the short runs
        while not self.stopped.wait(wait):
            wait = self.interval
            children, tree, todo = _children_map(), [], [self.root]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(children.get(pid, ()))
            self.peak_pss_kib = max(self.peak_pss_kib, sum(_pss_kib(pid) for pid in tree))
            self.peak_processes = max(self.peak_processes, len(tree))
            self.samples += 1


def _cpu_seconds(pid):
    """user + system CPU seconds of a running process (the simulator), from /proc."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def measure(command, env, log_path, timeout, sample_interval, cwd):
    """Run command to its end; wall time, exit code, CPU and memory of its whole process tree."""
    with open(log_path, "ab") as log:
        log.write(("$ %s\n" % " ".join(command)).encode())
        log.flush()
        start = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    sampler = TreeSampler(process.pid, sample_interval) if sample_interval > 0 else None
    if sampler:
        sampler.start()
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        os.killpg(process.pid, signal.SIGKILL)  # the group this run started (start_new_session)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _pid, status, usage = os.wait4(process.pid, 0)  # reaps it: usage covers it and every descendant it reaped
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the run's process group goes too
        os.killpg(process.pid, signal.SIGKILL)
        os.waitpid(process.pid, 0)
        raise
    finally:
        timer.cancel()
        if sampler:
            sampler.stopped.set()
            sampler.join()
    wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 4),
        "rc": process.returncode,
        "timed_out": timed_out.is_set(),
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_sys_s": round(usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "tree_pss_peak_mb": round(sampler.peak_pss_kib / 1024, 1) if sampler and sampler.samples else None,
        "tree_processes_peak": sampler.peak_processes if sampler and sampler.samples else None,
    }


# ---- the benchmark


class Bench:
    def __init__(self, args):
        self.args = args
        self.stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.logs = os.path.join(args.results_dir, "logs", self.stamp)
        self.results_path = os.path.join(args.results_dir, self.stamp + ".json")
        self.work = args.work_dir
        self.bin = os.path.dirname(sys.executable)
        self.runs = []
        self.profile = None
        self.simulator = None
        self.ansible_cfg = os.path.join(self.work, "ansible.cfg")
        self.env = None
        # Read now, right after hack/bench.sh built the tarball: others may commit while the benchmark runs.
        self.collection = collection_info(args.collection_tarball)

    # -- setup

    def start(self):
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(os.path.join(self.work, "inventories"), exist_ok=True)
        with open(self.ansible_cfg, "w", encoding="utf-8") as handle:
            # An empty configuration: no ~/.ansible.cfg or /etc/ansible/ansible.cfg changes what is measured.
            handle.write("# make bench: ansible-core defaults (bench/bench.py)\n[defaults]\n")
        simctl.SERVER = os.path.join(BENCH, "sim_server.py")  # server.py with a listen backlog of 128
        self.simulator = simctl.Simulator(api_key=API_KEY, directory=os.path.join(self.work, "simulator"),
                                          latency=self.args.latency)
        self.simulator.start()
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("ANSIBLE_", "SENDGRID_")) and name not in ("REQUESTS_CA_BUNDLE",)}
        env.update({
            "PATH": self.bin + os.pathsep + env.get("PATH", ""),
            "ANSIBLE_CONFIG": self.ansible_cfg,
            "ANSIBLE_COLLECTIONS_PATH": self.args.collections_path,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_URL": self.simulator.url,
            "NO_PROXY": "127.0.0.1,localhost",
        })
        self.env = env

    def stop(self):
        if self.simulator is not None:
            self.simulator.stop()

    def inventory(self, size):
        """build/bench/inventories/customers-SIZE.yml (and .ids): SIZE customers, each {region: us, total: 1}.

        Returns (inventory path, ids path, [(host, account ID), ...]).
        """
        base = os.path.join(self.work, "inventories", "customers-%d" % size)
        ids = ["sg%032x" % (0xbe4c0000000 + number) for number in range(1, size + 1)]
        hosts = ["customer%05d" % number for number in range(1, size + 1)]
        lines = ["---", "# make bench: %d customers, one US IP each (bench/bench.py writes this file)" % size,
                 "sendgrid_customers:", "  vars:", "    ansible_connection: local", "  hosts:"]
        for host, account_id in zip(hosts, ids):
            lines += ["    %s:" % host, "      sendgrid_account_id: %s" % account_id,
                      "      sendgrid_ips:", "        - {region: us, total: 1}"]
        with open(base + ".yml", "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        with open(base + ".ids", "w", encoding="utf-8") as handle:
            handle.write("\n".join(ids) + "\n")
        return base + ".yml", base + ".ids", list(zip(hosts, ids))

    # -- one run

    def command(self, variant, size, forks, inventory, ids_file):
        playbook = os.path.join(self.bin, "ansible-playbook")
        if variant in ("a", "a10"):
            extra = json.dumps({"sendgrid_max_new_ips": size})  # above the planned IPs: the spend cap never bites
            return [playbook, "sendgrid.partners.onboard", "-i", inventory, "-f", str(forks), "-e", extra]
        if variant == "b":
            return [playbook, os.path.join(BENCH, "baseline_uri.yml"), "-i", inventory, "-f", str(forks)]
        return [sys.executable, os.path.join(BENCH, "pool.py"), "--accounts-file", ids_file,
                "--threads", str(self.args.threads)] + (["--list-first"] if variant == "d" else [])

    def run_once(self, variant, size, forks, round_number, position, inventory, ids_file, customers, profile_path=None):
        unknown = unknown_accounts(customers) if variant == "a10" else set()
        self.simulator.reset({account_id: {} for _host, account_id in customers if account_id not in unknown})
        label = "%d-r%d-%s%s" % (size, round_number, variant, "" if variant in POOLS else "-f%d" % forks)
        log_path = os.path.join(self.logs, label + ".log")
        env = dict(self.env)
        if profile_path:
            label += "-profile"
            log_path = os.path.join(self.logs, label + ".log")
            env.update({"ANSIBLE_CALLBACK_PLUGINS": os.path.join(BENCH, "callback_plugins"),
                        "ANSIBLE_CALLBACKS_ENABLED": "bench_profile", "BENCH_PROFILE_PATH": profile_path,
                        "BENCH_START_EPOCH": repr(time.time())})
        load_before = os.getloadavg()[0]
        sim_cpu_before = _cpu_seconds(self.simulator.pid)
        result = measure(self.command(variant, size, forks, inventory, ids_file), env, log_path,
                         self.args.run_timeout, self.args.sample_interval, self.work)
        sim_cpu_after = _cpu_seconds(self.simulator.pid)
        record = {"size": size, "variant": variant, "forks": None if variant in POOLS else forks,
                  "round": round_number, "position": position, **result,
                  "customers_per_s": round(size / result["wall_s"], 2),
                  "cpu_per_customer_s": round((result["cpu_user_s"] + result["cpu_sys_s"]) / size, 4),
                  "simulator_cpu_s": (round(sim_cpu_after - sim_cpu_before, 2)
                                      if None not in (sim_cpu_before, sim_cpu_after) else None),
                  "loadavg_1m_before": round(load_before, 2),
                  "log": os.path.relpath(log_path, REPO)}
        if unknown:
            record["unknown_accounts"] = len(unknown)
        record["requests"] = self.request_counts()
        problems = self.verify(variant, customers, unknown, result, log_path, record)
        record["verified"] = not problems
        print("  %-5s %-40s %-8s %8.2f s %8.1f/s  rss %6.1f MB  pss %7s MB  cpu %7.1f s  %s" % (
            size, "(%s) %s" % (variant, VARIANTS[variant]), "" if variant in POOLS else "-f %d" % forks,
            result["wall_s"], record["customers_per_s"], result["peak_rss_mb"],
            result["tree_pss_peak_mb"] if result["tree_pss_peak_mb"] is not None else "-",
            result["cpu_user_s"] + result["cpu_sys_s"], "ok" if record["verified"] else "FAILED"), flush=True)
        if problems:
            record["problems"] = problems[:50]
            if profile_path is None:
                self.runs.append(record)
            raise BenchError("%s: %d problem(s)%s\nlog: %s\n%s" % (
                label, len(problems), "".join("\n  " + problem for problem in problems[:10]), log_path,
                simctl.tail(log_path, 25)))
        return record

    def request_counts(self):
        counts = {}
        for request in self.simulator.requests():
            key = "%s %s" % (request["method"], request["status"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def verify(self, variant, customers, unknown, result, log_path, record):
        """What must hold after a run, as one line per problem (none: the run counts).

        Every known account holds exactly one US IP; the unknown ones (a10) are still not on the simulator, and there
        is no other account. The exit code is 0, or 2 for (a10) (hosts failed). For a playbook: the recap names
        exactly the hosts of the unknown accounts as failed, and the log shows no crash.
        """
        problems = []
        expected_rc = EXIT_HOSTS_FAILED if variant == "a10" else 0
        if result["timed_out"]:
            problems.append("timed out after %ds" % self.args.run_timeout)
        elif result["rc"] != expected_rc:
            problems.append("exit code %d, expected %d%s" % (result["rc"], expected_rc,
                                                             " (hosts failed)" if expected_rc else ""))
        accounts = self.simulator.accounts()
        ids = [account_id for _host, account_id in customers]
        for account_id in ids:
            ips = accounts.get(account_id)
            if account_id in unknown:
                if ips is not None:
                    problems.append("%s: unknown to the simulator before the run, on it now" % account_id)
            elif ips is None:
                problems.append("%s: not on the simulator" % account_id)
            elif [ip["region"] for ip in ips] != ["us"]:
                problems.append("%s: holds %s, expected exactly 1 us IP" % (
                    account_id, ", ".join("%s (%s)" % (ip["ip"], ip["region"]) for ip in ips) or "no IP"))
        problems += ["%s: unexpected account" % account_id for account_id in sorted(set(accounts) - set(ids))]
        if variant in PLAYBOOKS:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                log = handle.read()
            problems += ["the log shows a crash: %r" % sign for sign in CRASH_SIGNS if sign in log]
            recap = recap_failures(log)
            if recap is None:
                problems.append("no PLAY RECAP in the log")
            else:
                expected = {host for host, account_id in customers if account_id in unknown}
                record["failed_hosts"] = len(recap)
                problems += ["%s: failed, but its account is known" % host for host in sorted(recap - expected)]
                problems += ["%s: did not fail, but its account is unknown" % host for host in sorted(expected - recap)]
        return problems

    # -- all runs

    def plan(self, size):
        """The variant runs of one round at size, in order, before rotation: (variant, forks)."""
        entries = []
        for forks in self.args.forks:
            entries += [(variant, forks) for variant in self.args.variants
                        if variant in PLAYBOOKS and not (variant == "b" and size > BASELINE_MAX_SIZE)]
        entries += [(variant, None) for variant in self.args.variants if variant in POOLS]
        return entries

    def run(self):
        print("make bench: %d cores, latency %.3f s, forks %s, sizes %s, rounds %s, variants %s; logs in %s" % (
            os.cpu_count(), self.args.latency, ",".join(map(str, self.args.forks)),
            ",".join(map(str, self.args.sizes)), self.args.rounds, ",".join(self.args.variants),
            os.path.relpath(self.logs, REPO)), flush=True)
        for size in self.args.sizes:
            entries = self.plan(size)
            if "b" in self.args.variants and size > BASELINE_MAX_SIZE:
                print("  (b) skipped at %d customers: the uri baseline runs at %d customers and below (at 10,000 a run "
                      "would take about 40 minutes)" % (size, BASELINE_MAX_SIZE), flush=True)
            if not entries:
                continue
            inventory, ids_file, customers = self.inventory(size)
            for round_number in range(1, self.args.rounds[size] + 1):
                shift = (round_number - 1) % len(entries)
                for position, (variant, forks) in enumerate(entries[shift:] + entries[:shift]):
                    self.runs.append(self.run_once(variant, size, forks, round_number, position, inventory,
                                                   ids_file, customers))
                    self.write("running")
        if self.args.profile:
            self.run_profile(self.args.profile)

    def run_profile(self, size):
        inventory, ids_file, customers = self.inventory(size)
        forks = self.args.forks[-1]
        path = os.path.join(self.logs, "profile-%d-%s.json" % (size, self.args.profile_variant))
        print("profile: one more run of (%s) at %d customers, -f %d, per-task timing" % (
            self.args.profile_variant, size, forks), flush=True)
        record = self.run_once(self.args.profile_variant, size, forks, 0, 0, inventory, ids_file, customers,
                               profile_path=path)
        with open(path, encoding="utf-8") as handle:
            record["tasks"] = json.load(handle)
        self.profile = record
        print_profile(record)

    # -- results

    def summary(self):
        medians, ratios = [], []
        groups = {}
        for run in self.runs:
            groups.setdefault((run["size"], run["variant"], run["forks"]), []).append(run)
        order = list(VARIANTS)
        for (size, variant, forks), runs in sorted(groups.items(),
                                                   key=lambda item: (item[0][0], order.index(item[0][1]), item[0][2] or 0)):
            wall = statistics.median(run["wall_s"] for run in runs)
            medians.append({
                "size": size, "variant": variant, "forks": forks, "runs": len(runs),
                "wall_s": round(wall, 3), "customers_per_s": round(size / wall, 2),
                "peak_rss_mb": round(statistics.median(run["peak_rss_mb"] for run in runs), 1),
                "tree_pss_peak_mb": _median_or_none(run["tree_pss_peak_mb"] for run in runs),
                "cpu_s": round(statistics.median(run["cpu_user_s"] + run["cpu_sys_s"] for run in runs), 2),
                "wall_s_min": min(run["wall_s"] for run in runs), "wall_s_max": max(run["wall_s"] for run in runs),
            })
        by_key = {(median["size"], median["variant"], median["forks"]): median for median in medians}
        for size in self.args.sizes:
            for forks in self.args.forks:
                entry = {"size": size, "forks": forks}
                for name, numerator, denominator in RATIOS:
                    top, bottom = self.median(by_key, size, numerator, forks), self.median(by_key, size, denominator, forks)
                    if top and bottom:
                        entry[name] = round(top["wall_s"] / bottom["wall_s"], 2)
                        entry[name + "_per_round"] = self.per_round(size, forks, numerator, denominator)
                if len(entry) > 2:
                    ratios.append(entry)
        return medians, ratios, self.targets(by_key)

    @staticmethod
    def median(by_key, size, variant, forks):
        return by_key.get((size, variant, None if variant in POOLS else forks))

    def targets(self, by_key):
        """Each target of the role: its value (None when not measured) and whether it is met."""
        found = []

        def add(forks, name, value, operator, limit, unit="x", per_round=None):
            if value is None:
                met = None
            elif operator == "<=":
                met = value <= limit
            elif operator == ">=":
                met = value >= limit
            else:  # "within": |value - 1| <= limit
                met = abs(value - 1) <= limit
            found.append({"forks": forks, "target": name, "value": None if value is None else round(value, 3),
                          "operator": operator, "limit": limit, "unit": unit, "met": met,
                          "per_round": per_round or []})

        def wall_ratio(size, numerator, denominator, forks):
            top, bottom = self.median(by_key, size, numerator, forks), self.median(by_key, size, denominator, forks)
            return top["wall_s"] / bottom["wall_s"] if top and bottom else None

        for forks in self.args.forks:
            for size in TARGET_SIZES:
                add(forks, "(a)/(d) at %s customers" % format(size, ","), wall_ratio(size, "a", "d", forks), "<=",
                    TARGET_A_OVER_D, per_round=self.per_round(size, forks, "a", "d"))
            small, large = self.median(by_key, 1000, "a", forks), self.median(by_key, 10000, "a", forks)
            add(forks, "linear: (a) at 10,000 / (a) at 1,000", large["wall_s"] / small["wall_s"] if small and large else None,
                "<=", TARGET_LINEAR)
            add(forks, "tree PSS of (a) at 10,000", large["tree_pss_peak_mb"] if large else None, "<=", TARGET_PSS_MB, " MB")
            for size in self.args.sizes:
                add(forks, "(a10)/(a) at %s customers" % format(size, ","), wall_ratio(size, "a10", "a", forks), "within",
                    TARGET_A10_BAND, per_round=self.per_round(size, forks, "a10", "a"))
            add(forks, "(b)/(a) at 1,000 customers", wall_ratio(1000, "b", "a", forks), ">=", TARGET_B_OVER_A,
                per_round=self.per_round(1000, forks, "b", "a"))
        return found

    def conditions(self):
        """How this run differs from the conditions of the targets: [] when it does not."""
        differences = []
        if os.cpu_count() != TARGET_CONDITIONS["cpu_count"]:
            differences.append("%d cores, not %d" % (os.cpu_count(), TARGET_CONDITIONS["cpu_count"]))
        if self.args.latency != TARGET_CONDITIONS["latency_s"]:
            differences.append("latency %g s, not %g s" % (self.args.latency, TARGET_CONDITIONS["latency_s"]))
        few = sorted(size for size, rounds in self.args.rounds.items() if rounds < TARGET_CONDITIONS["rounds"])
        if few:
            differences.append("fewer than %d rounds at %s" % (TARGET_CONDITIONS["rounds"], ",".join(map(str, few))))
        return differences

    def per_round(self, size, forks, numerator, denominator):
        """numerator wall / denominator wall within each round (the same drift for both)."""
        walls = {}
        for run in self.runs:
            if run["size"] == size and run["forks"] in (forks, None):
                walls[(run["round"], run["variant"])] = run["wall_s"]
        rounds = sorted({round_number for round_number, _variant in walls})
        return [round(walls[(r, numerator)] / walls[(r, denominator)], 2) for r in rounds
                if (r, numerator) in walls and (r, denominator) in walls]

    def write(self, status):
        medians, ratios, targets = self.summary()
        data = {
            "status": status,
            "timestamp": self.stamp,
            "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version(), "loadavg_at_end": [round(v, 2) for v in os.getloadavg()]},
            "versions": versions(),
            "collection": self.collection,
            "settings": {"sizes": self.args.sizes, "rounds": {str(k): v for k, v in self.args.rounds.items()},
                         "latency_s": self.args.latency, "forks": self.args.forks, "threads": self.args.threads,
                         "variants": {variant: VARIANTS[variant] for variant in self.args.variants},
                         "sample_interval_s": self.args.sample_interval},
            "measures": {
                "wall_s": "from the start of the child process to its exit (ansible-playbook startup included)",
                "peak_rss_mb": "largest resident set of any single process of the run (ru_maxrss of wait4(): the "
                               "child and every worker or module process it reaped)",
                "tree_pss_peak_mb": "peak of the summed PSS of the run's whole process tree, sampled every "
                                    "sample_interval_s (shared pages counted once)",
                "cpu": "user + system CPU of the whole process tree (not the simulator: simulator_cpu_s)",
                "b_over_a": "median wall (b) / median wall (a): how much faster the role is than the uri task",
                "a_over_c": "median wall (a) / median wall (c): how far the role is from the blind-POST floor",
                "a_over_d": "median wall (a) / median wall (d): how far the role is from the idempotent limit",
                "a10_over_a": "median wall (a10) / median wall (a): what failing one customer in ten costs",
                "targets": "each target's value, limit and verdict (met: null when not measured); they hold for "
                           "target_conditions, and conditions_differ says how this run differs from them",
            },
            "medians": medians,
            "ratios": ratios,
            "target_conditions": TARGET_CONDITIONS,
            "conditions_differ": self.conditions(),
            "targets": targets,
            "profile": self.profile,
            "runs": self.runs,
        }
        os.makedirs(self.args.results_dir, exist_ok=True)
        temporary = self.results_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.write("\n")
        os.replace(temporary, self.results_path)
        return data


def _median_or_none(values):
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 1) if values else None


def versions():
    found = {"python": platform.python_version()}
    for name, module in (("ansible-core", "ansible.release"), ("requests", "requests")):
        try:
            found[name] = __import__(module, fromlist=["__version__"]).__version__
        except ImportError:
            found[name] = None
    return found


def collection_info(tarball):
    def git(*args):
        try:
            return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=True).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return None

    dirty = git("status", "--porcelain", "--", "roles", "plugins", "playbooks", "meta", "galaxy.yml")
    commit = git("rev-parse", "HEAD")
    info = {"git_commit": commit.strip() if commit else None,
            # The tarball is built from the work tree: uncommitted changes to the collection are in what ran.
            "uncommitted_collection_files": dirty.splitlines() if dirty else [],
            "tarball": os.path.basename(tarball) if tarball else None}
    if tarball:
        with open(tarball, "rb") as handle:
            info["tarball_sha256"] = hashlib.sha256(handle.read()).hexdigest()
    return info


def print_table(data):
    print()
    print("medians (%d cores, latency %.3f s, %s; %s)" % (
        data["machine"]["cpu_count"], data["settings"]["latency_s"],
        "ansible-core %s" % data["versions"]["ansible-core"], data["collection"]["git_commit"][:10]
        if data["collection"]["git_commit"] else "no git"))
    header = "%6s  %-40s %5s %4s %9s %12s %12s %12s %8s" % (
        "size", "variant", "forks", "runs", "wall s", "customers/s", "peak RSS MB", "tree PSS MB", "CPU s")
    print(header)
    print("-" * len(header))
    for median in data["medians"]:
        print("%6d  %-40s %5s %4d %9.2f %12.1f %12.1f %12s %8.1f" % (
            median["size"], "(%s) %s" % (median["variant"], VARIANTS[median["variant"]]),
            "-" if median["forks"] is None else median["forks"], median["runs"], median["wall_s"],
            median["customers_per_s"], median["peak_rss_mb"],
            "-" if median["tree_pss_peak_mb"] is None else "%.1f" % median["tree_pss_peak_mb"], median["cpu_s"]))
    if data["ratios"]:
        print()
        print("ratios of medians (per round in brackets)")
        for ratio in data["ratios"]:
            parts = ["%s = %.2fx %s" % (RATIO_LABELS[name], ratio[name], ratio[name + "_per_round"])
                     for name, _numerator, _denominator in RATIOS if name in ratio]
            print("  %6d customers, -f %d: %s" % (ratio["size"], ratio["forks"], "; ".join(parts)))
    print()
    differ = data["conditions_differ"]
    print("targets (for %d cores, latency %g s, medians of %d rounds)%s" % (
        TARGET_CONDITIONS["cpu_count"], TARGET_CONDITIONS["latency_s"], TARGET_CONDITIONS["rounds"],
        ": this run differs (%s), so the verdicts are indicative only" % "; ".join(differ) if differ else ""))
    for target in data["targets"]:
        print("  %-44s %-12s %-16s %s" % (
            "%s%s:" % (target["target"], ", -f %d" % target["forks"] if len(data["settings"]["forks"]) > 1 else ""),
            describe_limit(target), describe_value(target),
            "not measured" if target["met"] is None else "met" if target["met"] else "NOT met"))


RATIO_LABELS = {"b_over_a": "(b)/(a)", "a_over_c": "(a)/(c)", "a_over_d": "(a)/(d)", "a10_over_a": "(a10)/(a)"}


def describe_limit(target):
    if target["operator"] == "within":
        return "within %d %%" % round(target["limit"] * 100)
    return "%s %g%s" % (target["operator"], target["limit"], target["unit"])


def describe_value(target):
    if target["value"] is None:
        return "-"
    if target["operator"] == "within":
        text = "%+.1f %%" % ((target["value"] - 1) * 100)
    elif target["unit"] == " MB":
        text = "%.0f MB" % target["value"]
    else:
        text = "%.2f%s" % (target["value"], target["unit"])
    if target["per_round"]:
        text += " %s" % target["per_round"]
    return text


def unknown_accounts(customers):
    """The accounts (a10) leaves off the simulator: every UNKNOWN_EVERY-th customer of the inventory."""
    return {account_id for number, (_host, account_id) in enumerate(customers, 1) if number % UNKNOWN_EVERY == 0}


def recap_failures(log):
    """The hosts that PLAY RECAP shows failed or unreachable (a set), or None when the log has no recap."""
    if "PLAY RECAP" not in log:
        return None
    failed = set()
    for line in log.split("PLAY RECAP", 1)[1].splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[1] != ":":
            continue
        counts = dict(field.split("=", 1) for field in fields[2:] if "=" in field)
        if int(counts.get("failed", 0)) or int(counts.get("unreachable", 0)):
            failed.add(fields[0])
    return failed


def print_profile(record):
    tasks = record["tasks"]
    print("profile of (%s) at %d customers: wall %.2f s, CPU %.1f s; callback loaded at %.2f s, stats at %.2f s" % (
        record["variant"], record["size"], record["wall_s"], record["cpu_user_s"] + record["cpu_sys_s"],
        tasks["callback_loaded_s"], tasks["stats_s"]))
    print("  %8s %8s %8s  %-24s %s" % ("start s", "wall s", "CPU s", "results", "task (action)"))
    for task in tasks["tasks"]:
        results = ",".join("%s=%d" % item for item in sorted(task["results"].items()))
        print("  %8.2f %8.2f %8.2f  %-24s %s (%s)" % (
            task["start_s"], task["wall_s"], task["cpu_s"], results, task["name"], task["action"]))


def _terminate(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # like Ctrl-C: stop the run, write what was measured
    bench = Bench(args)
    try:
        bench.start()
        bench.run()
    except BenchError as exc:
        bench.write("failed")
        print("\nmake bench FAILED: %s\nresults so far: %s" % (exc, os.path.relpath(bench.results_path, REPO)),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        bench.write("interrupted")
        print("\nmake bench interrupted; results so far: %s" % os.path.relpath(bench.results_path, REPO), file=sys.stderr)
        return 130
    finally:
        bench.stop()
    data = bench.write("complete")
    print_table(data)
    print("\nresults: %s\nlogs:    %s" % (os.path.relpath(bench.results_path, REPO), os.path.relpath(bench.logs, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
