# shellcheck shell=bash
# Sourced by the runme.sh of integration targets that talk to the SendGrid simulator.
# See tests/integration/README.md. In short, from the target's directory:
#   source ../setup_simulator/simulator.sh
#   sim_start                          # simulator on a free port, random API key, EXIT trap
#   sim_playbook main.yml [ARGS...]    # ansible-playbook -vvvv, output also in the target's log
# On exit the simulator is stopped by its PID, and the run fails if the API key or its base64 form
# appears in any ansible-playbook log, the simulator's log or a junit report.

set -euo pipefail

SIM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The collection root; under ansible-test, its temporary copy holding the needs/file files.
SIM_ROOT=$(cd "$SIM_HERE/../../../.." && pwd)
SIM_PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
SIM_INVENTORY=$SIM_HERE/inventory.yml
SIM_TASKS=$SIM_HERE/tasks
SIM_TARGET=$(basename "$PWD")
# Kept after the run (ansible-test's tests/output/logs, copied back by hack/ansible-test.sh).
SIM_LOG_DIR=$(dirname "${JUNIT_OUTPUT_DIR:-$SIM_ROOT/tests/output/junit}")/logs/integration-$SIM_TARGET
export SIM_INVENTORY SIM_TASKS SIM_LOG_DIR
# lookup('simulator', ...): the control API without starting a module per call
export ANSIBLE_LOOKUP_PLUGINS=$SIM_HERE/lookup_plugins

sim_random_key() {
    printf '%s-%s' "$1" "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
}

sim_start() {
    rm -rf "$SIM_LOG_DIR"
    mkdir -p "$SIM_LOG_DIR"
    # Throwaway keys that look nothing like a real SendGrid key (SG.xxx.yyy).
    SENDGRID_API_KEY=$(sim_random_key simkey)
    SIM_WRONG_API_KEY=$(sim_random_key wrongkey)
    export SENDGRID_API_KEY SIM_WRONG_API_KEY
    trap sim_finish EXIT
    local exports
    exports=$("$SIM_PYTHON" "$SIM_ROOT/tests/simulator/simctl.py" start --dir "$SIM_LOG_DIR/simulator" \
        --api-key "$SENDGRID_API_KEY" --verbose)
    eval "$exports"   # SENDGRID_API_URL, SENDGRID_SIM_PID
    echo "simulator: $SENDGRID_API_URL (pid $SENDGRID_SIM_PID), logs in $SIM_LOG_DIR"
}

# The -vvvv output goes to the log only (hundreds of kB); the console gets the recap, or the log's end on failure.
sim_playbook() {
    local log=$SIM_LOG_DIR/ansible-playbook.log start=0 status=0
    [[ -f $log ]] && start=$(wc -l <"$log")
    echo "ansible-playbook $* (-vvvv output in $log)"
    ansible-playbook -i "$SIM_INVENTORY" -vvvv "$@" >>"$log" 2>&1 || status=$?
    if [[ $status -eq 0 ]]; then
        tail -n +"$((start + 1))" "$log" | sed -n '/^PLAY RECAP/,$p'
    else
        tail -n +"$((start + 1))" "$log" | tail -n 300
    fi
    return "$status"
}

# Every base64 text that contains $1 contains one of these (one per alignment), minus padding.
sim_base64_forms() {
    local pad encoded
    for pad in "" x xx; do
        encoded=$(printf '%s%s' "$pad" "$1" | base64 -w0)
        [[ -z $pad ]] || encoded=${encoded:4}
        printf '%s\n' "${encoded:0:${#encoded}-4}"
    done
}

sim_check_leaks() {
    local patterns=() places=("$SIM_LOG_DIR") key status=0
    for key in "$SENDGRID_API_KEY" "$SIM_WRONG_API_KEY"; do
        patterns+=(-e "$key")
        while read -r form; do patterns+=(-e "$form"); done < <(sim_base64_forms "$key")
    done
    [[ -d ${JUNIT_OUTPUT_DIR:-} ]] && places+=("$JUNIT_OUTPUT_DIR")
    [[ -s $SIM_LOG_DIR/ansible-playbook.log ]] || { echo "LEAK CHECK: no ansible-playbook output to check" >&2; return 1; }
    grep -rlF "${patterns[@]}" "${places[@]}" || status=$?
    case $status in
        0) echo "LEAK: an API key (or its base64 form) is in the files above" >&2; return 1 ;;
        1) echo "leak check: no API key in ${places[*]}" ;;
        *) echo "LEAK CHECK: grep failed" >&2; return 1 ;;
    esac
    # The simulator flags a request that carried the key anywhere but the Authorization header.
    if grep -lF '"key_elsewhere": true' "$SIM_LOG_DIR/simulator/requests.jsonl"; then
        echo "LEAK: a request sent the API key outside the Authorization header" >&2
        return 1
    fi
}

sim_finish() {
    local status=$?
    "$SIM_PYTHON" "$SIM_ROOT/tests/simulator/simctl.py" stop --dir "$SIM_LOG_DIR/simulator" || status=1
    sim_check_leaks || status=1
    echo "$SIM_TARGET: exit $status after $SECONDS s"
    exit "$status"
}
