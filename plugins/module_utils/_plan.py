# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Saved plans: what a check-mode run would buy, written down, signed, and checked again before it is applied.

Internal to the collection (hence the leading underscore): no stable API for other collections.
A plan is a small JSON document: per customer the account, the API URL, what the account held per region when the
plan was made (counts and a digest of the IP sets), a digest of the entries it was planned from, and what would be
added and removed; plus totals, the spend cap in force, when and by which collection version it was made. It is
signed with an HMAC-SHA256 keyed by the API key: only a holder of the key can make a plan that applies, and the key
itself is never written into it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.sendgrid.partners.plugins.module_utils._client import REGIONS, SendGridError

PLAN_FORMAT = "sendgrid.partners/plan"
PLAN_VERSION = 1
SIGNATURE_PREFIX = "hmac-sha256:"
DEFAULT_MAX_AGE = 86400  # sendgrid_plan_max_age: 24 h
MAX_CLOCK_SKEW = 300  # a plan may look this many seconds "from the future" (another controller's clock)
DIGEST_LENGTH = 16  # hex characters of the held/entries digests: change detection, not security (the HMAC is that)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PLAN_VAR = "sendgrid_plan"
PLAN_PATH_VAR = "sendgrid_plan_path"
MAX_AGE_VAR = "sendgrid_plan_max_age"
MAX_PLAN_BYTES = 256 * 1048576
MIN_KEY_LENGTH_CHECKED = 8  # the key is looked for in the plan text only when it is long enough not to match by chance

RECORD_KEYS = ("host", "account_id", "api_url", "held", "held_digest", "entries_digest", "add", "remove")
SHOWN_ORDER = ("host", "account_id", "add", "remove", "held", "api_url", "held_digest", "entries_digest", "add_total", "remove_total")
DOCUMENT_KEYS = ("format", "version", "made_at", "collection_version", "cap", "totals", "customers", "signature")
DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
DURATION_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
ALLOWED_AGES = "a number of seconds (e.g. 86400) or a duration like 24h, 90m, 2d, 3600s or 1h30m"


class PlanError(SendGridError):
    """A plan that cannot be read, written or applied; raised before any request."""


class Plan(dict):
    """A plan document (a plain dict for JSON and Ansible) that remembers where it came from, for messages."""

    source = "the plan"


# ----- canonical forms and digests -------------------------------------------------------------------------------

def canonical_api_url(url):
    """The API URL as plans and locks compare it: no trailing slash, scheme and host lower case, no default port, no user:password@."""
    text = str(url or "").strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return text.rstrip("/")
    if not parts.scheme or not host:
        return text.rstrip("/")
    if ":" in host:
        host = "[%s]" % host
    scheme = parts.scheme.lower()
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        host = "%s:%d" % (host, port)
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, parts.fragment))  # never user:password@


def _plain(value):
    """value as plain JSON types: Ansible hands str/dict/list subclasses (unsafe, tagged) and tuples."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return str(value)


def canonical_json(value):
    """The one text that is signed and digested: sorted keys, no spaces, ASCII."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _digest(value):
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()[:DIGEST_LENGTH]


