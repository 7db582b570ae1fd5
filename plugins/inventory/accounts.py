# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: accounts
short_description: The customer accounts of a SendGrid reseller as inventory hosts
version_added: 0.1.0
description:
  - Reads every customer account of a Twilio SendGrid reseller from the Account Provisioning API
    (C(GET /v3/partners/accounts), every page) and makes each one a host of the group O(group), ready for the
    playbook C(sendgrid.partners.onboard) and the role C(sendgrid.partners.provision_ips).
  - Each host has C(ansible_connection=local) (a customer is an account, not a machine),
    C(sendgrid_account_id), C(sendgrid_created_at) and C(sendgrid_account) (every field SendGrid listed for the
    account, for example C(email) and C(updated_at)).
  - Opt-in, each one more request per account, O(concurrency) at a time - O(with_state) sets
    C(sendgrid_account_state), O(with_offerings) sets C(sendgrid_offerings), O(with_ips) sets C(sendgrid_current_ips).
  - Every string from SendGrid is marked unsafe, so a profile field holding C({{ ... }}) is never templated.
  - The configuration file's name must end in C(sendgrid.partners.accounts.yml) or C(sendgrid.partners.accounts.yaml).
  - See the collection's C(docs/inventory.md) for inventory-driven onboarding with policy in C(group_vars) and for
    AWX inventory sources.
author:
  - sendgrid.partners maintainers (@sendgrid-partners)
requirements:
  - requests >= 2.25 on the controller.
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    type: str
    required: true
    choices: [sendgrid.partners.accounts]
  api_key:
    description:
      - A SendGrid API key of the reseller (partner) account that may read customer accounts (and, with
        O(with_ips), their IPs).
      - If not set, the E(SENDGRID_API_KEY) environment variable is used; one of the two is required. An AWX
        inventory source gets it from the collection's credential type, which injects E(SENDGRID_API_KEY).
      - May be a template, for example a lookup of a vault.
      - The key is sent only in the C(Authorization) header; it never appears in the inventory, its cache, a warning
        or an error.
    type: str
    env:
      - name: SENDGRID_API_KEY
  api_url:
    description:
      - Base URL of the SendGrid API. V(https://api.eu.sendgrid.com) for EU regional accounts; any base URL works,
        for example a proxy or a test simulator.
      - An empty or blank value (as AWX renders an empty credential field) counts as not set.
    type: str
    default: https://api.sendgrid.com
    env:
      - name: SENDGRID_API_URL
  timeout:
    description: Seconds to wait for each HTTP request (to connect, and between bytes of the answer), above 0, at most 3600.
    type: float
    default: 30
  validate_certs:
    description: Verify the server's TLS certificate. Turn off only for a test server.
    type: bool
    default: true
  ca_path:
    description: A PEM file of CA certificates to verify the server with, for a TLS-inspecting proxy or a private CA.
    type: path
  max_retries:
    description:
      - How many times one request may be repeated after an HTTP 429 answer (waiting until C(X-RateLimit-Reset),
        at most 60 seconds, with jitter; one 429 pauses every worker) or when the connection could not be opened.
      - Every request of this plugin is a read, so nothing else is at stake; V(0) fails at the first such answer.
    type: int
    default: 3
  concurrency:
    description:
      - How many per-account requests (O(with_state), O(with_offerings), O(with_ips)) run at a time, 1 to 100.
      - The account listing itself is one page after the other (each page starts after the last account of the one before).
    type: int
    default: 10
  group:
    description: The group every customer host joins.
    type: str
    default: sendgrid_customers
  hostname:
    description:
      - A Jinja2 template that names each host, over the account's fields as SendGrid lists them (C(id),
        C(created_at), and for example C(email)) and the host variables above. By default the host is named after
        the account ID, which is the only stable identity SendGrid gives (an email is optional and not promised unique).
      - The inventory fails, naming both accounts, when two accounts would get one name, and when the template fails or
        gives an empty name for an account (use the C(default) filter for fields that some accounts lack).
    type: str
  with_state:
    description:
      - Set C(sendgrid_account_state), the account's state (C(activated), C(deactivated), C(suspended), C(banned) or
        C(indeterminate)), from C(GET /v3/partners/accounts/{accountID}/state).
    type: bool
    default: false
  with_offerings:
    description:
      - Set C(sendgrid_offerings), the account's offerings as a list of C({name, type, quantity}), from
        C(GET /v3/partners/accounts/{accountID}/offerings). C(quantity) is null when SendGrid gives none.
    type: bool
    default: false
  with_ips:
    description:
      - Set C(sendgrid_current_ips), the dedicated IPs the account holds today, a mapping of C(us) and C(eu) to lists
        of IPs, newest first, from C(GET /v3/partners/accounts/{accountID}/ips) (every page).
    type: bool
    default: false
  strict:
    description:
      - With V(true) (the default here), the inventory fails with the first per-account request that fails, and with
        any error of O(compose), O(groups) or O(keyed_groups).
      - With V(false), a host whose per-account request failed has no variable from that request (for example no
        C(sendgrid_account_state)), one warning gives the number of failed requests and the first error, and the
        result is not cached; entries of O(compose), O(groups) and O(keyed_groups) that fail are skipped.
      - A failed account listing always fails the inventory.
    type: bool
    default: true
