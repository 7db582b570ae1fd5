"""SendGrid Partners IP and Account Provisioning API simulator (standard library only).

Serves the three operations of tsg_ip_provisioning_v3.yaml on
/v3/partners/accounts/{accountID}/ips and three read operations of tsg_account_provisioning_v3.yaml
(ListAccount, GetAccountState, ListAccountOffering), plus a control API under /_sim/ that tests
use to seed accounts, read the request log and inject faults. See README.md.

    python tests/simulator/server.py --port 0 --port-file PATH --api-key KEY
"""

import argparse
import base64
import hmac
import http
import ipaddress
import json
import math
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

try:
    import yaml
except ImportError:  # PyYAML is optional: seed files must then be JSON
    yaml = None

REGIONS = ("eu", "us")
# Generated IPs come from public-looking /8s, one per region, skipping .0 and .255 hosts.
REGION_NETWORKS = {"us": ipaddress.IPv4Address("174.0.0.0"), "eu": ipaddress.IPv4Address("185.0.0.0")}
MAX_LIMIT = 5000
DEFAULT_LIMIT = 10
MAX_IPS_PER_REQUEST = 10
RATE_LIMIT = 600  # advertised X-RateLimit-Limit per window; never enforced (use a rate_limit fault)
RATE_WINDOW_SECONDS = 60
API_PATH = re.compile(r"^/v3/partners/accounts/([^/]+)/ips$")
# Every API path served: (pattern, resource). The account ID, where there is one, is the pattern's group 1.
API_ROUTES = (
    (API_PATH, "ips"),
    (re.compile(r"^/v3/partners/accounts$"), "accounts"),
    (re.compile(r"^/v3/partners/accounts/([^/]+)/state$"), "state"),
    (re.compile(r"^/v3/partners/accounts/([^/]+)/offerings$"), "offerings"),
)
# operationId of each (resource, method) served, as in the OpenAPI files (the request log and fault matching use them).
OPERATIONS = {
    ("ips", "GET"): "ListAccountIps", ("ips", "POST"): "AddAccountIps", ("ips", "DELETE"): "RemoveAccountIps",
    ("accounts", "GET"): "ListAccount", ("state", "GET"): "GetAccountState", ("offerings", "GET"): "ListAccountOffering",
}
ACCOUNT_MAX_LIMIT = 100  # ListAccount: limit 1..100, default 10
ACCOUNT_STATES = ("activated", "deactivated", "suspended", "banned", "indeterminate")
OFFERING_TYPES = ("package", "addon")
DEFAULT_CREATED_AT = "2026-01-01T00:00:00Z"
DEFAULT_STATE = "activated"
DEFAULT_OFFERINGS = ({"name": "org.ei.free.v1", "type": "package", "quantity": 1},)
PROFILE_KEYS = ("created_at", "updated_at", "email", "state", "offerings")
RFC3339 = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
CONTROL_PREFIX = "/_sim"
STATE_FORMAT_VERSION = 1

# Messages of the spec's examples; any other status falls back to its HTTP reason phrase.
DEFAULT_ERROR_MESSAGES = {
    401: "Failed to authenticate user",
    403: "The authenticated user is not authorized to perform this request",
    404: "Account not found",
    500: "Something went wrong",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Endpoint request timed out",
}
FAULT_ACTIONS = ("rate_limit", "error", "drop", "slow", "respond", "mangle")
COMMITTABLE_ACTIONS = ("error", "drop", "slow", "respond")  # rate_limit is never processed; mangle always is
FAULT_MATCH_KEYS = ("method", "account_id", "operation")
# A hostile or broken server: the operation is carried out, then the answer is wrong (see README.md).
MANGLE_MODES = ("truncate_json", "wrong_content_type", "no_ips", "extra_ips", "fewer_ips", "wrong_region",
                "repeat_page", "endless_pages", "huge_body", "trickle", "overlap_pages", "no_pages")
POST_MANGLE_MODES = ("no_ips", "extra_ips", "fewer_ips", "wrong_region")
GET_MANGLE_MODES = ("repeat_page", "endless_pages")
ACCOUNT_LIST_MANGLE_MODES = ("overlap_pages", "no_pages")  # ListAccount only (repeat_page and endless_pages apply too)
HUGE_BODY_DEFAULT = 17 * 1048576  # above the collection client's 16 MiB limit
STREAM_BLOCK = 65536
# IPs that are on no account: listed by endless_pages, or a pages.last that leads nowhere (RFC 2544 range).
FICTIONAL_NETWORK = ipaddress.IPv4Address("198.18.0.0")
# Random faults of the chaos mode (POST /_sim/chaos): each kind is a fault definition, drawn per request.
CHAOS_KINDS = {
    "rate_limit": {"action": "rate_limit", "wait": 1, "reset": "seconds"},
    "error": {"action": "error", "status": 500},
    "error_commit": {"action": "error", "status": 504, "commit": True},
    "slow": {"action": "slow", "delay": 2.0, "commit": True},
    "drop": {"action": "drop"},
    "drop_commit": {"action": "drop", "commit": True},
}
HTML_ERROR_PAGE = ("<html>\r\n<head><title>{0} {1}</title></head>\r\n"
                   "<body>\r\n<center><h1>{0} {1}</h1></center>\r\n</body>\r\n</html>\r\n")  # like nginx


# --------------------------------------------------------------------------- answers


