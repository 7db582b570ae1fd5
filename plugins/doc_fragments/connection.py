# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options and shared attributes of every sendgrid.partners module."""

    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - A SendGrid API key of the reseller (partner) account, with the IP provisioning scope.
      - If not set, the value of the E(SENDGRID_API_KEY) environment variable is used. One of the two is required.
      - The key is sent only in the C(Authorization) header and never appears in the output.
    type: str
  api_url:
    description:
      - Base URL of the SendGrid API.
      - Use V(https://api.eu.sendgrid.com) for EU regional accounts. Any base URL works, for example a proxy or a test simulator.
      - If not set, the value of the E(SENDGRID_API_URL) environment variable is used, else V(https://api.sendgrid.com).
      - An empty or blank value (as AWX renders an empty credential field) counts as not set.
    type: str
    default: https://api.sendgrid.com
  timeout:
    description:
      - Seconds to wait for each HTTP request (to connect, and between bytes of the answer).
      - A POST or DELETE that times out is never sent again blindly; see the module's notes.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only for a test server.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the server with, for a TLS-inspecting proxy or a private CA.
    type: path
  max_retries:
    description:
      - How many times one request may be repeated when it provably was not processed, that is after
        an HTTP 429 answer (waiting until C(X-RateLimit-Reset), at most 60 seconds, with jitter) or when
        the connection could not be opened. Each retry shows as a warning.
      - Nothing else is ever retried. Set V(0) to fail at the first such answer.
    type: int
    default: 3
notes:
  - All modules of this collection are in the action group C(sendgrid.partners.partners), so
    O(api_key) and O(api_url) can be set once for a play with C(module_defaults) and
    C(group/sendgrid.partners.partners).
requirements:
  - requests >= 2.25 on the host that runs the module (normally the controller, with C(delegate_to=localhost)).
"""

    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/sendgrid.partners.partners) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sendgrid.partners.partners
"""
