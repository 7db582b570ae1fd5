#!/usr/bin/env bash
# sendgrid.partners.add_ips against the simulator (see tests/integration/README.md).
# shellcheck source-path=SCRIPTDIR
source ../setup_simulator/simulator.sh
sim_start
sim_playbook main.yml
# SENDGRID_API_KEY unset, not only empty
(unset SENDGRID_API_KEY; sim_playbook no_api_key.yml)
