#!/usr/bin/env bash
# make demo: build and install the collection, start the simulator from its seed, run
# `ansible-playbook sendgrid.partners.onboard -i playbooks/inventory/example.yml` twice (the second run
# changes nothing) and print each run's plan and what each customer got. Everything lives under build/demo and .venv/demo.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
demo=build/demo
rm -rf "$demo"
mkdir -p "$demo"

# Python 3.11 venv with the ansible-core and requests that the 2.19 tests pin.
grep -hE '^(ansible-core|requests)==' tests/requirements-core-2.19.txt tests/requirements-test.txt >"$demo/requirements.txt"
venv=$(hack/venv.sh demo 3.11 "$demo/requirements.txt")
PATH=$venv/bin:$PATH

# The installed tarball, not the work tree, is what the playbook runs.
ansible-galaxy collection build --force --output-path "$demo" . >/dev/null
export ANSIBLE_COLLECTIONS_PATH=$repo/$demo/collections
ansible-galaxy collection install --force -p "$ANSIBLE_COLLECTIONS_PATH" "$demo"/sendgrid-partners-*.tar.gz >/dev/null

# The simulator, from the seed (no state file yet), stopped by its PID whatever happens.
trap 'python tests/simulator/simctl.py stop --dir "$demo/simulator"' EXIT
eval "$(python tests/simulator/simctl.py start --dir "$demo/simulator" --api-key demo-key \
    --seed tests/simulator/example_seed.yml --state "$demo/simulator/state.json")"
export SENDGRID_API_KEY=demo-key   # SENDGRID_API_URL comes from simctl
echo "simulator: $SENDGRID_API_URL (pid $SENDGRID_SIM_PID)"

for run in 1 2; do
    echo "== run $run: ansible-playbook sendgrid.partners.onboard -i playbooks/inventory/example.yml"
    ansible-playbook sendgrid.partners.onboard -i playbooks/inventory/example.yml \
        -e "sendgrid_report_path=$demo/reports/run$run.json"
done

echo "== what each customer holds (report: $demo/reports/run1.json and .csv; run 2 added nothing)"
python - "$demo/reports/run1.json" "$demo/reports/run2.json" <<'PY'
import json
import sys

first, second = (json.load(open(path)) for path in sys.argv[1:])
for run, report in (("run 1", first), ("run 2", second)):
    print("plan, %s (before any purchase, cap %d):" % (run, report["plan"]["max_new_ips"]))
    for line in report["plan"]["summary"]:
        print("    " + line)
print("%-10s %-36s %-8s %-40s %s" % ("customer", "account", "run 1", "us IPs (+ added)", "eu IPs (+ added)"))
for customer in first["customers"]:
    cells = []
    for region in ("us", "eu"):
        line = customer["regions"].get(region)
        cells.append("-" if line is None else "%s (+%d)" % (" ".join(line["ips"]) or "none", line["added"]))
    print("%-10s %-36s %-8s %-40s %s" % (customer["host"], customer["account_id"], customer["status"], *cells))
    if customer["error"]:
        print("    error: " + customer["error"])
summary = second["summary"]
print("run 2: %d changed, %d failed, %d IPs added" % (summary["changed"], summary["failed"], summary["ips_added"]))
sys.exit(0 if summary["changed"] == summary["ips_added"] == second["plan"]["add_total"] == 0 else 1)
PY

# The same simulator's accounts as a dynamic inventory: the plugin sendgrid.partners.accounts reads every account
# (state and offerings too), and group_vars keyed on the dedicated IP add-on's quantity say how many IPs each gets.
accounts=playbooks/inventory/accounts/customers.sendgrid.partners.accounts.yml
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true   # an inventory that cannot be read fails the command, as in AWX
echo "== run 3: ansible-playbook sendgrid.partners.onboard -i $accounts"
echo "   activated customers with the dedicated IP add-on; policy: playbooks/inventory/accounts/group_vars/dedicated_ips_N.yml"
ansible-playbook sendgrid.partners.onboard -i "$accounts" -e 'sendgrid_onboard_hosts=sendgrid_customers:&state_activated:!dedicated_ips_0' \
    -e "sendgrid_report_path=$demo/reports/run3.json"
python - "$demo/reports/run3.json" <<'PY'
import json
import sys

report = json.load(open(sys.argv[1]))
print("run 3 plan: " + " ".join(report["plan"]["summary"]))
print("%-10s %-36s %-8s %s" % ("customer", "account", "run 3", "IPs held afterwards (+ added)"))
for customer in report["customers"]:
    held = ", ".join("%s: %s (+%d)" % (region, " ".join(line["ips"]) or "none", line["added"])
                     for region, line in sorted(customer["regions"].items())) or "no dedicated IP asked for"
    print("%-10s %-36s %-8s %s" % (customer["host"], customer["account_id"], customer["status"], held))
summary = report["summary"]
print("run 3: %d changed, %d failed, %d IPs added" % (summary["changed"], summary["failed"], summary["ips_added"]))
sys.exit(1 if summary["failed"] or "hooli" in [customer["host"] for customer in report["customers"]] else 0)
PY
echo "== ansible-inventory -i $accounts --graph"
ansible-inventory -i "$accounts" --graph