class Reply:
    """One HTTP answer: status, headers and an optional body.

    padding: (bytes before, number of spaces, bytes after, chunked) for a body that is written in blocks as it
    is made (huge_body), never held whole in memory. trickle: (block size, seconds between blocks) to send the
    body slowly, each block well within any read timeout.
    """

    def __init__(self, status, body=None, content_type=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.padding = None
        self.trickle = None
        if content_type:
            self.headers["Content-Type"] = content_type


def json_reply(status, document, headers=None):
    return Reply(status, json.dumps(document).encode("utf-8"), "application/json", headers)


def error_id_for(status):
    """SendGrid-style error id: 400 -> 10-40000, 504 -> 10-50400."""
    return "10-%d" % (status * 100)


def reason_phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name, e.g. 599
        return "Error"


def default_error_message(status):
    return DEFAULT_ERROR_MESSAGES.get(status) or reason_phrase(status)


def error_reply(status, message=None, field="", headers=None):
    error = {"message": message or default_error_message(status), "field": field, "error_id": error_id_for(status)}
    return json_reply(status, {"errors": [error]}, headers)


class ApiError(Exception):
    """A request the simulator refuses; becomes a SendGrid error body."""

    def __init__(self, status, message=None, field=""):
        super().__init__(message or default_error_message(status))
        self.status = status
        self.field = field

    def reply(self):
        return error_reply(self.status, str(self), self.field)


# --------------------------------------------------------------------------- input checks


def is_ipv4(value):
    if not isinstance(value, str):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_strict_int(value):
    """True for JSON integers only: not bool, not float, not string."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_json_body(raw):
    """The request body as JSON (None when empty); ApiError 400 when malformed."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "Request body is not valid JSON: %s" % exc) from None


def parse_accounts_spec(spec, origin):
    """Check an `accounts` mapping of a seed file or control call.

    Shape: {"<id>": {"ips": [{"ip", "region"}, ...] newest first, "generate": {"us": n, "eu": n}}}
    (`ips` and `generate` optional; null means an account with no IPs). ValueError when wrong.
    """
    if not isinstance(spec, dict):
        raise ValueError("%s: 'accounts' must be a mapping of account id to account" % origin)
    accounts = {}
    for account_id, account in spec.items():
        where = "%s: account %r" % (origin, account_id)
        if not isinstance(account_id, str) or not account_id:
            raise ValueError("%s: account ids must be non-empty strings" % where)
        account = account if account is not None else {}
        if not isinstance(account, dict) or set(account) - {"ips", "generate"} - set(PROFILE_KEYS):
            raise ValueError("%s must be a mapping with optional keys 'ips', 'generate', %s" % (where, ", ".join(PROFILE_KEYS)))
        ips = account.get("ips") or []
        if not isinstance(ips, list):
            raise ValueError("%s: 'ips' must be a list" % where)
        for entry in ips:
            if not (isinstance(entry, dict) and is_ipv4(entry.get("ip")) and entry.get("region") in REGIONS):
                raise ValueError("%s: each of 'ips' must be {ip: <IPv4>, region: eu|us}, got %r" % (where, entry))
        generate = account.get("generate") or {}
        if not isinstance(generate, dict) or not all(
                region in REGIONS and is_strict_int(count) and count >= 0 for region, count in generate.items()):
            raise ValueError("%s: 'generate' must map eu/us to a count >= 0" % where)
        accounts[account_id] = {"ips": [{"ip": e["ip"], "region": e["region"]} for e in ips], "generate": generate,
                                "profile": parse_profile(dict(default_profile(), **{key: account[key] for key in PROFILE_KEYS if key in account}),
                                                         where)}
    return accounts


def default_profile():
    """What an account seeded without profile fields has: created at DEFAULT_CREATED_AT, activated, the free package."""
    return {"created_at": DEFAULT_CREATED_AT, "state": DEFAULT_STATE, "offerings": [dict(item) for item in DEFAULT_OFFERINGS]}


def parse_profile(profile, where):
    """Check an account's profile: created_at, optional updated_at and email, state, offerings. ValueError when wrong.

    email and updated_at set to null are left out. Returns a normalised copy.
    """
    checked = {}
    for key in ("created_at", "updated_at"):
        value = profile.get(key)
        if value is None and key == "updated_at":
            continue
        if not (isinstance(value, str) and RFC3339.match(value)):
            raise ValueError("%s: %r must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z, got %r" % (where, key, value))
        checked[key] = value
    if profile.get("email") is not None:
        if not isinstance(profile["email"], str):
            raise ValueError("%s: 'email' must be a string" % where)
        checked["email"] = profile["email"]
    if profile.get("state") not in ACCOUNT_STATES:
        raise ValueError("%s: 'state' must be one of %s, got %r" % (where, ", ".join(ACCOUNT_STATES), profile.get("state")))
    checked["state"] = profile["state"]
    offerings = profile.get("offerings")
    if not isinstance(offerings, list):
        raise ValueError("%s: 'offerings' must be a list of {name, type, quantity}" % where)
    checked["offerings"] = []
    for offering in offerings:
        if not (isinstance(offering, dict) and not set(offering) - {"name", "type", "quantity"}
                and isinstance(offering.get("name"), str) and offering["name"] and offering.get("type") in OFFERING_TYPES
                and ("quantity" not in offering or (is_strict_int(offering["quantity"]) and offering["quantity"] >= 0))):
            raise ValueError("%s: each of 'offerings' must be {name: <text>, type: package|addon, quantity: <integer >= 0> "
                             "(optional)}, got %r" % (where, offering))
        checked["offerings"].append(dict(offering))
    return checked


def public_account(account_id, profile):
    """An account as ListAccount lists it: id, created_at, and email and updated_at when set (the spec's example)."""
    account = {"id": account_id, "created_at": profile["created_at"]}
    for key in ("email", "updated_at"):
        if key in profile:
            account[key] = profile[key]
    return account


def parse_faults(faults):
    """Check a list of fault definitions; returns normalised copies. ValueError when wrong."""
    if not isinstance(faults, list):
        raise ValueError("'faults' must be a list")
    checked = []
    for fault in faults:
        if not isinstance(fault, dict) or fault.get("action") not in FAULT_ACTIONS:
            raise ValueError("each fault needs an 'action' among %s, got %r" % (", ".join(FAULT_ACTIONS), fault))
        fault = dict(fault)
        match = fault.get("match") or {}
        if not isinstance(match, dict) or set(match) - set(FAULT_MATCH_KEYS):
            raise ValueError("fault 'match' may only have the keys %s" % ", ".join(FAULT_MATCH_KEYS))
        if "method" in match:
            match["method"] = str(match["method"]).upper()
        fault["match"] = match
        fault["times"] = fault.get("times", 1)
        if not is_strict_int(fault["times"]) or fault["times"] < 1:
            raise ValueError("fault 'times' must be an integer >= 1")
        for seconds in ("wait", "delay"):
            if seconds in fault and (isinstance(fault[seconds], bool) or not isinstance(fault[seconds], (int, float))
                                     or fault[seconds] < 0):
                raise ValueError("fault %r must be a number of seconds >= 0" % seconds)
        lowest_status = 200 if fault["action"] == "respond" else 400
        if "status" in fault and not (is_strict_int(fault["status"]) and lowest_status <= fault["status"] <= 599):
            raise ValueError("fault 'status' must be an HTTP %s status %d..599"
                             % ("" if lowest_status == 200 else "error", lowest_status))
        if "commit" in fault and not isinstance(fault["commit"], bool):
            raise ValueError("fault 'commit' must be true or false")
        if fault["action"] == "respond":
            check_respond_fault(fault)
        if fault["action"] == "mangle":
            check_mangle_fault(fault)
        if fault.get("reset", "epoch") not in ("epoch", "seconds"):
            raise ValueError("fault 'reset' must be 'epoch' or 'seconds'")
        if fault["action"] == "error" and fault.get("body", "json") not in ("json", "html"):
            raise ValueError("fault 'body' must be 'json' or 'html'")
        checked.append(fault)
    return checked


def check_respond_fault(fault):
    """`respond`: status (200), headers {name: value}, and body (text) or json (any JSON value)."""
    headers = fault.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(name, str) and isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9-]+", name)
            and "\r" not in value and "\n" not in value for name, value in headers.items()):
        raise ValueError("fault 'headers' must map header names to one-line string values")
    if "body" in fault and "json" in fault:
        raise ValueError("fault 'respond' takes 'body' (text) or 'json', not both")
    if "body" in fault and not isinstance(fault["body"], str):
        raise ValueError("fault 'body' of 'respond' must be a string (use 'json' for a JSON value)")


