"""Cases of the inventory_accounts target: ansible-inventory --list with sendgrid.partners.accounts against the simulator.

    python cases.py --simulator-dir DIR --expected DIR --work DIR     (SENDGRID_API_URL, SENDGRID_API_KEY set by sim_start)

Each case resets the simulator (accounts and faults), writes an inventory configuration into --work, runs
ansible-inventory -vvvv --list (the JSON to a file, everything else to a log beside it), and checks the exit code, the
inventory against expected/<case>.json (or one computed from the seed), the messages, and the requests the simulator
saw. The inventory JSON is compared in a canonical form: unsafe markers unwrapped, host and child lists sorted. Every
output stays in --work, where the target's leak check looks for the API key. --update rewrites expected/*.json.
"""

import argparse
import json
import os
import subprocess
import sys

KEY_PAYLOAD = "{{ lookup('ansible.builtin.env', 'SENDGRID_API_KEY') }}"
FAILURES = []


def ids(count, prefix="sg"):
    return ["%s%032x" % (prefix, number) for number in range(1, count + 1)]


class Runner:
    def __init__(self, args):
        sys.path.insert(0, args.simulator_dir)
        import simctl  # pylint: disable=import-outside-toplevel

        self.simctl = simctl
        self.url = os.environ["SENDGRID_API_URL"]
        self.key = os.environ["SENDGRID_API_KEY"]
        self.expected_dir = args.expected
        self.work = args.work
        self.update = args.update

    def control(self, method, path, body=None):
        return self.simctl.control_call(self.url, method, path, body)

    def reset(self, accounts, faults=None):
        self.control("POST", "/_sim/reset", {"accounts": accounts})
        if faults:
            self.control("POST", "/_sim/faults", {"faults": faults})

    def requests(self):
        return self.control("GET", "/_sim/requests")["requests"]

    def clear_requests(self):
        self.control("DELETE", "/_sim/requests")

    def inventory(self, case, config, extra_args=(), env=None):
        """ansible-inventory --list over `config`; (exit code, parsed JSON or None, log text)."""
        path = os.path.join(self.work, "%s.sendgrid.partners.accounts.yml" % case)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict({"plugin": "sendgrid.partners.accounts"}, **config), handle, indent=1)
        output = os.path.join(self.work, "%s.json" % case)
        if os.path.exists(output):
            os.unlink(output)
        command = ["ansible-inventory", "-vvvv", "-i", path, "--list", "--output", output] + list(extra_args)
        environment = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_NOCOLOR="1",
                           ANSIBLE_INVENTORY_ENABLED="sendgrid.partners.accounts", **(env or {}))
        with open(os.path.join(self.work, "%s.log" % case), "ab") as log:
            log.write(("$ %s\n" % " ".join(command)).encode())
            log.flush()
            status = subprocess.call(command, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with open(os.path.join(self.work, "%s.log" % case), encoding="utf-8", errors="replace") as log:
            text = log.read()
        data = None
        if status == 0:
            with open(output, encoding="utf-8") as handle:
                data = json.load(handle)
        return status, data, text

    def flush_with_playbook(self, case):
        """ansible-playbook --flush-cache over the configuration of `case` (ansible-inventory has no --flush-cache before 2.17)."""
        path = os.path.join(self.work, "%s.sendgrid.partners.accounts.yml" % case)
        playbook = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flush.yml")
        command = ["ansible-playbook", "-vvvv", "-i", path, "--flush-cache", playbook]
        environment = dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_NOCOLOR="1",
                           ANSIBLE_INVENTORY_ENABLED="sendgrid.partners.accounts")
        with open(os.path.join(self.work, "%s.log" % case), "ab") as log:
            log.write(("$ %s\n" % " ".join(command)).encode())
            log.flush()
            return subprocess.call(command, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def expect_file(self, case, canonical_data):
        path = os.path.join(self.expected_dir, "%s.json" % case)
        if self.update:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(canonical_data, handle, indent=1, sort_keys=True)
                handle.write("\n")
        with open(path, encoding="utf-8") as handle:
            check(case, "inventory as in expected/%s.json" % case, canonical_data, json.load(handle))


def unwrap(value):
    """The value without ansible-inventory's {"__ansible_unsafe": ...} markers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def canonical(data):
    """{"hostvars": {...}, "groups": {name: {"hosts": [...], "children": [...]}}}, sorted, unsafe markers unwrapped.

    Groups without hosts or children are left out, and so is 'ungrouped' when it is empty (ansible-core versions differ).
    """
    groups = {}
    for name, group in data.items():
        if name == "_meta":
            continue
        entry = {"hosts": sorted(unwrap(group.get("hosts", []))), "children": sorted(unwrap(group.get("children", [])))}
        if entry["hosts"] or entry["children"]:
            groups[name] = entry
    if "ungrouped" not in groups and "all" in groups:
        groups["all"]["children"] = [child for child in groups["all"]["children"] if child != "ungrouped"]
    return {"hostvars": unwrap(data["_meta"]["hostvars"]), "groups": groups}


def check(case, what, actual, expected):
    if actual == expected:
        print("ok   %s: %s" % (case, what))
    else:
        FAILURES.append(case)
        shown = [json.dumps(value, sort_keys=True)[:3000] for value in (actual, expected)]
        print("FAIL %s: %s\n  actual:   %s\n  expected: %s" % (case, what, shown[0], shown[1]))


def api_requests(runner):
    return [(record["operation"], record["query"].get("offset"), record["status"]) for record in runner.requests()]


def plain_hosts(account_ids, group="sendgrid_customers"):
    """The canonical inventory of accounts seeded with nothing but their ID (no opt-in source)."""
    hostvars = {account_id: {"ansible_connection": "local", "sendgrid_account_id": account_id,
                             "sendgrid_created_at": "2026-01-01T00:00:00Z",
                             "sendgrid_account": {"id": account_id, "created_at": "2026-01-01T00:00:00Z"}}
                for account_id in account_ids}
    groups = {"all": {"hosts": [], "children": [group]}}
    if account_ids:
        groups[group] = {"hosts": sorted(account_ids), "children": []}
    return {"hostvars": hostvars, "groups": groups}


def case_paging(runner):
    """250 accounts, pages of 100, each page starting with the last account of the page before (a repeated ID)."""
    every = ids(250)
    runner.reset({account_id: {} for account_id in every},
                 [{"match": {"operation": "ListAccount"}, "action": "mangle", "mode": "overlap_pages", "times": 10}])
    status, data, text = runner.inventory("paging", {})
    check("paging", "exit code", status, 0)
    if data:
        check("paging", "250 hosts, each once", canonical(data), plain_hosts(every))
    check("paging", "three pages, each after the last ID of the one before",
          api_requests(runner), [("ListAccount", None, 200), ("ListAccount", every[99], 200), ("ListAccount", every[198], 200)])


def case_empty(runner):
    runner.reset({})
    status, data, text = runner.inventory("empty", {"group": "resold"})
    check("empty", "exit code", status, 0)
    if data:
        check("empty", "the group, no host", canonical(data), plain_hosts([], "resold"))
    check("empty", "one request", api_requests(runner), [("ListAccount", None, 200)])


def case_pages_missing(runner):
    every = ids(250)
    runner.reset({account_id: {} for account_id in every},
                 [{"match": {"operation": "ListAccount"}, "action": "mangle", "mode": "no_pages", "times": 10}])
    status, data, text = runner.inventory("pages_missing", {})
    check("pages_missing", "exit code", status, 0)
    if data:
        check("pages_missing", "250 hosts", canonical(data), plain_hosts(every))
    check("pages_missing", "the next offset is the last account listed",
          api_requests(runner), [("ListAccount", None, 200), ("ListAccount", every[99], 200), ("ListAccount", every[199], 200)])


KEYED_ACCOUNTS = {
    "sg00000000000000000000000000000a01": {"email": "acme@example.com", "created_at": "2024-03-01T10:00:00Z",
                                           "state": "activated", "generate": {"us": 2},
                                           "offerings": [{"name": "org.ei.pro.v1", "type": "package", "quantity": 1},
                                                         {"name": "org.dedicated_ip.v1", "type": "addon", "quantity": 2}]},
    "sg00000000000000000000000000000b02": {"email": "globex@example.com", "created_at": "2024-04-01T10:00:00Z",
                                           "updated_at": "2025-01-01T00:00:00Z", "state": "suspended",
                                           "ips": [{"ip": "185.0.9.1", "region": "eu"}]},
    "sg00000000000000000000000000000c03": {"email": KEY_PAYLOAD + "@example.com", "state": "activated",
                                           "offerings": [{"name": "org.ei.free.v1", "type": "package"}]},
}
KEYED_CONFIG = {
    "with_state": True, "with_offerings": True, "with_ips": True,
    "keyed_groups": [{"key": "sendgrid_account_state", "prefix": "state"},
                     {"key": "sendgrid_offerings | map(attribute='name')", "prefix": "offering"}],
    "groups": {"dedicated_ip_buyers": "sendgrid_offerings | selectattr('type', 'eq', 'addon') | list | length > 0"},
    "compose": {"sendgrid_ips": "[{'region': 'us', 'total': sendgrid_current_ips.us | length + 1}]"},
}


def case_keyed(runner):
    """Groups by state and offering, a composed policy, and the email that holds a template stays text."""
    runner.reset(KEYED_ACCOUNTS)
    status, data, text = runner.inventory("keyed", KEYED_CONFIG)
    check("keyed", "exit code", status, 0)
    if data:
        runner.expect_file("keyed", canonical(data))
        email = data["_meta"]["hostvars"]["sg00000000000000000000000000000c03"]["sendgrid_account"]["email"]
        check("keyed", "the profile value is marked unsafe in the output", email, {"__ansible_unsafe": KEY_PAYLOAD + "@example.com"})
    operations = sorted(record[0] for record in api_requests(runner))
    check("keyed", "one listing, then one request per account and source",
          operations, ["GetAccountState"] * 3 + ["ListAccount"] + ["ListAccountIps"] * 3 + ["ListAccountOffering"] * 3)


def case_hostname(runner):
    runner.reset(KEYED_ACCOUNTS)
    status, data, text = runner.inventory("hostname", {"hostname": "{{ email.split('@') | first }}-{{ id[-3:] }}"})
    check("hostname", "exit code", status, 0)
    if data:
        runner.expect_file("hostname", canonical(data))
    runner.reset(dict(KEYED_ACCOUNTS, sg00000000000000000000000000000d04={"email": "acme@example.com"}))
    status, data, text = runner.inventory("hostname_collision", {"hostname": "{{ email.split('@') | first }}"})
    check("hostname_collision", "exit code", status != 0, True)
    check("hostname_collision", "the message names both accounts",
          "sendgrid.partners.accounts: accounts sg00000000000000000000000000000a01 and sg00000000000000000000000000000d04 would "
          "both be the host 'acme'; change the hostname template so that it names every account apart" in " ".join(text.split()), True)


def case_cache(runner):
    every = ids(12)
    runner.reset({account_id: {} for account_id in every})
    config = {"with_state": True, "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": os.path.join(runner.work, "cache"), "cache_timeout": 600}
    status, first, text = runner.inventory("cache", config)
    check("cache", "first run reads SendGrid", (status, len(runner.requests())), (0, 13))
    runner.clear_requests()
    status, second, text = runner.inventory("cache", config)
    check("cache", "second run: no request, the same inventory", (status, runner.requests(), second == first), (0, [], True))
    runner.control("POST", "/_sim/accounts", {"accounts": {"sg-new-customer": {"state": "banned"}}})
    status = runner.flush_with_playbook("cache")
    check("cache", "ansible-playbook --flush-cache reads SendGrid again", (status, len(runner.requests())), (0, 14))
    runner.clear_requests()
    status, third, text = runner.inventory("cache", config)
    check("cache", "and the cache it wrote answers the next ansible-inventory", (status, runner.requests()), (0, []))
    if third:
        check("cache", "and sees the new account",
              unwrap(third["_meta"]["hostvars"].get("sg-new-customer", {}).get("sendgrid_account_state")), "banned")
    files = [os.path.join(runner.work, "cache", name) for name in os.listdir(os.path.join(runner.work, "cache"))]
    texts = [open(path, encoding="utf-8").read() for path in files]
    check("cache", "one cache file, with the accounts and without the key",
          (len(files), all("sg-new-customer" in text and runner.key not in text for text in texts)), (1, True))


def case_rate_limited(runner):
    every = ids(20)
    runner.reset({account_id: {} for account_id in every}, [
        {"match": {"operation": "ListAccount"}, "action": "rate_limit", "wait": 0.3, "reset": "seconds"},
        {"match": {"operation": "GetAccountState"}, "action": "rate_limit", "wait": 0.3, "reset": "seconds", "times": 3},
    ])
    status, data, text = runner.inventory("rate_limited", {"with_state": True, "concurrency": 4})
    check("rate_limited", "exit code", status, 0)
    if data:
        states = {host: unwrap(variables.get("sendgrid_account_state")) for host, variables in data["_meta"]["hostvars"].items()}
        check("rate_limited", "every account and its state", states, {account_id: "activated" for account_id in every})
    statuses = sorted((record[0], record[2]) for record in api_requests(runner))
    check("rate_limited", "four 429s, each retried", [item for item in statuses if item[1] == 429],
          [("GetAccountState", 429)] * 3 + [("ListAccount", 429)])
    check("rate_limited", "one warning counting the retries",
          "sendgrid.partners.accounts: 4 requests were rate limited or could not connect, and were retried" in " ".join(text.split()), True)


def case_failed_state(runner):
    every = ids(6)
    faults = [{"match": {"operation": "GetAccountState", "account_id": every[2]}, "action": "error", "status": 500, "times": 5}]
    runner.reset({account_id: {} for account_id in every}, faults)
    status, data, text = runner.inventory("strict_true", {"with_state": True})
    check("strict_true", "the inventory fails", status != 0, True)
    check("strict_true", "with a message naming the account and the answer",
          ("sendgrid.partners.accounts: reading sendgrid_account_state of account %s failed: GET /v3/partners/accounts/%s/state "
           "failed with HTTP 500 Internal Server Error: Something went wrong (error_id 10-50000). With strict: false" % (every[2], every[2]))
          in " ".join(text.split()), True)
    runner.reset({account_id: {} for account_id in every}, faults)
    status, data, text = runner.inventory("strict_false", {"with_state": True, "strict": False})
    check("strict_false", "exit code", status, 0)
    if data:
        with_state = sorted(host for host, variables in data["_meta"]["hostvars"].items() if "sendgrid_account_state" in variables)
        check("strict_false", "every host, the failed one without its state",
              (sorted(data["_meta"]["hostvars"]), with_state), (sorted(every), sorted(set(every) - {every[2]})))
    flat = " ".join(text.split())
    check("strict_false", "one warning with the count",
          (flat.count("per-account requests failed"),
           "sendgrid.partners.accounts: 1 of 6 per-account requests failed (sendgrid_account_state 1), so those hosts lack that "
           "variable and the result was not cached; the first: reading sendgrid_account_state of account %s failed" % every[2] in flat),
          (1, True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--simulator-dir", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--update", action="store_true", help="rewrite expected/*.json from this run (then review them)")
    args = parser.parse_args()
    runner = Runner(args)
    for case in (case_paging, case_empty, case_pages_missing, case_keyed, case_hostname, case_cache, case_rate_limited,
                 case_failed_state):
        case(runner)
    if FAILURES:
        print("inventory cases failed: %s (outputs in %s)" % (", ".join(sorted(set(FAILURES))), args.work))
        return 1
    print("every inventory case passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
