# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One customer host's outcome of a play-wide provision_accounts run: its fact, changed, or its failure.

The variables are read from task_vars by name, not templated: each customer host runs this once, and templating a
play-wide result per host costs milliseconds each, seconds per thousand hosts.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

try:  # ansible-core 2.21+
    from ansible.plugins.action import VariableLayer
except ImportError:
    VariableLayer = None

FACT = "sendgrid_partners_ips"


def outcome_of(host, run, own_line, run_var):
    """The task result for host: from its own line (per-host mode) if it has one, else from run's hosts."""
    line = own_line if isinstance(own_line, dict) else None
    if line is None and isinstance(run, dict) and isinstance(run.get("hosts"), dict):
        line = run["hosts"].get(host)
    if not isinstance(line, dict):
        return {"failed": True, "msg": "%s has no outcome in %s: did provision_accounts run for this play's hosts?" % (host, run_var)}
    status = line.get("status")
    if status == "failed":
        return {"failed": True, "status": status, "msg": line.get("error") or "failed without a message"}
    if isinstance(line.get("regions"), dict):  # the per-host line of the report
        ips = {region: part.get("ips") for region, part in line["regions"].items()}
    else:
        ips = line.get("ips") or {}
    # A host with its own line ran its own API tasks, which reported the change already.
    return {"status": status, "changed": status == "changed" and own_line is not line, "ansible_facts": {FACT: ips}}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("run_var", "line_var"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        run_var = self._task.args.get("run_var")
        result.update(outcome_of(task_vars["inventory_hostname"], task_vars.get(run_var),
                                 task_vars.get(self._task.args.get("line_var") or ""), run_var))
        if "ansible_facts" in result and VariableLayer is not None:  # ansible-core 2.21+: like set_fact with cacheable
            self.register_host_variables(result["ansible_facts"], VariableLayer.CACHEABLE_FACT)
            self.register_host_variables(result["ansible_facts"], VariableLayer.EPHEMERAL_FACT)
        return result