def check_mangle_fault(fault):
    """`mangle`: a mode among MANGLE_MODES and its options."""
    if fault.get("mode") not in MANGLE_MODES:
        raise ValueError("fault 'mode' of 'mangle' must be one of %s" % ", ".join(MANGLE_MODES))
    for name, low in (("extra", 1), ("fewer", 1), ("size", 0)):
        if name in fault and not (is_strict_int(fault[name]) and fault[name] >= low):
            raise ValueError("fault %r must be an integer >= %d" % (name, low))
    if "interval" in fault and (isinstance(fault["interval"], bool) or not isinstance(fault["interval"], (int, float))
                                or not 0 <= fault["interval"] <= 60):
        raise ValueError("fault 'interval' must be a number of seconds from 0 to 60")
    if "block" in fault and not (is_strict_int(fault["block"]) and fault["block"] >= 1):
        raise ValueError("fault 'block' must be an integer >= 1")
    if "keep" in fault and (isinstance(fault["keep"], bool) or not isinstance(fault["keep"], (int, float))
                            or not 0 <= fault["keep"] < 1):
        raise ValueError("fault 'keep' must be a fraction of the body, 0 <= keep < 1")
    for name in ("chunked", "shift_last"):
        if name in fault and not isinstance(fault[name], bool):
            raise ValueError("fault %r must be true or false" % name)
    if "content_type" in fault and not (isinstance(fault["content_type"], str) and "\n" not in fault["content_type"]):
        raise ValueError("fault 'content_type' must be a one-line string")
    if "region" in fault and fault["region"] not in REGIONS:
        raise ValueError("fault 'region' must be eu or us")


def parse_chaos(config):
    """Check a chaos configuration: {seed, rates: {kind: p}, options: {kind: {...}}, methods: [...]}."""
    if not isinstance(config, dict) or set(config) - {"seed", "rates", "options", "methods"}:
        raise ValueError("chaos takes the keys seed, rates, options and methods")
    seed = config.get("seed", 0)
    if not is_strict_int(seed):
        raise ValueError("chaos 'seed' must be an integer")
    rates = config.get("rates") or {}
    if not isinstance(rates, dict) or set(rates) - set(CHAOS_KINDS) or not all(
            not isinstance(rate, bool) and isinstance(rate, (int, float)) and 0 <= rate <= 1 for rate in rates.values()):
        raise ValueError("chaos 'rates' must map kinds among %s to probabilities 0..1" % ", ".join(CHAOS_KINDS))
    if sum(rates.values()) > 1:
        raise ValueError("chaos 'rates' add up to more than 1")
    options = config.get("options") or {}
    if not isinstance(options, dict) or set(options) - set(CHAOS_KINDS) or not all(
            isinstance(value, dict) and "action" not in value for value in options.values()):
        raise ValueError("chaos 'options' must map kinds to fault options (without 'action')")
    kinds = {kind: parse_faults([dict(CHAOS_KINDS[kind], **options.get(kind, {}))])[0] for kind in CHAOS_KINDS}
    methods = config.get("methods")
    if methods is not None and not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
        raise ValueError("chaos 'methods' must be a list of HTTP methods")
    return {"seed": seed, "rates": {kind: float(rate) for kind, rate in rates.items()}, "kinds": kinds,
            "methods": None if methods is None else [method.upper() for method in methods]}


def base64_forms(secret):
    """The parts of any base64 text containing `secret` that do not depend on its neighbours (one per alignment)."""
    forms = []
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode((pad + secret).encode("utf-8")).decode("ascii")
        encoded = encoded[4:] if pad else encoded
        forms.append(encoded[:-4])
    return [form for form in forms if len(form) >= 8]


# --------------------------------------------------------------------------- state


