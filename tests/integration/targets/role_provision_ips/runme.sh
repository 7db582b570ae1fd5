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

sim_playbook setup.yml

# run STAGE [ansible-playbook args]: the playbook and its checks; 4 customers fail, so ansible-playbook exits 2.
run() {
    local stage=$1 status=0
    shift
    sim_playbook -i "$ROLE_TEST_DIR/customers.yml" run.yml -e "stage=$stage" \
        -e "sendgrid_report_path=$reports/$stage.json" "$@" >"$ROLE_TEST_DIR/$stage.out" || status=$?
    recap=$(sed -n '/^PLAY RECAP/,$p' "$ROLE_TEST_DIR/$stage.out" | grep -E '^[a-z0-9]+ +: ok=' || true)
    echo "== $stage"
    echo "$recap"
    if ! grep -qE '^localhost +: .* failed=0 ' <<<"$recap"; then
        grep -E -A25 '^(fatal|failed): \[localhost\]|^ERROR|^\[ERROR\]' "$ROLE_TEST_DIR/$stage.out" | cut -c1-2000 >&2 || true
        echo "$stage: the checks failed (full output: $SIM_LOG_DIR/ansible-playbook.log)" >&2
        exit 1
    fi
    [[ $status -eq 2 ]] || { echo "$stage: ansible-playbook exited $status, expected 2 (some hosts failed)" >&2; exit 1; }
    [[ $(wc -l <<<"$recap") -eq 45 ]] || { echo "$stage: expected 45 hosts in the recap" >&2; exit 1; }
    failed=$(awk '!/ failed=0 /{print $1}' <<<"$recap" | sort | xargs)
    [[ $failed == "badarg badval forbidden ghost" ]] || { echo "$stage: failed hosts: $failed" >&2; exit 1; }
}

run check --check
run first
run again
changed=$(awk '!/ changed=0 /{print $1}' <<<"$recap" | xargs)
[[ -z $changed ]] || { echo "again: changed hosts on the rerun: $changed" >&2; exit 1; }
echo "role_provision_ips: check, first and again runs verified"
