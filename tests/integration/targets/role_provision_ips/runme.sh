#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# sendgrid.partners.onboard (the role provision_ips) on 44 customers against the simulator: a check-mode
# run, a first run, and a rerun that must change nothing. 4 customers fail, each alone: see setup.yml.
source ../setup_simulator/simulator.sh   # sim_start, sim_playbook (-vvvv; API key leak check on exit)
sim_start

ROLE_TEST_DIR=${OUTPUT_DIR:-$(mktemp -d)}/role_provision_ips
mkdir -p "$ROLE_TEST_DIR"
export ROLE_TEST_DIR ANSIBLE_FORKS=${ANSIBLE_FORKS:-16}
reports=$SIM_LOG_DIR/reports   # kept with the logs, and checked for the API key like them

# run NAME STAGE [ansible-playbook args]: the playbook and its checks; 4 customers fail, so ansible-playbook exits 2.
run() {
    local name=$1 stage=$2 status=0
    shift 2
    local start=$SECONDS
    sim_playbook -i "$ROLE_TEST_DIR/customers.yml" run.yml -e "stage=$stage" \
        -e "sendgrid_report_path=$reports/$name.json" "$@" >"$ROLE_TEST_DIR/$name.out" || status=$?
    recap=$(sed -n '/^PLAY RECAP/,$p' "$ROLE_TEST_DIR/$name.out" | grep -E '^[a-z0-9]+ +: ok=' || true)
    echo "== $name ($((SECONDS - start)) s)"
    echo "$recap"
    if ! grep -qE '^localhost +: .* failed=0 ' <<<"$recap"; then
        grep -E -A25 '^(fatal|failed): \[localhost\]|^ERROR|^\[ERROR\]' "$ROLE_TEST_DIR/$name.out" | cut -c1-2000 >&2 || true
        echo "$name: the checks failed (full output: $SIM_LOG_DIR/ansible-playbook.log)" >&2
        exit 1
    fi
    [[ $status -eq 2 ]] || { echo "$name: ansible-playbook exited $status, expected 2 (some hosts failed)" >&2; exit 1; }
    [[ $(wc -l <<<"$recap") -eq 45 ]] || { echo "$name: expected 45 hosts in the recap" >&2; exit 1; }
    failed=$(awk '!/ failed=0 /{print $1}' <<<"$recap" | sort | xargs)
    [[ $failed == "badarg badval forbidden ghost" ]] || { echo "$name: failed hosts: $failed" >&2; exit 1; }
    # They fail in the playbook's play of the failed customers, not within the play of all customers.
    late=$(sed -n '/^PLAY \[Fail the customers whose provisioning failed\]/,/^PLAY RECAP/p' "$ROLE_TEST_DIR/$name.out" |
        sed -n 's/^fatal: \[\([a-z0-9]*\)\].*/\1/p' | sort | xargs)
    [[ $late == "$failed" ]] || { echo "$name: hosts failed in the play of the failed customers: '$late'" >&2; exit 1; }
}

# The recap of a rerun with nothing to do: changed=0 on every host.
unchanged() {
    changed=$(awk '!/ changed=0 /{print $1}' <<<"$recap" | xargs)
    [[ -z $changed ]] || { echo "$1: changed hosts on the rerun: $changed" >&2; exit 1; }
}

sim_playbook setup.yml
run check check --check
run first first
run again again
unchanged again
echo "role_provision_ips: check, first and again runs verified"