class SimulatorState:
    """Accounts, IP allocation, request log and faults, all behind one lock.

    Accounts map an id to its IPs newest first. `next_ip_index` counts IPs ever generated
    per region, so a generated IP is never handed out twice, across restarts too (--state).
    """

    def __init__(self, state_file=None, request_log_file=None):
        self.lock = threading.Lock()
        self.state_file = state_file
        self.request_log_file = request_log_file
        self.accounts = {}
        self.profiles = {}  # account id -> created_at, email, updated_at, state, offerings (see parse_profile)
        self.ip_owner = {}
        self.next_ip_index = {region: 0 for region in REGIONS}
        self.requests = []
        self.faults = []
        self.chaos = None
        self.fictional_index = 0
        self.rate_window = (0.0, 0)  # (window start, requests answered in it)

    # ---- persistence

    def load(self, path):
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
        profiles = saved.get("profiles", {})  # absent in a state file written before the account operations
        accounts = {account_id: dict(profiles.get(account_id, {}), ips=ips, generate={})
                    for account_id, ips in saved["accounts"].items()}
        with self.lock:
            self.next_ip_index.update(saved.get("next_ip_index", {}))
            self._replace_accounts(parse_accounts_spec(accounts, path))

    def _save(self):
        """Write the state file atomically; caller holds the lock."""
        if not self.state_file:
            return
        document = {"version": STATE_FORMAT_VERSION, "accounts": self.accounts, "next_ip_index": self.next_ip_index,
                    "profiles": self.profiles}
        write_atomically(self.state_file, json.dumps(document, indent=1))

    def save(self):
        with self.lock:
            self._save()

    # ---- accounts and IPs (callers below the public methods hold the lock)

    def _allocate(self, region, count):
        """`count` new unique IPs of `region`, in allocation order."""
        allocated = []
        while len(allocated) < count:
            index = self.next_ip_index[region]
            self.next_ip_index[region] = index + 1
            # 254 hosts per /24: skip the .0 and .255 addresses
            ip = str(REGION_NETWORKS[region] + (index // 254) * 256 + index % 254 + 1)
            if ip not in self.ip_owner:
                allocated.append(ip)
        return allocated

    def _add_new_ips(self, account_id, region, count):
        ips = self._allocate(region, count)
        for ip in ips:
            self.ip_owner[ip] = account_id
        # the last one allocated is the newest
        self.accounts[account_id][:0] = [{"ip": ip, "region": region} for ip in reversed(ips)]
        return ips

    def _replace_accounts(self, accounts):
        """Create or replace accounts from a checked spec (see parse_accounts_spec)."""
        for account_id in accounts:
            for entry in self.accounts.pop(account_id, []):
                del self.ip_owner[entry["ip"]]
            self.profiles.pop(account_id, None)
        for account_id, account in accounts.items():
            for entry in account["ips"]:
                owner = self.ip_owner.get(entry["ip"])
                if owner is not None:
                    raise ValueError("IP %s of account %r is already held by account %r" % (entry["ip"], account_id, owner))
                self.ip_owner[entry["ip"]] = account_id
            self.accounts[account_id] = list(account["ips"])
            self.profiles[account_id] = account.get("profile") or default_profile()
            for region, count in account["generate"].items():
                self._add_new_ips(account_id, region, count)

    def replace_accounts(self, accounts, reset=False):
        """Create or replace accounts; reset=True first clears accounts, request log and faults.

        All-or-nothing: on a ValueError (an IP held twice) the state is left as it was.
        """
        with self.lock:
            before = (dict(self.accounts), dict(self.ip_owner), dict(self.next_ip_index), dict(self.profiles))
            if reset:
                self.accounts, self.ip_owner, self.profiles = {}, {}, {}
            try:
                self._replace_accounts(accounts)
            except ValueError:
                self.accounts, self.ip_owner, self.next_ip_index, self.profiles = before
                raise
            if reset:
                self.requests, self.faults, self.chaos = [], [], None
            self._save()
            return {account_id: list(self.accounts[account_id]) for account_id in accounts}

    def account_ips(self, account_id):
        """A copy of the account's IPs newest first, or None if there is no such account."""
        with self.lock:
            ips = self.accounts.get(account_id)
            return None if ips is None else list(ips)

    def account_profile(self, account_id):
        """A copy of the account's profile (created_at, email, updated_at, state, offerings), or None if there is no such account."""
        with self.lock:
            profile = self.profiles.get(account_id)
            return None if profile is None else json.loads(json.dumps(profile))

    def update_profile(self, account_id, changes):
        """Change some profile fields of an account (null removes email or updated_at); returns the new profile."""
        with self.lock:
            if account_id not in self.accounts:
                raise ApiError(404)
            unknown = set(changes) - set(PROFILE_KEYS)
            if unknown:
                raise ValueError("an account's profile has the keys %s, not %s" % (", ".join(PROFILE_KEYS), ", ".join(sorted(unknown))))
            profile = dict(self.profiles[account_id], **changes)
            self.profiles[account_id] = parse_profile(profile, "account %r" % account_id)
            self._save()
            return json.loads(json.dumps(self.profiles[account_id]))

    def account_listing(self):
        """Every account as ListAccount lists it, in creation order."""
        with self.lock:
            return [public_account(account_id, self.profiles[account_id]) for account_id in self.accounts]

    def all_accounts(self):
        with self.lock:
            return {account_id: list(ips) for account_id, ips in self.accounts.items()}

    def add_ips(self, account_id, region, count):
        with self.lock:
            if account_id not in self.accounts:
                raise ApiError(404)
            ips = self._add_new_ips(account_id, region, count)
            self._save()
            return ips

    def remove_ips(self, account_id, ips):
        """Remove all of `ips` or none (ApiError 400 naming the first IP not on the account)."""
        with self.lock:
            if account_id not in self.accounts:
                raise ApiError(404)
            for ip in ips:
                if self.ip_owner.get(ip) != account_id:
                    raise ApiError(400, "IP %s is not assigned to account %s" % (ip, account_id), "ips")
            doomed = set(ips)
            self.accounts[account_id] = [entry for entry in self.accounts[account_id] if entry["ip"] not in doomed]
            for ip in doomed:
                del self.ip_owner[ip]
            self._save()

    # ---- request log, faults and rate-limit headers

    def log_request(self, **fields):
        """Append a request to the log (arrival order); returns the record to complete later."""
        with self.lock:
            record = dict(seq=len(self.requests) + 1, received=time.time(), **fields, status=None, fault=None, chaos=None)
            self.requests.append(record)
            return record

    def set_request_outcome(self, record, status, fault):
        """Complete a record: its status (None: no answer) and the fault that decided it; append it to the file."""
        with self.lock:
            record["status"] = status
            record["fault"] = fault["action"] if fault else None
            record["chaos"] = fault.get("chaos") if fault else None
            if self.request_log_file:
                with open(self.request_log_file, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record, sort_keys=True) + "\n")

    def fictional_account_ids(self, count):
        """`count` account IDs never handed out before; they are no account's."""
        with self.lock:
            first = self.fictional_index
            self.fictional_index += count
        return ["sg%032x" % (0xf1c7100000000000 + index) for index in range(first, first + count)]

    def fictional_ips(self, count):
        """`count` IPs of 198.18.0.0/15 never handed out before; they are on no account."""
        with self.lock:
            first = self.fictional_index
            self.fictional_index += count
        return [str(FICTIONAL_NETWORK + (index % 131070) + 1) for index in range(first, first + count)]

    def request_log(self):
        with self.lock:
            return [dict(record) for record in self.requests]

    def clear_requests(self):
        with self.lock:
            self.requests = []

    def add_faults(self, faults):
        with self.lock:
            self.faults.extend(faults)
            return [dict(fault) for fault in self.faults]

    def pending_faults(self):
        with self.lock:
            return [dict(fault) for fault in self.faults]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def take_fault(self, method, account_id, operation=None):
        """The first fault matching this request, consuming one of its `times`; else a chaos draw; None if none."""
        with self.lock:
            for fault in self.faults:
                match = fault["match"]
                if (match.get("method", method) == method and match.get("account_id", account_id) == account_id
                        and match.get("operation", operation) == operation):
                    fault["times"] -= 1
                    if fault["times"] == 0:
                        self.faults.remove(fault)
                    return dict(fault)
            return self._chaos_fault(method)

    # ---- chaos: random faults (caller holds the lock)

    def _chaos_fault(self, method):
        chaos = self.chaos
        if chaos is None or (chaos["methods"] is not None and method not in chaos["methods"]):
            return None
        chaos["seen"][method] = chaos["seen"].get(method, 0) + 1
        draw = chaos["random"].random()
        for kind in CHAOS_KINDS:  # a fixed order, so a seed gives the same faults for the same requests
            rate = chaos["rates"].get(kind, 0.0)
            if draw < rate:
                injected = chaos["injected"].setdefault(kind, {})
                injected[method] = injected.get(method, 0) + 1
                return dict(chaos["kinds"][kind], chaos=kind)
            draw -= rate
        return None

    def set_chaos(self, config):
        """Start the chaos mode (a checked config, see parse_chaos), or stop it with None; returns the last stats."""
        with self.lock:
            stats = self._chaos_stats()
            if config is not None:
                config = dict(config, random=random.Random(config["seed"]), seen={}, injected={})
            self.chaos = config
            return stats

    def chaos_stats(self):
        with self.lock:
            return self._chaos_stats()

    def _chaos_stats(self):
        chaos = self.chaos
        if chaos is None:
            return {"enabled": False}
        return {"enabled": True, "seed": chaos["seed"], "rates": dict(chaos["rates"]), "methods": chaos["methods"],
                "seen": dict(chaos["seen"]), "injected": {kind: dict(by_method) for kind, by_method in chaos["injected"].items()}}

    def rate_limit_headers(self):
        """Informational X-RateLimit-* headers; Remaining never reaches 0 on its own."""
        now = time.time()
        with self.lock:
            start, used = self.rate_window
            if now - start >= RATE_WINDOW_SECONDS:
                start, used = now, 0
            self.rate_window = (start, used + 1)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT - used - 1, 1)),
            "X-RateLimit-Reset": str(int(math.ceil(start + RATE_WINDOW_SECONDS))),
        }


