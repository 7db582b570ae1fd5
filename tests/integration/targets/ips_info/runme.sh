#!/usr/bin/env bash
# sendgrid.partners.ips_info against the simulator (see tests/integration/README.md).
# shellcheck source-path=SCRIPTDIR
source ../setup_simulator/simulator.sh
sim_start
sim_playbook main.yml
