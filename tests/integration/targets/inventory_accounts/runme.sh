#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The inventory plugin sendgrid.partners.accounts: ansible-inventory --list against the simulator, compared with
# expected JSON (cases.py: paging of 250 accounts with a repeated ID, no accounts, pages missing, keyed groups by
# state and offering, a hostname template and its collision, a profile value holding {{, the cache and
# --flush-cache, 429s, a 5xx on one account's state with strict true and false), then one play over such an
# inventory (templated.yml). On exit the API key must be in no output, log or cache file (simulator.sh).
source ../setup_simulator/simulator.sh   # sim_start, sim_playbook (-vvvv; API key leak check on exit)
sim_start

here=$PWD
work=$SIM_LOG_DIR/inventory   # every ansible-inventory output, config and cache file: checked for the key on exit
mkdir -p "$work"
"$SIM_PYTHON" "$here/cases.py" --simulator-dir "$SIM_ROOT/tests/simulator" --expected "$here/expected" --work "$work"

# A play over the plugin's inventory: a profile value holding {{ ... }} reaches the play as it is, never templated.
cat >"$work/play.sendgrid.partners.accounts.yml" <<'YAML'
plugin: sendgrid.partners.accounts
with_state: true
keyed_groups:
  - key: sendgrid_account_state
    prefix: state
YAML
sim_playbook -i "$work/play.sendgrid.partners.accounts.yml" "$here/templated.yml"
echo "inventory_accounts: every case verified"