def write_atomically(path, text):
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# --------------------------------------------------------------------------- the SendGrid API


class SendGridApi:
    """The operations served (see OPERATIONS); every method returns a Reply or raises ApiError."""

    def __init__(self, state):
        self.state = state

    def handle(self, method, account_id, query, raw_body, mangle=None, resource="ips"):
        """mangle: a `mangle` fault whose mode changes what GET or POST does (see MANGLE_MODES).

        resource: "ips" (the IP operations), "accounts" (ListAccount), "state" or "offerings" (of one account).
        """
        if resource != "ips":
            if method != "GET":
                raise ApiError(405, "Method %s is not allowed; use GET" % method)
            if resource == "accounts":
                return self.list_accounts(query, mangle)
            profile = self.state.account_profile(account_id)
            if profile is None:
                raise ApiError(404)
            if resource == "state":
                return json_reply(200, {"state": profile["state"]})
            return json_reply(200, {"offerings": profile["offerings"]})
        if method not in ("GET", "POST", "DELETE"):
            raise ApiError(405, "Method %s is not allowed; use GET, POST or DELETE" % method)
        ips = self.state.account_ips(account_id)
        if ips is None:
            raise ApiError(404)
        if method == "GET":
            return self.list_ips(ips, query, mangle)
        if method == "POST":
            return self.add_ips(account_id, parse_json_body(raw_body), mangle)
        return self.remove_ips(account_id, parse_json_body(raw_body))

    def list_ips(self, ips, query, mangle=None):
        limit = query.get("limit", str(DEFAULT_LIMIT))
        if not re.fullmatch(r"[0-9]+", limit) or not 1 <= int(limit) <= MAX_LIMIT:
            raise ApiError(400, "limit must be an integer from 1 to %d" % MAX_LIMIT, "limit")
        mode = mangle.get("mode") if mangle else None
        if mode == "endless_pages":  # a full page of IPs never listed before, every time
            page = [{"ip": ip, "region": mangle.get("region", "us")} for ip in self.state.fictional_ips(int(limit))]
            return json_reply(200, {"result": page, "pages": {"last": page[-1]["ip"]}})
        start = 0
        if "offset" in query and mode != "repeat_page":  # repeat_page: the offset is ignored
            offset = query["offset"]
            if not is_ipv4(offset):
                raise ApiError(400, "offset must be a valid IPv4 address (the last IP already seen)", "offset")
            # start after the offset IP; an IP not on the account gives an empty page
            start = next((position + 1 for position, entry in enumerate(ips) if entry["ip"] == offset), len(ips))
        page = ips[start:start + int(limit)]
        last = page[-1]["ip"] if page else None
        if mode == "repeat_page" and page and mangle.get("shift_last"):
            last = self.state.fictional_ips(1)[0]  # a new offset each time, so only the repeated IPs tell
        return json_reply(200, {"result": page, "pages": {"last": last} if last else {}})

    def list_accounts(self, query, mangle=None):
        """ListAccount: accounts in creation order after the `offset` account ID; an unknown offset gives an empty page."""
        limit = query.get("limit", str(DEFAULT_LIMIT))
        if not re.fullmatch(r"[0-9]+", limit) or not 1 <= int(limit) <= ACCOUNT_MAX_LIMIT:
            raise ApiError(400, "limit must be an integer from 1 to %d" % ACCOUNT_MAX_LIMIT, "limit")
        limit = int(limit)
        mode = mangle.get("mode") if mangle else None
        if mode == "endless_pages":  # a full page of accounts never listed before, every time
            page = [public_account(account_id, default_profile()) for account_id in self.state.fictional_account_ids(limit)]
            return json_reply(200, {"accounts": page, "pages": {"last": page[-1]["id"]}})
        listing = self.state.account_listing()
        start = 0
        if "offset" in query and mode != "repeat_page":  # repeat_page: the offset is ignored
            offset = query["offset"]
            position = next((index for index, account in enumerate(listing) if account["id"] == offset), None)
            if position is None:
                start = len(listing)
            else:
                start = position if mode == "overlap_pages" else position + 1  # overlap: the offset account again
        page = listing[start:start + limit]
        last = page[-1]["id"] if page else None
        if mode == "repeat_page" and page and mangle.get("shift_last"):
            last = self.state.fictional_account_ids(1)[0]
        document = {"accounts": page}
        if mode != "no_pages":
            document["pages"] = {"last": last} if last else {}
        return json_reply(200, document)

    def add_ips(self, account_id, body, mangle=None):
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object with count and region")
        count = body.get("count")
        if not (is_strict_int(count) and 1 <= count <= MAX_IPS_PER_REQUEST):
            raise ApiError(400, "count is required and must be an integer from 1 to %d" % MAX_IPS_PER_REQUEST, "count")
        region = body.get("region")
        if region not in REGIONS:
            raise ApiError(400, "region is required and must be one of: %s" % ", ".join(REGIONS), "region")
        mode = mangle.get("mode") if mangle else None
        if mode == "extra_ips":
            count += mangle.get("extra", 1)
        elif mode == "fewer_ips":
            count = max(count - mangle.get("fewer", 1), 0)
        elif mode == "wrong_region":
            region = "us" if region == "eu" else "eu"
        ips = self.state.add_ips(account_id, region, count)
        document = {"ips": ips, "region": region}
        if mode == "no_ips":
            del document["ips"]
        return json_reply(201, document)

    def remove_ips(self, account_id, body):
        ips = body.get("ips") if isinstance(body, dict) else None
        if not (isinstance(ips, list) and 1 <= len(ips) <= MAX_IPS_PER_REQUEST and all(is_ipv4(ip) for ip in ips)):
            raise ApiError(400, "ips is required and must be a list of 1 to %d IPv4 addresses" % MAX_IPS_PER_REQUEST,
                           "ips")
        self.state.remove_ips(account_id, ips)
        return Reply(204)


