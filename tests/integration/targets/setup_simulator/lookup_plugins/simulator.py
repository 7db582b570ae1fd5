# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only lookup: the SendGrid simulator's control API, in the controller process.

A lookup instead of ansible.builtin.uri because it runs without starting a module (a case's
reset or reading costs milliseconds, not a second). simulator.sh puts this directory on
ANSIBLE_LOOKUP_PLUGINS.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: simulator
short_description: Call the SendGrid simulator's control API (integration tests only)
description:
  - C(reset) replaces every account with O(accounts), clears the request log and faults, then
    injects O(faults). C(clear_requests) clears the request log. C(requests) returns the request
    log. C(accounts) returns every account's IPs.
  - The simulator's base URL is the environment variable E(SENDGRID_API_URL).
options:
  _terms:
    description: One of C(reset), C(clear_requests), C(requests), C(accounts).
    required: true
  accounts:
    description: Accounts for C(reset), as in the simulator's README.
    type: dict
    default: {}
  faults:
    description: Faults for C(reset), as in the simulator's README.
    type: list
    default: []
"""

import json
import os
import urllib.request

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase


def control(method, path, body=None):
    base = os.environ.get("SENDGRID_API_URL")
    if not base:
        raise AnsibleError("SENDGRID_API_URL is not set: start the simulator first (simulator.sh)")
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(base + "/_sim" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(request, timeout=10) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except OSError as exc:
        raise AnsibleError("simulator control call %s /_sim%s failed: %s" % (method, path, exc)) from None


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleError("lookup('simulator', OPERATION): exactly one operation")
        operation = terms[0]
        if operation == "reset":
            control("POST", "/reset", {"accounts": self.get_option("accounts")})
            if self.get_option("faults"):
                control("POST", "/faults", {"faults": self.get_option("faults")})
            return [True]
        if operation == "clear_requests":
            control("DELETE", "/requests")
            return [True]
        if operation == "requests":
            return [control("GET", "/requests")["requests"]]
        if operation == "accounts":
            return [control("GET", "/accounts")["accounts"]]
        raise AnsibleError("lookup('simulator'): unknown operation %r" % operation)
