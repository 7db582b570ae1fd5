# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench --profile: where the time of one ansible-playbook run goes, task by task.

Enabled by bench/bench.py only (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_profile).
Writes BENCH_PROFILE_PATH as JSON when the playbook ends: for every task, its wall time (from its start to the next
task's start or the end of the play), the CPU time the controller used meanwhile (ansible-playbook itself plus the
workers and modules it reaped, from os.times(): a worker reaped late is counted in the next task), and the host results.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_profile
type: aggregate
short_description: Wall and CPU time per task, for make bench
description:
  - Writes the JSON file named by the environment variable E(BENCH_PROFILE_PATH) at the end of the playbook.
requirements:
  - enabled in the configuration (callbacks_enabled)
"""


def _cpu():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("BENCH_PROFILE_PATH")
        self._origin = float(os.environ.get("BENCH_START_EPOCH") or time.time())
        self._created = time.time() - self._origin
        self._tasks = []
        self._current = None

    def _close_current(self):
        if self._current is not None:
            self._current["wall_s"] = round(time.time() - self._origin - self._current["start_s"], 4)
            self._current["cpu_s"] = round(_cpu() - self._current.pop("_cpu0"), 4)
            self._tasks.append(self._current)
            self._current = None

    def _start(self, name, action):
        self._close_current()
        self._current = {"name": name, "action": action, "start_s": round(time.time() - self._origin, 4),
                         "_cpu0": _cpu(), "results": {}}

    def _count(self, kind):
        if self._current is not None:
            self._current["results"][kind] = self._current["results"].get(kind, 0) + 1

    def v2_playbook_on_play_start(self, play):
        self._start("(play start: %s)" % play.get_name(), "play")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task.get_name(), task.action)

    def v2_playbook_on_handler_task_start(self, task):
        self._start("(handler) " + task.get_name(), task.action)

    def v2_runner_on_ok(self, result):
        self._count("changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count("failed")

    def v2_runner_on_skipped(self, result):
        self._count("skipped")

    def v2_runner_on_unreachable(self, result):
        self._count("unreachable")

    def v2_runner_item_on_ok(self, result):
        self._count("item_ok")

    def v2_playbook_on_stats(self, stats):
        self._close_current()
        if not self._path:
            return
        with open(self._path, "w", encoding="utf-8") as handle:
            json.dump({"callback_loaded_s": round(self._created, 4),
                       "stats_s": round(time.time() - self._origin, 4),
                       "cpu_s": round(_cpu(), 4),
                       "tasks": self._tasks}, handle, indent=1)