# --------------------------------------------------------------------------- the control API


class ControlApi:
    """/_sim/ endpoints: health, reset, accounts, request log, faults. No auth, no faults."""

    def __init__(self, state):
        self.state = state

    def handle(self, method, raw_path, raw_body):
        try:
            body = parse_json_body(raw_body)
            return self._route(method, raw_path[len(CONTROL_PREFIX):], {} if body is None else body)
        except ApiError as error:
            return error.reply()
        except ValueError as exc:
            return error_reply(400, str(exc))

    def _route(self, method, path, body):
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        routes = {
            ("GET", "/health"): lambda: {"ok": True},
            ("POST", "/reset"): lambda: self._set_accounts(body, reset=True),
            ("GET", "/accounts"): lambda: {"accounts": self.state.all_accounts()},
            ("POST", "/accounts"): lambda: self._set_accounts(body, reset=False),
            ("GET", "/requests"): lambda: {"requests": self.state.request_log()},
            ("DELETE", "/requests"): lambda: self.state.clear_requests() or {"requests": []},
            ("GET", "/faults"): lambda: {"faults": self.state.pending_faults()},
            ("POST", "/faults"): lambda: {"faults": self.state.add_faults(parse_faults(body.get("faults")))},
            ("DELETE", "/faults"): lambda: self.state.clear_faults() or {"faults": []},
            ("GET", "/chaos"): self.state.chaos_stats,
            ("POST", "/chaos"): lambda: self._start_chaos(body),
            ("DELETE", "/chaos"): lambda: self.state.set_chaos(None),
        }
        if (method, path) in routes:
            return json_reply(200, routes[(method, path)]())
        if method in ("GET", "PATCH") and path.startswith("/accounts/") and path.count("/") == 2:
            account_id = unquote(path[len("/accounts/"):])
            if method == "PATCH":
                self.state.update_profile(account_id, body)
            ips = self.state.account_ips(account_id)
            if ips is None:
                return error_reply(404)
            return json_reply(200, {"id": account_id, "ips": ips, "account": self.state.account_profile(account_id)})
        if path in {route_path for _method, route_path in routes}:
            return error_reply(405, "Method %s is not allowed on %s%s" % (method, CONTROL_PREFIX, path))
        return error_reply(404, "No control endpoint %s %s%s" % (method, CONTROL_PREFIX, path))

    def _start_chaos(self, body):
        self.state.set_chaos(parse_chaos(body))
        return self.state.chaos_stats()

    def _set_accounts(self, body, reset):
        if not reset and "accounts" not in body:
            raise ValueError("the body needs 'accounts'")
        accounts = parse_accounts_spec(body.get("accounts") or {}, "request body")
        created = self.state.replace_accounts(accounts, reset=reset)
        return {"ok": True} if reset else {"accounts": created}