def _as_int(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    return value


def canonical_entries(entries):
    """The entries as the digest sees them: what they mean, not how they were written.

    Options left unset (None, as argument validation fills them in), state present written or not, total/count as
    digits or integers, the order of the entries and of the IPs to remove: none of that changes the digest.
    """
    canonical = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            canonical.append(_plain(entry))
            continue
        item = {str(key): _plain(value) for key, value in entry.items() if value is not None}
        item.setdefault("state", "present")
        for key in ("total", "count"):
            if key in item:
                item[key] = _as_int(item[key])
        if isinstance(item.get("ips"), list):
            item["ips"] = sorted(str(ip) for ip in item["ips"])
        canonical.append(item)
    return sorted(canonical, key=canonical_json)


def entries_digest(entries):
    return _digest(canonical_entries(entries))


def held_ips(held, region):
    return sorted(str(ip) for ip in (held or {}).get(region) or [])


def held_digests(held):
    """Per region, a digest of the set of IPs held (order does not matter)."""
    return {region: _digest(held_ips(held, region)) for region in REGIONS}


def held_counts(held):
    return {region: len(held_ips(held, region)) for region in REGIONS}


# ----- making a plan ---------------------------------------------------------------------------------------------

def customer_record(host, account_id, api_url, held, entries, add, remove):
    """One customer's line of the plan.

    held: {"eu": [ips], "us": [ips]} as listed when planning; entries: the customer's normalized sendgrid_ips;
    add: {"us": n, ...}; remove: [ips].
    """
    return {
        "host": str(host),
        "account_id": str(account_id),
        "api_url": canonical_api_url(api_url),
        "held": held_counts(held),
        "held_digest": held_digests(held),
        "entries_digest": entries_digest(entries),
        "add": {str(region): int(count) for region, count in sorted((add or {}).items()) if int(count) > 0},
        "remove": [str(ip) for ip in remove or []],
    }


def iso_time(moment):
    """moment (an aware or UTC datetime, or a Unix time) as ISO-8601 UTC to the second."""
    if moment is None:
        moment = time.time()
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return moment.strftime(TIME_FORMAT)
    return datetime.datetime.fromtimestamp(int(moment), datetime.timezone.utc).strftime(TIME_FORMAT)


def parse_time(text):
    """The Unix time of an ISO time as iso_time writes it, or None."""
    try:
        moment = datetime.datetime.strptime(str(text), TIME_FORMAT)
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def totals_of(records):
    add = {region: 0 for region in REGIONS}
    for record in records:
        for region, count in record["add"].items():
            add[region] = add.get(region, 0) + count
    return {
        "add": add,
        "add_total": sum(add.values()),
        "remove_total": sum(len(record["remove"]) for record in records),
        "customers": len(records),
    }


def _signing_key(api_key):
    """The HMAC key: the API key, or (for a run whose customers use several keys) all of them, order-free."""
    if isinstance(api_key, (list, tuple, set, frozenset)):
        keys = sorted(set(str(key) for key in api_key if key))
        return b"\0".join(key.encode("utf-8") for key in keys) if len(keys) > 1 else (keys[0].encode("utf-8") if keys else b"")
    return str(api_key or "").encode("utf-8")


def signature_of(document, api_key):
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    mac = hmac.new(_signing_key(api_key), canonical_json(unsigned).encode("ascii"), hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def _keys(api_key):
    if isinstance(api_key, (list, tuple, set, frozenset)):
        return [str(key) for key in api_key if key]
    return [str(api_key)] if api_key else []


def build_plan(records, cap, made_at, collection_version, api_key):
    """The whole plan document, signed. records: customer_record() results; cap: the spend cap in force or None."""
    if not _keys(api_key):
        raise PlanError("a plan is signed with the API key, and there is none: set sendgrid_api_key or SENDGRID_API_KEY")
    records = sorted((dict(record) for record in records), key=lambda record: record["host"])
    document = Plan({
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "made_at": iso_time(made_at),
        "collection_version": str(collection_version),
        "cap": None if cap is None else int(cap),
        "totals": totals_of(records),
        "customers": records,
    })
    document["signature"] = signature_of(document, api_key)
    text = canonical_json(document)
    for key in _keys(api_key):
        if len(key) >= MIN_KEY_LENGTH_CHECKED and key in text:  # e.g. a key written into an api_url
            raise PlanError("refusing to make a plan that would contain the API key (is it part of sendgrid_api_url?)")
    return document


def _ordered(value):
    """A dict with what a reader looks for first (host, account, what is added and removed) in front; JSON order only."""
    if not isinstance(value, dict):
        return value
    keys = [key for key in SHOWN_ORDER if key in value] + sorted(key for key in value if key not in SHOWN_ORDER)
    return {key: _ordered(value[key]) if isinstance(value[key], dict) else value[key] for key in keys}


def render_plan(document):
    """The plan as a file holds it: valid JSON, one line per top-level field and per customer, so diffs read well."""
    lines = ["{"]
    fields = [key for key in DOCUMENT_KEYS if key in document] + sorted(key for key in document if key not in DOCUMENT_KEYS)
    for position, key in enumerate(fields):
        comma = "," if position < len(fields) - 1 else ""
        value = _plain(document[key])
        if key == "customers" and isinstance(value, list) and value:
            lines.append('  "customers": [')
            for number, record in enumerate(value):
                lines.append("    %s%s" % (json.dumps(_ordered(record), ensure_ascii=True), "," if number < len(value) - 1 else ""))
            lines.append("  ]%s" % comma)
        else:
            lines.append("  %s: %s%s" % (json.dumps(key), json.dumps(_ordered(value), ensure_ascii=True), comma))
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_plan(path, document):
    """Write the plan to path atomically (a temporary file in the same directory, then a rename), mode 0600."""
    path = os.path.abspath(os.path.expanduser(str(path)))
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    except OSError as exc:
        raise PlanError("%s %s: cannot write the plan there: %s" % (PLAN_PATH_VAR, path, exc.strerror or exc)) from None
    try:
        with os.fdopen(handle, "w", encoding="ascii") as stream:
            stream.write(render_plan(document))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise PlanError("%s %s: cannot write the plan there: %s" % (PLAN_PATH_VAR, path, exc.strerror or exc)) from None
    return path


# ----- reading a plan --------------------------------------------------------------------------------------------

def _type_name(value):
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a %s" % type(value).__name__


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shape_problem(document):
    """The first way document differs from a plan of this version, or None. Says where, never echoes values."""
    missing = [key for key in DOCUMENT_KEYS if key not in document]
    if missing:
        return "it lacks %s" % ", ".join(missing)
    if not isinstance(document["made_at"], str) or parse_time(document["made_at"]) is None:
        return "made_at must be an ISO-8601 UTC time like 2026-01-31T12:00:00Z"
    if document["cap"] is not None and not _is_count(document["cap"]):
        return "cap must be an integer or null"
    if not isinstance(document["signature"], str) or not document["signature"].startswith(SIGNATURE_PREFIX):
        return "signature must be a string starting with %s" % SIGNATURE_PREFIX
    totals = document["totals"]
    if not isinstance(totals, dict) or not isinstance(totals.get("add"), dict) or not all(
            _is_count(totals.get(key)) for key in ("add_total", "remove_total", "customers")):
        return "totals must hold add (per region), add_total, remove_total and customers"
    customers = document["customers"]
    if not isinstance(customers, list):
        return "customers must be a list, got %s" % _type_name(customers)
    hosts = set()
    for position, record in enumerate(customers):
        where = "customers[%d]" % position
        if not isinstance(record, dict):
            return "%s must be a dict, got %s" % (where, _type_name(record))
        lacking = [key for key in RECORD_KEYS if key not in record]
        if lacking:
            return "%s lacks %s" % (where, ", ".join(lacking))
        for key in ("host", "account_id", "api_url", "entries_digest"):
            if not isinstance(record[key], str) or not record[key]:
                return "%s.%s must be a non-empty string" % (where, key)
        for key in ("held", "add"):
            if not isinstance(record[key], dict) or any(region not in REGIONS or not _is_count(count) for region, count in record[key].items()):
                return "%s.%s must map regions (eu, us) to counts" % (where, key)
        if not isinstance(record["held_digest"], dict) or not all(isinstance(value, str) for value in record["held_digest"].values()):
            return "%s.held_digest must map regions to digests" % where
        if not isinstance(record["remove"], list) or not all(isinstance(ip, str) for ip in record["remove"]):
            return "%s.remove must be a list of IPs" % where
        if record["host"] in hosts:
            return "host %s appears more than once in customers" % record["host"]
        hosts.add(record["host"])
    return None


def _parse_document(value, source, name):
    """Check that value is a plan of this version; a Plan (dict) of plain JSON types."""
    if not isinstance(value, dict):
        raise PlanError("%s is not a plan at all: expected a dict like the artifact sendgrid_plan of a check-mode run, got %s%s"
                        % (source, _type_name(value), " (for a plan file, use sendgrid_plan_path)" if isinstance(value, str) else ""))
    if value.get("format") != PLAN_FORMAT:
        keys = ", ".join(sorted(str(key) for key in value)[:10]) or "none"
        raise PlanError("%s is not a plan at all: it has no format %r (its keys: %s). Give %s the artifact sendgrid_plan of a "
                        "check-mode run%s" % (source, PLAN_FORMAT, keys, name,
                                              "" if name == PLAN_PATH_VAR else ", or sendgrid_plan_path the file it wrote"))
    version = value.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PlanError("%s is not a valid plan: version must be an integer" % source)
    if version > PLAN_VERSION:
        raise PlanError("%s is a plan of version %d, made by sendgrid.partners %s; this collection reads plans of version %d: "
                        "apply it with the collection version that made it, or re-plan" % (
                            source, version, value.get("collection_version", "(unknown)"), PLAN_VERSION))
    if version < PLAN_VERSION:
        raise PlanError("%s is a plan of version %d, which this collection no longer reads: re-plan" % (source, version))
    document = Plan(_plain(value))
    document.source = source
    problem = _shape_problem(document)
    if problem:
        raise PlanError("%s is not a valid plan (damaged or edited by hand?): %s. Re-plan with a check-mode run" % (source, problem))
    return document


def load_plan(value, name=None):
    """The plan given as sendgrid_plan (a dict, or its JSON text) or sendgrid_plan_path (a file on the controller).

    name: the variable it came from, for messages; by default sendgrid_plan for a dict (or JSON text), else
    sendgrid_plan_path. Raises PlanError with a message that names the variable.
    """
    if name is None:
        name = PLAN_PATH_VAR if isinstance(value, str) and not value.strip().startswith("{") else PLAN_VAR
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise PlanError("%s is not a plan at all: it is a string that is not JSON (%s)" % (name, exc)) from None
    if name != PLAN_PATH_VAR or isinstance(value, dict):
        return _parse_document(value, name, name)
    if not isinstance(value, str) or not value.strip():
        raise PlanError("%s must be the path of a plan file written by a check-mode run, or %s the plan itself; got %s"
                        % (name, PLAN_VAR, "an empty string" if value == "" else _type_name(value)))
    path = os.path.expanduser(value)
    source = "%s %s" % (name, value)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise PlanError("%s: no such file. Make the plan first with a check-mode run (--check) and the same %s"
                        % (source, PLAN_PATH_VAR)) from None
    except IsADirectoryError:
        raise PlanError("%s is a directory, not a plan file" % source) from None
    except OSError as exc:
        raise PlanError("%s cannot be read: %s" % (source, exc.strerror or exc)) from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError("%s is larger than %d MiB: not a plan at all" % (source, MAX_PLAN_BYTES // 1048576))
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PlanError("%s is not JSON (%s): not a plan at all" % (source, exc)) from None
    return _parse_document(parsed, source, name)


# ----- checking a plan before it is applied ----------------------------------------------------------------------

def format_duration(seconds):
    """Seconds as a duration sendgrid_plan_max_age accepts: 90061 -> 1d1h1m1s, 0 -> 0s."""
    seconds = int(seconds)
    parts = []
    for unit, size in DURATION_UNITS:
        if seconds >= size:
            parts.append("%d%s" % (seconds // size, unit))
            seconds %= size
    return "".join(parts) or "0s"


def parse_max_age(value):
    """sendgrid_plan_max_age as seconds: an integer of seconds, or a duration (24h, 90m, 2d, 3600s, 1h30m); None: 24 h."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_MAX_AGE
    seconds = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit() and text.isascii():
            seconds = int(text)
        else:
            match = DURATION_PATTERN.match(text) if text.isascii() else None
            if match and any(match.groups()):
                seconds = sum(int(amount) * size for amount, (dummy, size) in zip(match.groups(), DURATION_UNITS) if amount)
    if seconds is None or seconds < 1:
        raise PlanError("%s must be %s, at least 1 second; got %r" % (MAX_AGE_VAR, ALLOWED_AGES, value))
    return seconds


def _now(now):
    if now is None:
        return time.time()
    if isinstance(now, datetime.datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=datetime.timezone.utc)
        return now.timestamp()
    return float(now)


def check_plan(document, api_key, api_urls, max_age_seconds, now=None):
    """Refuse, before any request, a plan this run must not apply: made for another API URL, too old, from the
    future, edited by hand or signed with another key. document: what load_plan returned."""
    source = getattr(document, "source", "the plan")
    run_urls = sorted(set(canonical_api_url(url) for url in api_urls))
    foreign = sorted(set(record["api_url"] for record in document["customers"]) - set(run_urls))
    if foreign:
        raise PlanError("%s was made for %s, but this run uses %s: apply a plan made against the same API URL, or re-plan"
                        % (source, ", ".join(foreign), ", ".join(run_urls) or "no API URL"))
    made = parse_time(document["made_at"])
    current = _now(now)
    age = current - made
    if age > max_age_seconds:
        raise PlanError("%s was made %s ago (at %s), more than %s allows (%s): re-plan, or raise %s, e.g. -e %s=%s"
                        % (source, format_duration(age), document["made_at"], MAX_AGE_VAR, format_duration(max_age_seconds),
                           MAX_AGE_VAR, MAX_AGE_VAR, format_duration(age + 3600 - age % 3600)))
    if -age > MAX_CLOCK_SKEW:
        raise PlanError("%s was made at %s, %s in the future of this controller's clock (at most %s is tolerated): check the "
                        "clocks of the controllers that made and apply the plan, or re-plan"
                        % (source, document["made_at"], format_duration(-age), format_duration(MAX_CLOCK_SKEW)))
    if not hmac.compare_digest(str(document["signature"]), signature_of(document, api_key)):
        raise PlanError("%s does not verify against this run's API key: it was edited by hand after it was made, or it was made "
                        "with another API key. Nothing was bought; re-plan with a check-mode run using this key" % source)
    totals = totals_of(document["customers"])
    if any(document["totals"].get(key) != totals[key] for key in ("add_total", "remove_total", "customers")):
        raise PlanError("%s is inconsistent: its totals do not add up from its customers; re-plan" % source)
    return document


def records_by_host(document):
    return {record["host"]: record for record in document["customers"]}


def _ips(count):
    return "IP" if count == 1 else "IPs"


def record_problem(record, account_id, held_now, entries, api_url=None):
    """None when this customer may be applied as planned, else why not: one message for the customer.

    record: its line of the plan (None when the plan has none); account_id, entries: the customer's now;
    held_now: {"eu": [ips], "us": [ips]} as just listed.
    """
    if record is None:
        return "this customer is not in the plan: re-plan with this host in the inventory"
    if str(account_id) != record["account_id"]:
        return "sendgrid_account_id changed since the plan was made (the plan has %s, now %s): re-plan" % (record["account_id"], account_id)
    if api_url is not None and canonical_api_url(api_url) != record["api_url"]:
        return "sendgrid_api_url changed since the plan was made (the plan has %s, now %s): re-plan" % (
            record["api_url"], canonical_api_url(api_url))
    problems = []
    if entries_digest(entries) != record["entries_digest"]:
        problems.append("sendgrid_ips changed since the plan was made")
    counts, digests = held_counts(held_now), held_digests(held_now)
    for region in REGIONS:
        planned = record["held"].get(region, 0)
        if counts[region] != planned:
            problems.append("plan saw %d %s %s, the account now holds %d" % (planned, region, _ips(planned), counts[region]))
        elif digests[region] != record["held_digest"].get(region):
            problems.append("plan saw %d %s %s, the account now holds %d different %s" % (
                planned, region, _ips(planned), counts[region], "one" if planned == 1 else "ones"))
    return "; ".join(problems) + ": re-plan" if problems else None