notes:
  - Caching (O(cache)) stores what SendGrid answered (never the key) under the cache plugin's key for this file, and
    uses it until O(cache_timeout); C(ansible-inventory --flush-cache) or C(ansible-playbook --flush-cache) reads
    SendGrid again. A cache written with other O(api_url), O(with_state), O(with_offerings) or O(with_ips) is not used.
seealso:
  - module: sendgrid.partners.ips_info
  - name: Account Provisioning API
    description: SendGrid's documentation of the API this plugin reads.
    link: https://www.twilio.com/docs/sendgrid/api-reference/account-provisioning-api-account-operations/get-all-accounts
"""

EXAMPLES = r"""
# customers.sendgrid.partners.accounts.yml (the API key from SENDGRID_API_KEY). The minimal file is its first line;
# this one also reads each account's state and offerings, groups the customers by both, and names them after the
# email's local part (the inventory fails if two accounts would get one name).
plugin: sendgrid.partners.accounts
with_state: true
with_offerings: true
hostname: "{{ (email | default(id)).split('@') | first }}"
keyed_groups:
  - key: sendgrid_account_state
    prefix: state
  - key: sendgrid_offerings | map(attribute='name')
    prefix: offering
groups:
  active_customers: sendgrid_account_state == 'activated'
# EU accounts and the IPs they hold today, with a composed variable:
#   api_url: https://api.eu.sendgrid.com
#   with_ips: true
#   compose:
#     sendgrid_us_ip_count: sendgrid_current_ips.us | length
# A cache of one hour in files (what SendGrid answered, never the key):
#   cache: true
#   cache_plugin: ansible.builtin.jsonfile
#   cache_connection: ~/.cache/sendgrid-inventory
#   cache_timeout: 3600
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    HAS_REQUESTS,
    REGIONS,
    RateLimitGate,
    SendGridClient,
    SendGridError,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._module import api_url_or_default, connection_problems, int_problem

CACHE_FORMAT = 1
MAX_CONCURRENCY = 100
# source -> (option, host variable)
SOURCES = {
    "state": ("with_state", "sendgrid_account_state"),
    "offerings": ("with_offerings", "sendgrid_offerings"),
    "ips": ("with_ips", "sendgrid_current_ips"),
}


def current_ips(ips):
    """{us: [...], eu: [...]} from the client's [{ip, region}] (newest first)."""
    by_region = {region: [] for region in sorted(REGIONS, reverse=True)}
    for entry in ips:
        by_region[entry["region"]].append(entry["ip"])
    return by_region


def fetch_source(client, source, account_id):
    """What one per-account request gives, as a host variable's value."""
    if source == "state":
        return client.account_state(account_id)
    if source == "offerings":
        return client.account_offerings(account_id)
    return current_ips(client.list_ips(account_id))


class FetchResult:
    """What one inventory read from SendGrid: accounts, their details, the failed per-account requests, the retries."""

    def __init__(self, records, requests, failures, retries):
        self.records = records  # [{"account": {...}, "state": ..., "offerings": ..., "ips": ...}]
        self.requests = requests  # per-account requests planned
        self.failures = failures  # [(account_id, source, message)], in the order they failed
        self.retries = retries