# --------------------------------------------------------------------------- HTTP


class SimulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer has a correct Content-Length
    server_version = "SendGridSimulator/1.0"
    timeout = 120  # idle keep-alive connections end after this

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, not in the accepting thread: a stalled client stalls only itself

    def handle_any_method(self):
        raw_path, _question_mark, query_string = self.path.partition("?")
        try:
            raw_body = self._read_body()
        except ValueError as exc:
            self.close_connection = True  # the rest of the stream cannot be trusted
            self._send(error_reply(400, "Unreadable request body: %s" % exc))
            return
        if raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/"):
            self._send(self.server.control.handle(self.command, raw_path, raw_body))
        else:
            self._serve_api(raw_path, dict(parse_qsl(query_string, keep_blank_values=True)), raw_body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = handle_any_method

    def _serve_api(self, raw_path, query, raw_body):
        """A SendGrid API request: log it, apply --latency and the first matching fault, answer."""
        state = self.server.state
        resource, account_id = api_route(raw_path)
        operation = OPERATIONS.get((resource, self.command))
        authorized = self._is_authorized()
        headers = {name: value for name, value in self.headers.items() if name.lower() != "authorization"}
        record = state.log_request(method=self.command, path=raw_path, account_id=account_id, query=query,
                                   body=loggable_body(raw_body), authorized=authorized, headers=headers,
                                   key_elsewhere=self._key_elsewhere(headers, raw_body), operation=operation)
        fault = state.take_fault(self.command, account_id, operation)
        if self.server.latency:
            time.sleep(self.server.latency)
        action = fault["action"] if fault else None

        def perform():
            return self._perform(resource, authorized, account_id, query, raw_body,
                                 fault if action == "mangle" else None)

        # "commit": the operation runs first, then the fault decides the answer (the ambiguous case)
        committed = perform() if action in COMMITTABLE_ACTIONS and fault.get("commit") else None
        if action == "drop":
            state.set_request_outcome(record, None, fault)
            self.close_connection = True  # no answer at all: the connection just closes
            return
        if action == "rate_limit":
            reply = rate_limited_reply(fault)
        elif action == "error":
            reply = fault_error_reply(fault)
        elif action == "respond":
            reply = raw_reply(fault)
        elif action == "mangle":
            reply = mangled_reply(fault, perform())
        else:
            if action == "slow":
                time.sleep(fault.get("delay", 1))
            reply = committed or perform()
        state.set_request_outcome(record, reply.status, fault)
        reply.headers = {**state.rate_limit_headers(), **reply.headers}
        self._send(reply)

    def _perform(self, resource, authorized, account_id, query, raw_body, mangle=None):
        """The operation itself (no faults but `mangle`): its Reply, errors included. resource None: no such path."""
        if resource is None:
            return error_reply(404, "The requested resource was not found")
        if not authorized:
            return error_reply(401)
        try:
            return self.server.api.handle(self.command, account_id, query, raw_body, mangle, resource)
        except ApiError as error:
            return error.reply()

    def _key_elsewhere(self, headers, raw_body):
        """True when the API key (or its base64 form) is anywhere but the Authorization header: a leak."""
        places = [self.path, unquote(self.path), raw_body.decode("utf-8", "replace")] + list(headers.values())
        return any(secret in place for secret in self.server.secrets for place in places)

    def _is_authorized(self):
        scheme, _space, token = (self.headers.get("Authorization") or "").partition(" ")
        expected = self.server.api_key.encode("utf-8")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("utf-8"), expected)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # skip trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, reply):
        if reply.padding:
            self._send_padded(reply)
            return
        if reply.trickle:
            self._send_trickle(reply)
            return
        may_have_body = reply.status != 204  # a 204 has neither body nor Content-Length
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if may_have_body:
            self.send_header("Content-Length", str(len(reply.body or b"")))
        self.end_headers()
        if may_have_body and reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    def _send_trickle(self, reply):
        """The body a few bytes at a time, with a pause between them; stops when the client hangs up."""
        block, interval = reply.trickle
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.close_connection = True
        try:
            for start in range(0, len(reply.body), block):
                self.wfile.write(reply.body[start:start + block])
                self.wfile.flush()
                time.sleep(interval)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass

    def _send_padded(self, reply):
        """A huge body, written block by block; stops quietly when the client hangs up."""
        head, spaces, tail, chunked = reply.padding
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(head) + spaces + len(tail)))
        self.end_headers()
        self.close_connection = True  # whatever happens, this connection is done after such an answer

        def write(block):
            if block:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)

        try:
            write(head)
            while spaces > 0:
                write(b" " * min(spaces, STREAM_BLOCK))
                spaces -= STREAM_BLOCK
            write(tail)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass  # the client refused to read it all, as it should

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        if self.server.verbose:
            super().log_message(format, *args)


def api_route(raw_path):
    """(resource, decoded account ID or None) of an API path; (None, None) for a path not served."""
    for pattern, resource in API_ROUTES:
        route = pattern.match(raw_path)
        if route:
            return resource, unquote(route.group(1)) if route.groups() else None
    return None, None


