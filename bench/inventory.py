"""Benchmark of the inventory plugin sendgrid.partners.accounts against a thread pool doing the same requests.

    python bench/inventory.py [--sizes 1000,10000] [--rounds 3] [--latency 0.05] [--concurrency 20]
                              [--collections-path DIR]

Run with the Python of a venv that has ansible-core and requests (its ansible-inventory and ansible-galaxy are used).
Without --collections-path the collection is built from the work tree and installed into build/bench-inventory/.

The simulator (bench/sim_server.py: tests/simulator/server.py with a listen backlog of 128) answers every API request
after --latency seconds. For each size N it holds N accounts (no IPs); in every round, in an order that alternates,
two variants read them, each a child process timed from start to exit:

    plugin  ansible-inventory -i bench.sendgrid.partners.accounts.yml --list --output FILE, with with_state and
            with_ips, concurrency C: every page of ListAccount (100 a page), then per account GetAccountState and
            ListAccountIps, C at a time
    pool    python bench/inventory.py pool: the same requests from one process, the pages one after the other, then a
            ThreadPoolExecutor(C) with a requests.Session per thread; prints the number of accounts read

After every run the simulator must have seen exactly N/100 (rounded up, plus one when N is a multiple of 100)
ListAccount requests and N of each per-account request, all answered 200, and the plugin's inventory must hold the N
hosts, each with its state and IPs; otherwise the benchmark stops. Figures are medians over the rounds: wall seconds,
CPU seconds (user + system of the process tree), peak RSS of the largest process and the peak summed PSS of the tree
(bench/bench.py's measure()). Targets: plugin/pool <= 1.5 at every size, and linear: the plugin's seconds per 1,000
accounts at the largest size within 1.2x of the smallest size's. Writes bench/results/inventory-<UTC stamp>.json (the
results directory is not committed by this script; logs go to bench/results/logs/).
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "simulator"))

API_KEY = "SG.bench-inventory-key.0123456789abcdef"
PAGE = 100
TARGET_RATIO = 1.5
TARGET_LINEARITY = 1.2


# ---- the pool variant (a child process)


def pool_main(argv):
    """The same requests as the plugin, from one process: pages in sequence, then state and IPs per account."""
    import requests  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(prog="inventory.py pool")
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    base = os.environ["SENDGRID_API_URL"].rstrip("/")
    headers = {"Authorization": "Bearer " + os.environ["SENDGRID_API_KEY"], "Accept": "application/json"}
    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
            local.session.headers.update(headers)
        return local.session

    def get(path, params=None):
        answer = session().get(base + path, params=params, timeout=args.timeout)
        answer.raise_for_status()
        return answer.json()

    accounts, seen, offset = [], set(), None
    while True:
        params = {"limit": PAGE, **({"offset": offset} if offset else {})}
        data = get("/v3/partners/accounts", params)
        page = data["accounts"]
        for account in page:
            if account["id"] not in seen:
                seen.add(account["id"])
                accounts.append(account)
        last = (data.get("pages") or {}).get("last") or (page[-1]["id"] if page else None)
        if not page or len(page) < PAGE or last == offset:
            break
        offset = last

    def details(account):
        path = "/v3/partners/accounts/%s" % quote(account["id"], safe="")
        return get(path + "/state")["state"], get(path + "/ips", {"limit": 5000})["result"]

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        results = list(pool.map(details, accounts))
    print(json.dumps({"accounts": len(accounts), "with_state": sum(1 for state, ips in results if state)}))
    return 0


# ---- the benchmark


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="account counts, comma-separated (1000,10000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (3: a median)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the simulator adds to every API answer (0.05)")
    parser.add_argument("--concurrency", type=int, default=20, help="the plugin's concurrency and the pool's threads (20)")
    parser.add_argument("--collections-path", help="an installed sendgrid.partners (default: build and install the work tree)")
    parser.add_argument("--work-dir", default=os.path.join(REPO, "build", "bench-inventory"))
    parser.add_argument("--results-dir", default=os.path.join(BENCH, "results"))
    parser.add_argument("--sample-interval", type=float, default=0.5, help="seconds between PSS samples (0.5)")
    parser.add_argument("--run-timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(",") if size.strip())
    if not args.sizes or min(args.sizes) < 1 or args.rounds < 1 or not 1 <= args.concurrency <= 100:
        parser.error("--sizes and --rounds must be positive, --concurrency 1 to 100")
    return args


def install_collection(work, binaries):
    """Build the work tree's collection and install it under work/collections; returns (path, tarball)."""
    collections = os.path.join(work, "collections")
    for old in glob.glob(os.path.join(work, "sendgrid-partners-*.tar.gz")):
        os.unlink(old)
    subprocess.run([os.path.join(binaries, "ansible-galaxy"), "collection", "build", "--force", "--output-path", work, REPO],
                   check=True, stdout=subprocess.DEVNULL)
    tarball = glob.glob(os.path.join(work, "sendgrid-partners-*.tar.gz"))[0]
    subprocess.run([os.path.join(binaries, "ansible-galaxy"), "collection", "install", "--force", "-p", collections, tarball],
                   check=True, stdout=subprocess.DEVNULL)
    return collections, tarball


