#!/usr/bin/env bash
# sendgrid.partners.remove_ips against the simulator (see tests/integration/README.md).
# shellcheck source-path=SCRIPTDIR
source ../setup_simulator/simulator.sh
sim_start
sim_playbook main.yml
