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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("run_var", "line_var"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        host = task_vars["inventory_hostname"]
        line = task_vars.get(self._task.args.get("line_var") or "", None)
        own_line = isinstance(line, dict)
        if not own_line:
            run = task_vars.get(self._task.args.get("run_var"))
            line = (run or {}).get("hosts", {}).get(host) if isinstance(run, dict) else None
        if not isinstance(line, dict):
            result.update(failed=True, msg="%s has no outcome in %s: did provision_accounts run for this play's hosts?" % (
                host, self._task.args.get("run_var")))
            return result
        status = line.get("status")
        result["status"] = status
        if status == "failed":
            result.update(failed=True, msg=line.get("error") or "failed without a message")
            return result
        if "regions" in line:  # the per-host line of the report
            ips = {region: part.get("ips") for region, part in line["regions"].items()}
        else:
            ips = line.get("ips", {})
        # A host with its own line ran its own API tasks, which reported the change already.
        facts = {FACT: ips}
        result.update(changed=status == "changed" and not own_line, ansible_facts=facts)
        if VariableLayer is not None:  # ansible-core 2.21+: like set_fact with cacheable
            self.register_host_variables(facts, VariableLayer.CACHEABLE_FACT)
            self.register_host_variables(facts, VariableLayer.EPHEMERAL_FACT)
        return result