class InventoryBench:
    def __init__(self, args):
        import bench as harness  # bench/bench.py: measure() and the process-tree sampling  pylint: disable=import-outside-toplevel
        import simctl  # pylint: disable=import-outside-toplevel

        self.harness, self.simctl = harness, simctl
        self.args = args
        self.stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.logs = os.path.join(args.results_dir, "logs", "inventory-" + self.stamp)
        self.bin = os.path.dirname(sys.executable)
        self.runs = []
        self.simulator = None
        self.env = None

    def start(self):
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.args.work_dir, exist_ok=True)
        if self.args.collections_path:
            self.collections, self.tarball = self.args.collections_path, None
        else:
            self.collections, self.tarball = install_collection(self.args.work_dir, self.bin)
        cfg = os.path.join(self.args.work_dir, "ansible.cfg")
        with open(cfg, "w", encoding="utf-8") as handle:
            handle.write("# bench/inventory.py: ansible-core defaults\n[defaults]\n")
        self.simctl.SERVER = os.path.join(BENCH, "sim_server.py")
        self.simulator = self.simctl.Simulator(api_key=API_KEY, directory=os.path.join(self.args.work_dir, "simulator"),
                                               latency=self.args.latency)
        self.simulator.start()
        env = {name: value for name, value in os.environ.items() if not name.startswith(("ANSIBLE_", "SENDGRID_"))}
        env.update({"PATH": self.bin + os.pathsep + env.get("PATH", ""), "ANSIBLE_CONFIG": cfg,
                    "ANSIBLE_COLLECTIONS_PATH": self.collections, "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ENABLED": "sendgrid.partners.accounts",
                    "SENDGRID_API_KEY": API_KEY, "SENDGRID_API_URL": self.simulator.url, "NO_PROXY": "127.0.0.1,localhost"})
        self.env = env
        self.config = os.path.join(self.args.work_dir, "bench.sendgrid.partners.accounts.yml")
        with open(self.config, "w", encoding="utf-8") as handle:
            json.dump({"plugin": "sendgrid.partners.accounts", "with_state": True, "with_ips": True,
                       "concurrency": self.args.concurrency}, handle)

    def stop(self):
        if self.simulator is not None:
            self.simulator.stop()

    @staticmethod
    def ids(size):
        return ["sg%032x" % (0x1a7e0000000 + number) for number in range(1, size + 1)]

    def run_once(self, variant, size, round_number, position):
        self.simulator.clear_requests()
        output = os.path.join(self.args.work_dir, "inventory-%d.json" % size)
        if variant == "plugin":
            command = [os.path.join(self.bin, "ansible-inventory"), "-i", self.config, "--list", "--output", output]
        else:
            command = [sys.executable, os.path.abspath(__file__), "pool", "--threads", str(self.args.concurrency)]
        log = os.path.join(self.logs, "%d-r%d-%s.log" % (size, round_number, variant))
        load = os.getloadavg()[0]
        result = self.harness.measure(command, self.env, log, self.args.run_timeout, self.args.sample_interval, REPO)
        result.update(variant=variant, size=size, round=round_number, position=position, load_1m_before=round(load, 2), log=log)
        problems = self.verify(variant, size, output, log)
        result["requests"] = self.request_counts()
        self.runs.append(result)
        print("  %-6s %6d accounts round %d: %7.2f s wall, %6.2f s CPU, tree PSS %s MB"
              % (variant, size, round_number, result["wall_s"], result["cpu_user_s"] + result["cpu_sys_s"],
                 result["tree_pss_peak_mb"]), flush=True)
        if result["rc"] != 0 or problems:
            raise SystemExit("bench/inventory.py: %s at %d accounts failed (exit %s): %s; log %s"
                             % (variant, size, result["rc"], "; ".join(problems) or "see the log", log))

    def request_counts(self):
        counts = {}
        for record in self.simulator.requests():
            key = "%s %s" % (record["operation"], record["status"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def verify(self, variant, size, output, log):
        problems = []
        pages = size // PAGE + 1  # the last page is short, or empty when size is a multiple of 100
        expected = {"ListAccount 200": pages, "GetAccountState 200": size, "ListAccountIps 200": size}
        counts = self.request_counts()
        if counts != expected:
            problems.append("the simulator saw %s, expected %s" % (counts, expected))
        if variant == "plugin":
            with open(output, encoding="utf-8") as handle:
                hostvars = json.load(handle)["_meta"]["hostvars"]
            complete = sum(1 for variables in hostvars.values()
                           if "sendgrid_account_state" in variables and "sendgrid_current_ips" in variables)
            if len(hostvars) != size or complete != size:
                problems.append("the inventory has %d hosts, %d with state and IPs, expected %d" % (len(hostvars), complete, size))
        else:
            with open(log, encoding="utf-8") as handle:
                last = [line for line in handle if line.startswith("{")][-1:]
            if not last or json.loads(last[0]) != {"accounts": size, "with_state": size}:
                problems.append("the pool printed %s" % last)
        return problems

    def run(self):
        for size in self.args.sizes:
            self.simulator.reset({account_id: {} for account_id in self.ids(size)})
            print("%d accounts:" % size, flush=True)
            for round_number in range(1, self.args.rounds + 1):
                order = ("plugin", "pool") if round_number % 2 else ("pool", "plugin")
                for position, variant in enumerate(order):
                    self.run_once(variant, size, round_number, position)

    def summary(self):
        table = {}
        for size in self.args.sizes:
            for variant in ("plugin", "pool"):
                runs = [run for run in self.runs if run["size"] == size and run["variant"] == variant]
                table["%s/%d" % (variant, size)] = {
                    "runs": len(runs),
                    "wall_s": statistics.median(run["wall_s"] for run in runs),
                    "cpu_s": round(statistics.median(run["cpu_user_s"] + run["cpu_sys_s"] for run in runs), 3),
                    "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
                    "tree_pss_peak_mb": _median([run["tree_pss_peak_mb"] for run in runs]),
                }
        ratios = {}
        for size in self.args.sizes:
            plugin, pool = table["plugin/%d" % size]["wall_s"], table["pool/%d" % size]["wall_s"]
            per_round = [round(a["wall_s"] / b["wall_s"], 3) for a in self.runs for b in self.runs
                         if a["size"] == b["size"] == size and a["round"] == b["round"] and a["variant"] == "plugin" and b["variant"] == "pool"]
            ratios[str(size)] = {"plugin_over_pool": round(plugin / pool, 3), "per_round": per_round,
                                 "plugin_s_per_1000": round(plugin / size * 1000, 3), "pool_s_per_1000": round(pool / size * 1000, 3),
                                 "target_met": plugin / pool <= TARGET_RATIO}
        smallest, largest = str(self.args.sizes[0]), str(self.args.sizes[-1])
        linearity = round(ratios[largest]["plugin_s_per_1000"] / ratios[smallest]["plugin_s_per_1000"], 3)
        return table, ratios, {"plugin_s_per_1000_largest_over_smallest": linearity, "target": TARGET_LINEARITY,
                               "target_met": linearity <= TARGET_LINEARITY}

    def write(self, status):
        table, ratios, linearity = self.summary() if status == "complete" else ({}, {}, {})
        os.makedirs(self.args.results_dir, exist_ok=True)
        path = os.path.join(self.args.results_dir, "inventory-%s.json" % self.stamp)
        document = {
            "what": "ansible-inventory with sendgrid.partners.accounts (with_state, with_ips) against a thread pool doing the "
                    "same requests, on the simulator",
            "status": status, "stamp": self.stamp, "sizes": self.args.sizes, "rounds": self.args.rounds,
            "latency_s": self.args.latency, "concurrency": self.args.concurrency, "page_size": PAGE,
            "targets": {"plugin_over_pool_at_most": TARGET_RATIO, "linearity_at_most": TARGET_LINEARITY},
            "medians": table, "ratios": ratios, "linearity": linearity, "runs": self.runs,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "versions": _versions(), "git_commit": _git("rev-parse", "HEAD"), "uncommitted": _git("status", "--porcelain", "--", "plugins"),
            "tarball": self.tarball,
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
        return path, table, ratios, linearity


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def _versions():
    found = {}
    for name in ("ansible-core", "requests"):
        try:
            from importlib.metadata import version  # pylint: disable=import-outside-toplevel
            found[name] = version(name)
        except Exception:  # not installed: the figure says so
            found[name] = None
    return found


def _git(*args):
    try:
        return subprocess.run(["git", "-C", REPO] + list(args), check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def print_table(table, ratios, linearity):
    print("%-8s %7s %5s %9s %8s %12s %12s" % ("variant", "size", "runs", "wall s", "CPU s", "peak RSS MB", "tree PSS MB"))
    for key, row in table.items():
        variant, size = key.split("/")
        print("%-8s %7s %5d %9.2f %8.2f %12s %12s" % (variant, size, row["runs"], row["wall_s"], row["cpu_s"], row["peak_rss_mb"],
                                                      row["tree_pss_peak_mb"]))
    for size, ratio in ratios.items():
        print("%s accounts: plugin/pool %.2fx (rounds %s), target <= %.1fx %s; plugin %.2f s per 1,000 accounts, pool %.2f"
              % (size, ratio["plugin_over_pool"], ", ".join("%.2f" % value for value in ratio["per_round"]), TARGET_RATIO,
                 "met" if ratio["target_met"] else "NOT met", ratio["plugin_s_per_1000"], ratio["pool_s_per_1000"]))
    print("linearity: plugin seconds per 1,000 accounts, largest size over smallest: %.2f, target <= %.1f %s"
          % (linearity["plugin_s_per_1000_largest_over_smallest"], TARGET_LINEARITY, "met" if linearity["target_met"] else "NOT met"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["pool"]:
        return pool_main(argv[1:])
    args = parse_args(argv)
    bench = InventoryBench(args)
    status = "failed"
    try:
        bench.start()
        bench.run()
        status = "complete"
    finally:
        bench.stop()
        path, table, ratios, linearity = bench.write(status)
        print("results: %s" % path)
    print_table(table, ratios, linearity)
    return 0 if all(ratio["target_met"] for ratio in ratios.values()) and linearity["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
