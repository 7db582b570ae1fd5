#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The collection as AWX runs it: every job through ansible-runner in a private data directory of its own, with the
# credential injected into env/envvars, the extra vars in env/extravars and the jsonfile fact cache, against the
# simulator. awx_jobs.py builds the jobs, runs them and checks the outcomes through the simulator's control API:
# a real run (cached facts, credentials from env/envvars only), a check run (its artifact sendgrid_plan), the
# workflow plan job -> artifact -> apply job (IP count for IP count), the same plan in 3 AWX slices (the plan's total
# in all), a stale plan (that customer fails, the others are applied), expired / other-URL / edited / other-key plans
# (refused with 0 requests), two runs at once (the second fails at once) and the API key in no file of any job.
source ../setup_simulator/simulator.sh   # sim_start; on exit: the simulator stopped, the API key looked for in the logs
sim_start
export SIM_ROOT

work=${OUTPUT_DIR:-$(mktemp -d)}/awx_runner
rm -rf "$work"
mkdir -p "$work"
# The job output goes to $SIM_LOG_DIR/ansible-playbook.log and the private data dirs (less the credential's files)
# to $SIM_LOG_DIR/awx-jobs/, both checked for the key on exit.
"$SIM_PYTHON" awx_jobs.py "$work"