def fetch_all(make_client, sources, concurrency, strict, on_retry=None):
    """List every account, then run each per-account request of `sources`, `concurrency` at a time.

    make_client() gives one client per worker thread (they share one RateLimitGate). With strict, the first failed
    per-account request raises SendGridError after stopping the others; else failures are collected.
    """
    local = threading.local()
    clients = []
    lock = threading.Lock()
    retries = []

    def client():
        if not hasattr(local, "client"):
            local.client = make_client(lambda message: _count_retry(message, retries, lock, on_retry))
            with lock:
                clients.append(local.client)
        return local.client

    records, jobs, failures = [], [], []
    try:
        records = [{"account": account} for account in client().list_accounts()]
        jobs = [(record, source) for record in records for source in sources]
        stop = threading.Event()

        def run(job):
            record, source = job
            if stop.is_set():
                return
            account_id = record["account"]["id"]
            try:
                record[source] = fetch_source(client(), source, account_id)
            except SendGridError as exc:
                with lock:
                    failures.append((account_id, source, str(exc)))
                if strict:
                    stop.set()

        if jobs:
            with ThreadPoolExecutor(max_workers=min(concurrency, len(jobs))) as pool:
                list(pool.map(run, jobs))
    finally:
        for each in clients:
            each.close()
    return FetchResult(records, len(jobs), failures, len(retries))


def records_ok(records):
    """True for what fetch_all reads (a cache written by another version or by hand is not used)."""
    return isinstance(records, list) and all(
        isinstance(record, dict) and isinstance(record.get("account"), dict) and isinstance(record["account"].get("id"), str)
        and record["account"]["id"] for record in records)


def _count_retry(message, retries, lock, on_retry):
    with lock:
        retries.append(message)
    if on_retry:
        on_retry(message)


