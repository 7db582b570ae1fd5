# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One customer host's outcome of a play-wide provision_accounts run: its fact, changed, or its failure.

The variables are read from task_vars by name, not templated: each customer host runs this once, and templating
even one option per host costs ansible-core 2.19 about 12 ms a host (measured: 1,000 hosts, 25.6 s without, 38.2 s
with a "{{ flag }}" option), more than the rest of the task.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.21+
    from ansible.plugins.action import VariableLayer
except ImportError:
    VariableLayer = None

FACT = "sendgrid_partners_ips"


def outcome_of(host, run, run_var, defer_failure=False):
    """The task result for host from the play-wide result run: its fact, changed, or its failure (deferred: not yet)."""
    line = run["hosts"].get(host) if isinstance(run, dict) and isinstance(run.get("hosts"), dict) else None
    if not isinstance(line, dict):
        return {"failed": True, "msg": "%s has no outcome in %s: did provision_accounts run for this play's hosts?" % (host, run_var)}
    if line.get("status") == "failed":
        error = line.get("error") or "failed without a message"
        if defer_failure:
            return {"status": "failed", "changed": False, "msg": "failed, and fails in a later play: %s" % error}
        return {"failed": True, "status": "failed", "msg": error}
    return {"status": line.get("status"), "changed": line.get("status") == "changed", "ansible_facts": {FACT: line.get("ips") or {}}}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("run_var", "defer_failure_var"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        run_var = self._task.args.get("run_var")
        defer_failure_var = self._task.args.get("defer_failure_var")
        defer_failure = bool(defer_failure_var) and boolean(task_vars.get(defer_failure_var, False), strict=False)
        result.update(outcome_of(task_vars["inventory_hostname"], task_vars.get(run_var), run_var, defer_failure))
        if "ansible_facts" in result and VariableLayer is not None:  # ansible-core 2.21+: like set_fact with cacheable
            self.register_host_variables(result["ansible_facts"], VariableLayer.CACHEABLE_FACT)
            self.register_host_variables(result["ansible_facts"], VariableLayer.EPHEMERAL_FACT)
        return result
