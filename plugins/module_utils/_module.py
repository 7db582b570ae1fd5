# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of this collection shares: the connection options, building the client,
checking input before any request, and turning client errors into fail_json.

Internal to the collection (hence the leading underscore): no stable API for other collections.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    InvalidRequestError,
    SendGridClient,
    SendGridError,
    account_path,
    ipv4_or_none,
)

CONNECTION_ARGUMENT_SPEC = {
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["SENDGRID_API_KEY"])},
    "api_url": {"type": "str", "fallback": (env_fallback, ["SENDGRID_API_URL"]), "default": DEFAULT_API_URL},
    "timeout": {"type": "float", "default": 30.0},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "max_retries": {"type": "int", "default": 3},
}


def api_url_or_default(value):
    """value, or the default API URL when value is unset: None, '' or only blanks.

    AWX/Automation Controller renders an empty credential field as '', so SENDGRID_API_URL='' (or api_url: '')
    means "not set", not "a URL".
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_API_URL
    return value


def build_module(argument_spec, **kwargs):
    """An AnsibleModule whose spec is the module's own plus the connection options."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, **kwargs)
    module.params["api_url"] = api_url_or_default(module.params.get("api_url"))
    return module


MAX_TIMEOUT = 3600


def base_url_ok(value):
    try:
        url = urlsplit(value or "")
        port_ok = url.port is None or 0 < url.port < 65536
    except ValueError:  # "http://[::1" or a port that is not a number
        return False
    return port_ok and url.scheme in ("http", "https") and bool(url.netloc) and not url.query and not url.fragment


def connection_problems(params):
    """What is wrong with the connection options, as messages naming option and value."""
    problems = []
    if not params.get("api_key"):
        problems.append("api_key is required: set the api_key option or the SENDGRID_API_KEY environment variable")
    api_url = api_url_or_default(params.get("api_url"))
    if not base_url_ok(api_url):
        problems.append("api_url %r is not a base URL: use https://api.sendgrid.com, https://api.eu.sendgrid.com or http(s)://host[:port]"
                        % api_url)
    if not 0 < params["timeout"] <= MAX_TIMEOUT:
        problems.append("timeout must be a number of seconds above 0 and at most %d, got %s" % (MAX_TIMEOUT, params["timeout"]))
    if params["max_retries"] < 0:
        problems.append("max_retries must be 0 or more, got %s" % params["max_retries"])
    return problems


def as_int(value):
    """value as an int if it is one, or a string of digits (templated values arrive as strings); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        return int(value.strip())
    return None


def int_problem(name, value, minimum, maximum=None):
    """A message naming the option, the value and the range when value is not an integer in range, else None."""
    if value is None:
        return None
    number = as_int(value)
    if number is None or number < minimum or (maximum is not None and number > maximum):
        allowed = "an integer from %d to %d" % (minimum, maximum) if maximum is not None else "an integer of %d or more" % minimum
        return "%s must be %s, got %r" % (name, allowed, value)
    return None


def account_id_problem(account_id):
    try:
        account_path(account_id)
    except InvalidRequestError as exc:
        return str(exc)
    return None


def ipv4_problems(name, values):
    """One message per entry that is not a dotted-quad IPv4 address."""
    problems = []
    for value in values:
        if ipv4_or_none(value) is None:
            kind = "an IPv6 address, and SendGrid dedicated IPs are IPv4" if isinstance(value, str) and ":" in value else "not an IPv4 address"
            problems.append("%s: %r is %s" % (name, value, kind))
    return problems


def check_input(module, problems):
    """Fail before any request if a module option or a connection option is wrong.

    problems: messages of the module's own checks, None where a check passed.
    """
    problems = [problem for problem in problems if problem] + connection_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))


def client_for(module, gate=None):
    """The API client for a module whose input has been checked; fails cleanly without requests.

    gate: a RateLimitGate shared by the clients of concurrent workers.
    """
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    params = module.params
    return SendGridClient(
        api_key=params["api_key"],
        api_url=params["api_url"],  # build_module made an empty one the default
        timeout=params["timeout"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        max_retries=params["max_retries"],
        warn=module.warn,
        gate=gate,
    )


def run_module(module, run):
    """Call run(module, client) -> result dict; any client error becomes a clean failure."""
    client = client_for(module)
    try:
        result = run(module, client)
    except SendGridError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    finally:
        client.close()
    module.exit_json(**result)
