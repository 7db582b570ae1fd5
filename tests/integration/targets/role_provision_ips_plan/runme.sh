#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The plan and the spend cap of sendgrid.partners.onboard (the role provision_ips) on 41 customers against the
# simulator: a plan of 59 IPs refused one IP above the cap, shown by --check --diff, applied with the cap exactly
# met (and matching the check run IP for IP), count entries counted toward the cap, HTTP 429 waited out, and the
# cap in per-host mode and over two API URLs. ghost (no account) fails alone every time. See verify.yml.
source ../setup_simulator/simulator.sh   # sim_start, sim_playbook (-vvvv; API key leak check on exit)
sim_start

PLAN_TEST_DIR=${OUTPUT_DIR:-$(mktemp -d)}/role_provision_ips_plan
mkdir -p "$PLAN_TEST_DIR"
export PLAN_TEST_DIR ANSIBLE_FORKS=${ANSIBLE_FORKS:-16}
reports=$SIM_LOG_DIR/reports   # kept with the logs, and checked for the API key like them

sim_playbook setup.yml

# run STAGE EXPECTED_FAILED_HOSTS [ansible-playbook args]: the playbook and verify.yml; ansible-playbook exits 2
# (ghost fails every time). Sets $recap, and $output: the run's -vvvv output.
run() {
    local stage=$1 want_failed=$2 status=0 start=$SECONDS failed out=$PLAN_TEST_DIR/$1.out
    local log=$SIM_LOG_DIR/ansible-playbook.log
    local from
    from=$(wc -l <"$log")
    shift 2
    sim_playbook -i "$PLAN_TEST_DIR/customers.yml" run.yml -e "stage=$stage" \
        -e "sendgrid_report_path=$reports/$stage.json" "$@" >"$out" || status=$?
    output=$PLAN_TEST_DIR/$stage.log
    tail -n +"$((from + 1))" "$log" >"$output"
    recap=$(sed -n '/^PLAY RECAP/,$p' "$out" | grep -E '^[a-z0-9]+ +: ok=' || true)
    echo "== $stage ($((SECONDS - start)) s)"
    grep -E '^(localhost|ghost|p0[1-3]) ' <<<"$recap"
    if ! grep -qE '^localhost +: .* failed=0 ' <<<"$recap"; then
        grep -E -A25 '^(fatal|failed): \[localhost\]|^ERROR|^\[ERROR\]' "$out" | cut -c1-2000 >&2 || true
        echo "$stage: the checks failed (full output: $SIM_LOG_DIR/ansible-playbook.log)" >&2
        exit 1
    fi
    [[ $status -eq 2 ]] || { echo "$stage: ansible-playbook exited $status, expected 2 (hosts failed)" >&2; exit 1; }
    [[ $(wc -l <<<"$recap") -eq 42 ]] || { echo "$stage: expected 42 hosts in the recap" >&2; exit 1; }
    failed=$(awk '!/ failed=0 /{print $1}' <<<"$recap" | sort | xargs)
    [[ $failed == "$want_failed" ]] || { echo "$stage: failed hosts: $failed, expected: $want_failed" >&2; exit 1; }
}

all=$(sed -n 's/^    \([a-z0-9]*\):$/\1/p' "$PLAN_TEST_DIR/customers.yml" | sort | xargs)
[[ $(wc -w <<<"$all") -eq 41 ]] || { echo "customers.yml: expected 41 customers, got: $all" >&2; exit 1; }
# shown TEXT: the last run printed TEXT (the plan is shown once, before anything is bought).
shown() {
    grep -qF "$1" "$output" || { echo "the output of the last run ($output) lacks: $1"; exit 1; }
}

run breach "$all" -e sendgrid_max_new_ips=58
shown '"The plan adds 59 new IPs, above the cap of 58 (max_new_ips; sendgrid_max_new_ips in the role), so nothing was bought for any customer.'

run check ghost --check --diff -e sendgrid_max_new_ips=59
shown 'Plan for 41 customers: 32 to change, 1 failed before any change; add 59 IPs (us 35, eu 24), remove 0 IPs.'
shown '"p01 eu: [] -> [(new IP 1 of 2), (new IP 2 of 2)]"'
# In check mode each customer that would change says so in the recap; p04, p09... (nothing to do) do not.
changed=$(awk '!/ changed=0 /{print $1}' <<<"$recap" | xargs)
[[ $(wc -w <<<"$changed") -eq 32 && $changed != *p04* ]] || { echo "check: changed hosts: $changed"; exit 1; }

run exact ghost -e sendgrid_max_new_ips=59 -e "check_report=$reports/check.json"
shown 'Spend cap: 59 of at most 59 new IPs.'

run counts "$all" -e sendgrid_max_new_ips=7
run ratelimit ghost -e sendgrid_max_new_ips=59
run groups-breach "$all" -e sendgrid_max_new_ips=58 -i "$PLAN_TEST_DIR/second_url.yml"
run groups-exact ghost -e sendgrid_max_new_ips=59 -i "$PLAN_TEST_DIR/second_url.yml"
echo "role_provision_ips_plan: breach, check, exact, counts, ratelimit, groups-breach and groups-exact verified"