def loggable_body(raw_body):
    """A body for the request log: parsed JSON, else the raw text, else None."""
    if not raw_body:
        return None
    text = raw_body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def rate_limited_reply(fault):
    """429 in SendGrid's shape; X-RateLimit-Reset as epoch (default) or seconds-until-reset."""
    wait = fault.get("wait", 1)
    if "reset_value" in fault:
        reset = str(fault["reset_value"])
    elif fault.get("reset", "epoch") == "seconds":
        reset = str(int(math.ceil(wait)))
    else:
        reset = str(int(math.ceil(time.time() + wait)))
    headers = {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    return json_reply(429, {"errors": [{"field": None, "message": "too many requests"}]}, headers)


def raw_reply(fault):
    """The answer of a "respond" fault: exactly the status, headers and body given."""
    if "json" in fault:
        body = json.dumps(fault["json"]).encode("utf-8")
        headers = {"Content-Type": "application/json", **fault.get("headers", {})}
    else:
        body = fault.get("body", "").encode("utf-8")
        headers = fault.get("headers", {})
    return Reply(fault.get("status", 200), body, headers=headers)


def mangled_reply(fault, reply):
    """The answer of a "mangle" fault, from the answer of the operation (already carried out)."""
    mode = fault["mode"]
    if reply.status >= 400 or not reply.body:
        return reply  # an error answer, or a 204: nothing to mangle
    if mode == "truncate_json":
        reply.body = reply.body[:int(len(reply.body) * fault.get("keep", 0.5))]
    elif mode == "wrong_content_type":
        reply.headers["Content-Type"] = fault.get("content_type", "text/html; charset=utf-8")
    elif mode == "huge_body":  # the JSON answer, padded with spaces before its closing brace
        size = fault.get("size", HUGE_BODY_DEFAULT)
        head, tail = reply.body[:-1], reply.body[-1:]
        reply.padding = (head, max(size - len(reply.body), 0), tail, fault.get("chunked", False))
        reply.body = None
    elif mode == "trickle":
        reply.trickle = (fault.get("block", 1), fault.get("interval", 0.5))
    return reply


def fault_error_reply(fault):
    """The answer of an "error" fault: a SendGrid JSON error, or an HTML page like a proxy's."""
    status = fault.get("status", 500)
    if fault.get("body") == "html":
        page = HTML_ERROR_PAGE.format(status, reason_phrase(status))
        return Reply(status, page.encode("utf-8"), "text/html")
    return error_reply(status, fault.get("message"), fault.get("field", ""))


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, api_key, state, latency=0.0, verbose=False, tls=None):
        """tls: an ssl.SSLContext to serve HTTPS (the handshake happens in the request's thread)."""
        super().__init__(("127.0.0.1", port), SimulatorHandler)
        self.api_key = api_key
        self.secrets = [api_key] + base64_forms(api_key)
        self.state = state
        self.api = SendGridApi(state)
        self.control = ControlApi(state)
        self.latency = latency
        self.verbose = verbose
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        """A client that went away (timeout, dropped keep-alive, refused our certificate) is normal: say nothing."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- command line


def load_seed(path):
    """The `accounts` of a YAML (needs PyYAML) or JSON seed file, checked."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if yaml is not None:
        document = yaml.safe_load(text)
    else:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ValueError("%s: not JSON (%s); install PyYAML for YAML seed files" % (path, exc)) from None
    if not isinstance(document, dict):
        raise ValueError("%s: expected a mapping with 'accounts'" % path)
    return parse_accounts_spec(document.get("accounts") or {}, path)


TLS_CERT_NAME, TLS_KEY_NAME = "simulator-cert.pem", "simulator-key.pem"


def generate_self_signed(directory):
    """A self-signed certificate for 127.0.0.1 and localhost (also its own CA) and its key, in `directory`.

    Uses the openssl command, else the cryptography package; returns (cert path, key path).
    """
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, TLS_CERT_NAME), os.path.join(directory, TLS_KEY_NAME)
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=SendGrid simulator",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return cert, key
    try:
        return generate_with_cryptography(cert, key)
    except ImportError:
        raise ValueError("--tls needs the openssl command or the cryptography package; "
                         "or pass --tls-cert and --tls-key") from None


def generate_with_cryptography(cert_path, key_path):
    import datetime  # pylint: disable=import-outside-toplevel
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SendGrid simulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def tls_context(args):
    """The server's SSLContext from --tls-cert/--tls-key or --tls; None for plain HTTP."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    if args.tls_cert:
        cert, key = args.tls_cert, args.tls_key
    elif args.tls:
        directory = args.tls_dir or os.path.dirname(os.path.abspath(args.port_file or os.path.join(os.getcwd(), "x")))
        cert, key = generate_self_signed(directory)
    else:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def parse_args(argv):
    parser = argparse.ArgumentParser(description="SendGrid Partners IP Provisioning API simulator")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--port-file", help="write the port here (atomically) once listening")
    parser.add_argument("--api-key", required=True, help="the only accepted bearer token")
    parser.add_argument("--state", help="JSON state file: loaded at start if present, saved after every change")
    parser.add_argument("--seed", help="YAML or JSON file with initial 'accounts' (ignored when --state exists)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every SendGrid API answer")
    parser.add_argument("--pid-file", help="write the process id here")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--request-log", help="append each API request's log record here, one JSON line each")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM; with --tls-key)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a new self-signed certificate for 127.0.0.1, written to --tls-dir")
    parser.add_argument("--tls-dir", help="where --tls writes %s and %s (default: beside --port-file, else the "
                        "current directory)" % (TLS_CERT_NAME, TLS_KEY_NAME))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state = SimulatorState(args.state, args.request_log)
    try:
        tls = tls_context(args)
    except (OSError, ValueError, ssl.SSLError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None)
        sys.exit("simulator: cannot set up TLS: %s%s" % (exc, ": " + detail.decode("utf-8", "replace") if detail else ""))
    try:
        if args.state and os.path.exists(args.state):
            state.load(args.state)
        elif args.seed:
            state.replace_accounts(load_seed(args.seed))
        else:
            state.save()
    except (OSError, ValueError, KeyError) as exc:
        sys.exit("simulator: cannot load initial state: %s" % exc)

    server = SimulatorServer(args.port, args.api_key, state, args.latency, args.verbose, tls)
    port = server.server_address[1]
    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    serving = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    serving.start()
    if args.pid_file:
        write_atomically(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:
        write_atomically(args.port_file, "%d\n" % port)
    if args.verbose:
        print("simulator: listening on %s://127.0.0.1:%d" % ("https" if tls else "http", port), file=sys.stderr, flush=True)

    while not stop_requested.wait(0.1):
        pass
    server.shutdown()
    server.server_close()
    state.save()
    for path in (args.port_file, args.pid_file):
        if path and os.path.exists(path):
            os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