def host_variables(record):
    """The host variables of one account record (unsafe-wrapped), without the constructed ones."""
    account = record["account"]
    variables = {
        "ansible_connection": "local",
        "sendgrid_account_id": account["id"],
        "sendgrid_created_at": account.get("created_at"),
        "sendgrid_account": account,
    }
    for source, (dummy, name) in SOURCES.items():
        if source in record:
            variables[name] = record[source]
    return {name: (value if name == "ansible_connection" else wrap_var(value)) for name, value in variables.items()}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "sendgrid.partners.accounts"

    def verify_file(self, path):
        if super().verify_file(path) and path.endswith(("sendgrid.partners.accounts.yml", "sendgrid.partners.accounts.yaml")):
            return True
        self.display.vvv("sendgrid.partners.accounts: skipping %s: the file name must end in sendgrid.partners.accounts.yml or .yaml" % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        settings = self._settings()
        sources = [source for source, (option, dummy) in SOURCES.items() if self.get_option(option)]
        signature = {"format": CACHE_FORMAT, "api_url": str(settings["api_url"]), "sources": sources}  # plain data only

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        records = None
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and {key: cached.get(key) for key in signature} == signature and records_ok(cached.get("records")):
                records = cached["records"]  # an empty list is a hit too
                self.display.vvv("sendgrid.partners.accounts: %d accounts from the cache" % len(records))
        if records is None:
            result = self._fetch(settings, sources)
            records = result.records
            if use_cache and not result.failures:
                self._cache[cache_key] = dict(signature, records=records)
        self._populate(records)

    # ---- options

    def _settings(self):
        """The connection options, checked before any request; AnsibleParserError naming each wrong one."""
        settings = {name: self.get_option(name) for name in ("api_key", "api_url", "timeout", "validate_certs", "ca_path",
                                                             "max_retries", "concurrency", "group", "hostname")}
        api_key = settings["api_key"]
        if isinstance(api_key, str) and self.templar.is_template(api_key):
            try:
                settings["api_key"] = self.templar.template(api_key)
            except Exception as exc:  # any templating error: the message must not show the result
                raise AnsibleParserError("sendgrid.partners.accounts: the api_key template failed: %s" % to_native(exc)) from None
        settings["api_url"] = api_url_or_default(settings["api_url"])
        problems = connection_problems(settings)
        problems.append(int_problem("concurrency", settings["concurrency"], 1, MAX_CONCURRENCY))
        if not isinstance(settings["group"], str) or not settings["group"].strip():
            problems.append("group must be a non-empty group name, got %r" % (settings["group"],))
        problems = [problem for problem in problems if problem]
        if problems:
            raise AnsibleParserError("sendgrid.partners.accounts: %s" % "; ".join(problems))
        if not HAS_REQUESTS:
            raise AnsibleError("sendgrid.partners.accounts: %s" % missing_required_lib("requests"))
        return settings

    # ---- reading SendGrid

    def _fetch(self, settings, sources):
        gate = RateLimitGate()
        strict = self.get_option("strict")

        def make_client(warn):
            return SendGridClient(api_key=settings["api_key"], api_url=settings["api_url"], timeout=settings["timeout"],
                                  validate_certs=settings["validate_certs"], ca_path=settings["ca_path"],
                                  max_retries=settings["max_retries"], warn=warn, gate=gate)

        try:
            result = fetch_all(make_client, sources, settings["concurrency"], strict,
                               on_retry=lambda message: self.display.vvv("sendgrid.partners.accounts: %s" % message))
        except SendGridError as exc:
            raise AnsibleError("sendgrid.partners.accounts: listing the customer accounts failed: %s" % exc) from None
        if result.retries:
            self.display.warning("sendgrid.partners.accounts: %d requests were rate limited or could not connect, and were "
                                 "retried (max_retries %d); see -vvv" % (result.retries, settings["max_retries"]))
        if result.failures:
            self._report_failures(result, strict)
        return result

    def _report_failures(self, result, strict):
        account_id, source, message = result.failures[0]
        variable = SOURCES[source][1]
        if strict:
            raise AnsibleError("sendgrid.partners.accounts: reading %s of account %s failed: %s. With strict: false the inventory "
                               "is built without the variables that could not be read, with a warning" % (variable, account_id, message))
        by_variable = {}
        for dummy, each_source, dummy2 in result.failures:
            name = SOURCES[each_source][1]
            by_variable[name] = by_variable.get(name, 0) + 1
        self.display.warning("sendgrid.partners.accounts: %d of %d per-account requests failed (%s), so those hosts lack that "
                             "variable and the result was not cached; the first: reading %s of account %s failed: %s"
                             % (len(result.failures), result.requests, ", ".join("%s %d" % item for item in sorted(by_variable.items())),
                                variable, account_id, message))

    # ---- building the inventory

    def _populate(self, records):
        strict = self.get_option("strict")
        group = self.inventory.add_group(self.get_option("group"))
        compose, groups, keyed_groups = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        template = self.get_option("hostname")
        names = {}
        for record in records:
            variables = host_variables(record)
            name = self._host_name(template, record, variables) if template else wrap_var(record["account"]["id"])
            if name in names:
                raise AnsibleParserError("sendgrid.partners.accounts: accounts %s and %s would both be the host %r; change the "
                                         "hostname template so that it names every account apart (the account ID is unique)"
                                         % (names[name], record["account"]["id"], name))
            names[name] = record["account"]["id"]
            self.inventory.add_host(name, group=group)
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            if compose:
                self._set_composite_vars(compose, variables, name, strict=strict)
            if groups:
                self._add_host_to_composed_groups(groups, variables, name, strict=strict)
            if keyed_groups:
                self._add_host_to_keyed_groups(keyed_groups, variables, name, strict=strict)

    def _host_name(self, template, record, variables):
        account = record["account"]
        self.templar.available_variables = dict(wrap_var(account), **variables)
        try:
            name = self.templar.template(template)
        except Exception as exc:  # a template error of any kind names the account and the template
            raise AnsibleParserError("sendgrid.partners.accounts: the hostname template %r failed for account %s: %s"
                                     % (template, account["id"], to_native(exc))) from None
        if not isinstance(name, str) or not name.strip():
            raise AnsibleParserError("sendgrid.partners.accounts: the hostname template %r gave %r for account %s, not a host name"
                                     % (template, name, account["id"]))
        return wrap_var(name.strip())
