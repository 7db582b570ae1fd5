#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The one engine of sendgrid.partners.onboard against the simulator: entry order and removals without region, IPs
# not found, a total above 5,000 (two pages of IPs), the plan printed before the first POST (output lines stamped with
# the time they were printed, against the time the simulator received each request), progress lines in a run longer
# than the progress interval, and the API key and URL from module_defaults. check.py verifies each run.
source ../setup_simulator/simulator.sh   # sim_start, sim_playbook (-vvvv; API key leak check on exit)
sim_start

here=$PWD
out=$SIM_LOG_DIR/outputs   # kept with the logs, and checked for the API key like them
mkdir -p "$out"

# stamped NAME EXPECTED_STATUS PLAYBOOK [ansible-playbook args]: the run's output, each line stamped when printed.
stamped() {
    local name=$1 want=$2 status=0
    shift 2
    echo "== $name: ansible-playbook $*"
    set +e
    PYTHONUNBUFFERED=1 ansible-playbook "$@" 2>&1 | "$SIM_PYTHON" -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), line))' >"$out/$name.txt"
    status=${PIPESTATUS[0]}
    set -e
    sed -n '/^PLAY RECAP/,$p' "$out/$name.txt" | cut -d' ' -f2-
    [[ $status -eq $want ]] || { tail -n 60 "$out/$name.txt" >&2; echo "$name: exit $status, expected $want" >&2; exit 1; }
}

sim_playbook setup.yml -e stage=engine
stamped check 0 sendgrid.partners.onboard -i customers.yml -e sendgrid_onboard_hosts=engine --check
"$SIM_PYTHON" check.py check "$out/check.txt"
stamped engine 0 sendgrid.partners.onboard -i customers.yml -e sendgrid_onboard_hosts=engine \
    -e "sendgrid_report_path=$out/engine.json"
"$SIM_PYTHON" check.py engine "$out/engine.txt" "$out/engine.json"

sim_playbook setup.yml -e stage=slow
stamped slow 0 sendgrid.partners.onboard -i slow.yml -e sendgrid_onboard_hosts=slow
"$SIM_PYTHON" check.py slow "$out/slow.txt"

# module_defaults: no key in the environment, the key read from a file the playbook names.
sim_playbook setup.yml -e stage=engine
(umask 077; printf '%s' "$SENDGRID_API_KEY" >"$OUTPUT_DIR/key")
(
    unset SENDGRID_API_KEY
    stamped defaults 0 -i customers.yml "$here/defaults.yml" -e "key_file=$OUTPUT_DIR/key" -e "sim_url=$SENDGRID_API_URL" \
        -e "sendgrid_report_path=$out/defaults.json"
    "$SIM_PYTHON" check.py engine "$out/defaults.txt" "$out/defaults.json"
)
echo "role_provision_ips_engine: check, engine, slow (progress) and module_defaults runs verified"
