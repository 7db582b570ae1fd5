"""make bench: time sendgrid.partners.onboard against a uri-task-per-host playbook and a Python thread pool.

Run through hack/bench.sh, which builds and installs the collection and passes its path:

    hack/bench.sh [--sizes 200,1000] [--rounds 3 | --rounds 200=5,1000=3] [--latency 0.05] [--forks 50 | 5,50]
                  [--variants a,b,c] [--threads 20] [--profile 1000]

For each size, for each round (the order of the variants rotates from round to round, to spread drift over all
of them): the simulator is reset to N fresh empty accounts, the variant runs, and every account must then hold
exactly one US IP (else the benchmark stops with the accounts that do not). Variants:

    a  ansible-playbook sendgrid.partners.onboard (the installed collection), -f FORKS
    b  ansible-playbook bench/baseline_uri.yml: one ansible.builtin.uri POST per host, same inventory and -f FORKS
    c  bench/pool.py: the same POSTs from one Python process, a ThreadPoolExecutor(THREADS), a Session per thread

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
    "b": "uri task per host (baseline)",
    "c": "Python thread pool (limit)",
}
# The role's goal (issue): at 1,000 customers, at least 20x faster than the uri baseline, within 3x of the pool.
GOAL_SIZE, GOAL_SPEEDUP, GOAL_GAP = 1000, 20.0, 3.0


class BenchError(Exception):
    """A run failed or left the accounts wrong: the benchmark stops."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="200,1000", help="customer counts, comma-separated (default 200,1000)")
    parser.add_argument("--rounds", default="3",
                        help="rounds per size: N, or SIZE=N,... (default 3; at least 3 for a median worth quoting)")
    parser.add_argument("--latency", type=float, default=0.05, help="simulator latency per API answer, s (0.05)")
    parser.add_argument("--forks", default="50", help="ansible-playbook -f for (a) and (b), comma-separated (50)")
    parser.add_argument("--threads", type=int, default=20, help="thread pool size of (c) (20)")
    parser.add_argument("--variants", default="a,b,c", help="which variants to run (a,b,c)")
    parser.add_argument("--profile", type=int, metavar="SIZE",
                        help="after the rounds, one more run of (a) at SIZE customers with the per-task timing "
                             "callback (bench/callback_plugins/bench_profile.py), reported apart from the medians")
    parser.add_argument("--profile-variant", default="a", choices=("a", "b"), help="the variant --profile runs (a)")
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
        parser.error("--variants: choose among a, b, c, got %s" % ",".join(unknown or ["nothing"]))
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
        """build/bench/inventories/customers-SIZE.yml (and .ids): SIZE customers, each {region: us, total: 1}."""
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
        return base + ".yml", base + ".ids", ids

    # -- one run

    def command(self, variant, size, forks, inventory, ids_file):
        playbook = os.path.join(self.bin, "ansible-playbook")
        if variant == "a":
            extra = json.dumps({"sendgrid_max_new_ips": size})  # above the planned IPs: the spend cap never bites
            return [playbook, "sendgrid.partners.onboard", "-i", inventory, "-f", str(forks), "-e", extra]
        if variant == "b":
            return [playbook, os.path.join(BENCH, "baseline_uri.yml"), "-i", inventory, "-f", str(forks)]
        return [sys.executable, os.path.join(BENCH, "pool.py"), "--accounts-file", ids_file,
                "--threads", str(self.args.threads)]

    def run_once(self, variant, size, forks, round_number, position, inventory, ids_file, ids, profile_path=None):
        self.simulator.reset({account_id: {} for account_id in ids})
        label = "%d-r%d-%s%s" % (size, round_number, variant, "" if variant == "c" else "-f%d" % forks)
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
        record = {"size": size, "variant": variant, "forks": None if variant == "c" else forks,
                  "round": round_number, "position": position, **result,
                  "customers_per_s": round(size / result["wall_s"], 2),
                  "cpu_per_customer_s": round((result["cpu_user_s"] + result["cpu_sys_s"]) / size, 4),
                  "simulator_cpu_s": (round(sim_cpu_after - sim_cpu_before, 2)
                                      if None not in (sim_cpu_before, sim_cpu_after) else None),
                  "loadavg_1m_before": round(load_before, 2),
                  "log": os.path.relpath(log_path, REPO)}
        record["requests"] = self.request_counts()
        problems = self.verify(ids)
        record["verified"] = not problems and result["rc"] == 0
        print("  %-5s %-34s %-8s %8.2f s %8.1f/s  rss %6.1f MB  pss %7s MB  cpu %7.1f s  %s" % (
            size, "(%s) %s" % (variant, VARIANTS[variant]), "" if variant == "c" else "-f %d" % forks,
            result["wall_s"], record["customers_per_s"], result["peak_rss_mb"],
            result["tree_pss_peak_mb"] if result["tree_pss_peak_mb"] is not None else "-",
            result["cpu_user_s"] + result["cpu_sys_s"], "ok" if record["verified"] else "FAILED"), flush=True)
        if result["rc"] != 0 or problems:
            record["problems"] = problems[:50]
            if profile_path is None:
                self.runs.append(record)
            reason = ("timed out after %ds" % self.args.run_timeout if result["timed_out"]
                      else "exit code %d" % result["rc"])
            raise BenchError("%s: %s; %d account(s) wrong%s\nlog: %s\n%s" % (
                label, "ok" if result["rc"] == 0 else reason, len(problems),
                "".join("\n  " + problem for problem in problems[:10]), log_path, simctl.tail(log_path, 25)))
        return record

    def request_counts(self):
        counts = {}
        for request in self.simulator.requests():
            key = "%s %s" % (request["method"], request["status"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def verify(self, ids):
        """Every account holds exactly one US IP, and there is no other account: else one line per problem."""
        accounts = self.simulator.accounts()
        problems = ["%s: not on the simulator" % account_id for account_id in ids if account_id not in accounts]
        problems += ["%s: unexpected account" % account_id for account_id in sorted(set(accounts) - set(ids))]
        for account_id in ids:
            ips = accounts.get(account_id)
            if ips is not None and [ip["region"] for ip in ips] != ["us"]:
                problems.append("%s: holds %s, expected exactly 1 us IP" % (
                    account_id, ", ".join("%s (%s)" % (ip["ip"], ip["region"]) for ip in ips) or "no IP"))
        return problems

    # -- all runs

    def plan(self):
        """The variant runs of one round, in order, before rotation: (variant, forks)."""
        entries = []
        for forks in self.args.forks:
            entries += [(variant, forks) for variant in self.args.variants if variant != "c"]
        if "c" in self.args.variants:
            entries.append(("c", None))
        return entries

    def run(self):
        entries = self.plan()
        print("make bench: %d cores, latency %.3f s, forks %s, sizes %s, rounds %s; logs in %s" % (
            os.cpu_count(), self.args.latency, ",".join(map(str, self.args.forks)),
            ",".join(map(str, self.args.sizes)), self.args.rounds, os.path.relpath(self.logs, REPO)), flush=True)
        for size in self.args.sizes:
            inventory, ids_file, ids = self.inventory(size)
            for round_number in range(1, self.args.rounds[size] + 1):
                shift = (round_number - 1) % len(entries)
                for position, (variant, forks) in enumerate(entries[shift:] + entries[:shift]):
                    self.runs.append(self.run_once(variant, size, forks, round_number, position, inventory,
                                                   ids_file, ids))
                    self.write("running")
        if self.args.profile:
            self.run_profile(self.args.profile)

    def run_profile(self, size):
        inventory, ids_file, ids = self.inventory(size)
        forks = self.args.forks[-1]
        path = os.path.join(self.logs, "profile-%d-%s.json" % (size, self.args.profile_variant))
        print("profile: one more run of (%s) at %d customers, -f %d, per-task timing" % (
            self.args.profile_variant, size, forks), flush=True)
        record = self.run_once(self.args.profile_variant, size, forks, 0, 0, inventory, ids_file, ids,
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
        for (size, variant, forks), runs in sorted(groups.items(), key=lambda item: (*item[0][:2], item[0][2] or 0)):
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
                role, uri = by_key.get((size, "a", forks)), by_key.get((size, "b", forks))
                pool = by_key.get((size, "c", None))
                entry = {"size": size, "forks": forks}
                if role and uri:
                    entry["speedup_a_vs_b"] = round(uri["wall_s"] / role["wall_s"], 2)
                    entry["speedup_a_vs_b_per_round"] = self.per_round(size, forks, "b", "a")
                if role and pool:
                    entry["gap_a_vs_c"] = round(role["wall_s"] / pool["wall_s"], 2)
                    entry["gap_a_vs_c_per_round"] = self.per_round(size, forks, "a", "c")
                if len(entry) > 2:
                    if size >= GOAL_SIZE and "speedup_a_vs_b" in entry and "gap_a_vs_c" in entry:
                        entry["goal_met"] = entry["speedup_a_vs_b"] >= GOAL_SPEEDUP and entry["gap_a_vs_c"] <= GOAL_GAP
                    ratios.append(entry)
        return medians, ratios

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
        medians, ratios = self.summary()
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
                "speedup_a_vs_b": "median wall (b) / median wall (a): how much faster the role is than the uri task",
                "gap_a_vs_c": "median wall (a) / median wall (c): how far the role is from the thread-pool limit",
            },
            "medians": medians,
            "ratios": ratios,
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
    header = "%6s  %-34s %5s %4s %9s %12s %12s %12s %8s" % (
        "size", "variant", "forks", "runs", "wall s", "customers/s", "peak RSS MB", "tree PSS MB", "CPU s")
    print(header)
    print("-" * len(header))
    for median in data["medians"]:
        print("%6d  %-34s %5s %4d %9.2f %12.1f %12.1f %12s %8.1f" % (
            median["size"], "(%s) %s" % (median["variant"], VARIANTS[median["variant"]]),
            "-" if median["forks"] is None else median["forks"], median["runs"], median["wall_s"],
            median["customers_per_s"], median["peak_rss_mb"],
            "-" if median["tree_pss_peak_mb"] is None else "%.1f" % median["tree_pss_peak_mb"], median["cpu_s"]))
    if data["ratios"]:
        print()
        print("ratios of medians (per round in brackets)")
        for ratio in data["ratios"]:
            parts = []
            if "speedup_a_vs_b" in ratio:
                parts.append("(a)/(b) speedup over uri = b/a = %.1fx %s" % (
                    ratio["speedup_a_vs_b"], ratio["speedup_a_vs_b_per_round"]))
            if "gap_a_vs_c" in ratio:
                parts.append("(a)/(c) distance to the limit = a/c = %.1fx %s" % (
                    ratio["gap_a_vs_c"], ratio["gap_a_vs_c_per_round"]))
            goal = ""
            if "goal_met" in ratio:
                verdict = "met" if ratio["goal_met"] else "NOT met"
                goal = "  goal (>= %gx, <= %gx): %s" % (GOAL_SPEEDUP, GOAL_GAP, verdict)
            print("  %5d customers, -f %d: %s%s" % (ratio["size"], ratio["forks"], "; ".join(parts), goal))


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
