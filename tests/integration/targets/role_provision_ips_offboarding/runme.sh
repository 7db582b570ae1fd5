#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# sendgrid.partners.onboard with state absent, a replacement, count, the API key in a variable (not the
# environment), sendgrid_onboard_hosts and a relative report path, against the simulator.
source ../setup_simulator/simulator.sh   # sim_start, sim_playbook (-vvvv; API key leak check on exit)
sim_start

here=$PWD
work=${OUTPUT_DIR:-$(mktemp -d)}/role_provision_ips_offboarding
reports=$SIM_LOG_DIR/reports   # kept with the logs, and checked for the API key like them
mkdir -p "$work/cwd"
# Stages check, first and again: the key reaches the role through sendgrid_api_key only, not the environment.
(umask 077; printf 'sendgrid_api_key: "%s"\n' "$SENDGRID_API_KEY" >"$work/key.yml")

# run STAGE EXPECTED_FAILED_HOSTS [ansible-playbook args]: the playbook and verify.yml; sets $recap.
# Without SENDGRID_API_KEY in the environment unless $env_key is set.
run() {
    local stage=$1 want_failed=$2 status=0 failed
    shift 2
    (
        [[ -n ${env_key:-} ]] || unset SENDGRID_API_KEY
        sim_playbook -i "$here/customers.yml" "$here/run.yml" -e sendgrid_onboard_hosts=offboarding -e "stage=$stage" "$@"
    ) >"$work/$stage.out" || status=$?
    recap=$(sed -n '/^PLAY RECAP/,$p' "$work/$stage.out" | grep -E '^[a-z]+ +: ok=' || true)
    echo "== $stage"
    echo "$recap"
    if ! grep -qE '^localhost +: .* failed=0 ' <<<"$recap"; then
        grep -E -A25 '^(fatal|failed): \[localhost\]|^ERROR|^\[ERROR\]' "$work/$stage.out" | cut -c1-2000 >&2 || true
        echo "$stage: the checks failed (full output: $SIM_LOG_DIR/ansible-playbook.log)" >&2
        exit 1
    fi
    [[ $status -eq 2 ]] || { echo "$stage: ansible-playbook exited $status, expected 2 (a host failed)" >&2; exit 1; }
    failed=$(awk '!/ failed=0 /{print $1}' <<<"$recap" | sort | xargs)
    [[ $failed == "$want_failed" ]] || { echo "$stage: failed hosts: $failed, expected $want_failed" >&2; exit 1; }
}

# The check stage starts from fresh accounts.
for stage in check first again; do
    args=(-e "@$work/key.yml" -e "sendgrid_report_path=$reports/$stage.json" -e "report_file=$reports/$stage.json")
    [[ $stage != check ]] || args+=(--check)
    [[ $stage != again ]] || args+=(--limit '!buyer')
    run "$stage" misplaced "${args[@]}"
done
changed=$(awk '!/ changed=0 /{print $1}' <<<"$recap" | xargs)
[[ -z $changed ]] || { echo "again: changed hosts on the rerun: $changed" >&2; exit 1; }

# An empty key for leaver alone (swapper's comes from the environment), and a report path relative to the
# directory ansible-playbook runs in.
(
    cd "$work/cwd" && env_key=1 run nokey leaver -i "$here/nokey.yml" --limit leaver,swapper,localhost \
        -e sendgrid_report_path=reports/nokey.json -e "report_file=$work/cwd/reports/nokey.json"
)
echo "role_provision_ips_offboarding: check, first and again runs, and nokey, verified"
