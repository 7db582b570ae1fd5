# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one SendGrid Partners API client of this collection.

Internal to the collection (hence the leading underscore): no stable API for other collections.
It knows nothing of Ansible, so modules and action plugins can share it. Its rules:
- a timeout on every request; TLS verified unless switched off;
- a request is repeated only when it provably was not processed: a 429 answer, or a
  connection that never reached the server; never a POST or DELETE after a 5xx, a timeout
  or a dropped connection (those raise, and the caller reconciles by listing);
- the API key goes into the Authorization header and nowhere else.
"""

from __future__ import annotations

import ipaddress
import math
import random
import threading
import time
from urllib.parse import quote

try:
    import requests
    from requests.exceptions import ConnectTimeout, ConnectionError as RequestsConnectionError, RequestException, SSLError, Timeout
    from urllib3.exceptions import MaxRetryError, NewConnectionError
except ImportError:
    HAS_REQUESTS = False
else:
    HAS_REQUESTS = True

COLLECTION_VERSION = "0.1.0"
DEFAULT_API_URL = "https://api.sendgrid.com"
REGIONS = ("eu", "us")
MAX_IPS_PER_REQUEST = 10
PAGE_LIMIT = 5000
MAX_PAGES = 1000
MAX_RATE_LIMIT_WAIT = 60.0
MAX_BODY_BYTES = 16 * 1048576
EPOCH_THRESHOLD = 1000000000  # an X-RateLimit-Reset above this is a Unix time, below it seconds
ACCOUNTS_PATH = "/v3/partners/accounts"
ACCOUNT_PAGE_LIMIT = 100  # the spec's maximum for ListAccount
MAX_ACCOUNT_PAGES = 100000
ACCOUNT_STATES = ("activated", "deactivated", "suspended", "banned", "indeterminate")
ACCOUNT_HINTS = {
    403: "the API key lacks the partner account provisioning scope (reading customer accounts)",
}

HINTS = {
    401: "check the API key, and that it belongs to the reseller (partner) account",
    403: "the API key lacks the partner IP provisioning scope",
    404: "the account ID is not one of your customer accounts",
    429: "SendGrid's rate limit is spent; raise max_retries or lower the concurrency (throttle)",
}


class SendGridError(Exception):
    """Base of every error the client raises; str() is a message fit for a user."""

    def to_result(self):
        """Keyword arguments for AnsibleModule.fail_json (besides msg)."""
        return {}


class InvalidRequestError(SendGridError):
    """Refused before sending: the request itself would be wrong."""


class ApiError(SendGridError):
    """SendGrid (or a proxy in front of it) answered with an HTTP error status."""

    def __init__(self, method, path, status, reason, errors=None, body_excerpt=None):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.errors = errors or []
        self.body_excerpt = body_excerpt
        super().__init__(self._message())

    def _message(self):
        head = "%s %s failed with HTTP %s%s" % (self.method, self.path, self.status, " " + self.reason if self.reason else "")
        if self.errors:
            details = "; ".join(_describe_api_error(err) for err in self.errors)
        elif self.body_excerpt:
            details = "the answer was not SendGrid JSON: %s" % self.body_excerpt
        else:
            details = "the answer had no body"
        message = "%s: %s" % (head, details)
        if self.status in HINTS:
            message += ". Hint: %s" % HINTS[self.status]
        return message

    @property
    def maybe_processed(self):
        """A 5xx does not say whether the server acted before it failed."""
        return self.status >= 500

    def to_result(self):
        return {"status": self.status, "errors": self.errors}


class TransportError(SendGridError):
    """No HTTP answer: timeout, dropped connection, TLS or connection failure."""

    def __init__(self, method, path, description, maybe_processed):
        self.method = method
        self.path = path
        self.maybe_processed = maybe_processed
        super().__init__("%s %s got no answer: %s" % (method, path, description))


class ResponseError(SendGridError):
    """An answer that does not follow SendGrid's API description; not to be trusted.

    The server did answer, so a POST or DELETE may have been carried out.
    """

    maybe_processed = True


def _describe_api_error(err):
    text = str(err.get("message") or "no message")
    extras = []
    if err.get("field"):
        extras.append("field %s" % err["field"])
    if err.get("error_id"):
        extras.append("error_id %s" % err["error_id"])
    return "%s (%s)" % (text, ", ".join(extras)) if extras else text


def _body_excerpt(response, limit=200):
    """The body's type and its first characters on one line; None for an empty body."""
    text = " ".join((response.text or "").split())
    if not text:
        return None
    if len(text) > limit:
        text = text[:limit] + "..."
    return "%s body %r" % (response.headers.get("Content-Type", "untyped").split(";")[0], text)


def account_path(account_id):
    """The IP endpoint of one account, with the ID percent-encoded as one path segment."""
    if not isinstance(account_id, str) or not account_id.strip():
        raise InvalidRequestError("account_id must be a non-empty string, got %r" % (account_id,))
    if account_id != account_id.strip() or account_id in (".", ".."):
        raise InvalidRequestError("account_id %r is not a valid SendGrid account ID (surrounding spaces, '.' and '..' are refused)" % account_id)
    if any(ord(char) < 32 or ord(char) == 127 for char in account_id):
        raise InvalidRequestError("account_id %r contains control characters" % account_id)
    return "/v3/partners/accounts/%s/ips" % quote(account_id, safe="")


def rate_limit_wait(reset_header, now, attempt):
    """Seconds to wait after a 429: X-RateLimit-Reset as epoch or as seconds, else exponential."""
    try:
        reset = float(reset_header)
    except (TypeError, ValueError):
        reset = None
    if reset is None or math.isnan(reset):
        wait = 2.0 ** attempt
    elif reset > EPOCH_THRESHOLD:
        wait = reset - now
    else:
        wait = reset
    return min(max(wait, 0.0), MAX_RATE_LIMIT_WAIT)


def with_jitter(wait, rng=random.random):
    """Spread retries of concurrent callers: add up to 10% plus a quarter second."""
    return wait + rng() * (0.1 * wait + 0.25)


def ipv4_or_none(value):
    """The address as a string if value is a dotted-quad IPv4, else None."""
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        return None


def _never_reached_server(exc):
    """True for failures that happen before a request is sent (refused, DNS, connect timeout)."""
    if isinstance(exc, ConnectTimeout):
        return True
    if isinstance(exc, RequestsConnectionError) and exc.args:
        reason = exc.args[0]
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return isinstance(reason, NewConnectionError)
    return False


class RateLimitGate:
    """Shared by the clients of concurrent workers: once one is rate limited, all wait until the reset."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.lock = threading.Lock()
        self.open_at = 0.0

    def close_for(self, seconds):
        with self.lock:
            self.open_at = max(self.open_at, self.clock() + seconds)

    def wait_time(self):
        with self.lock:
            return max(self.open_at - self.clock(), 0.0)


class SendGridClient:
    """One requests.Session against the SendGrid v3 API."""

    def __init__(self, api_key, api_url=DEFAULT_API_URL, timeout=30.0, validate_certs=True, ca_path=None,
                 max_retries=3, warn=None, sleep=time.sleep, clock=time.time, gate=None):
        self.base_url = api_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.warn = warn or (lambda message: None)
        self.sleep = sleep
        self.clock = clock
        self.gate = gate or RateLimitGate(clock)
        self.session = requests.Session()
        self.session.headers.update({
            "Authorization": "Bearer %s" % api_key,
            "Accept": "application/json",
            "User-Agent": "ansible-collection-sendgrid.partners/%s python-requests/%s" % (COLLECTION_VERSION, requests.__version__),
        })
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE override session.verify.
        self.verify = (ca_path or True) if validate_certs else False

    def close(self):
        self.session.close()

    def request(self, method, path, params=None, body=None, expected=200):
        """Send one request; repeat it only while it provably was not processed."""
        retry = 0
        while True:
            pause = self.gate.wait_time()
            if pause:
                self.sleep(with_jitter(pause))  # jitter spreads the workers that waited on the same reset
            try:
                deadline = time.monotonic() + self.timeout
                response = self.session.request(method, self.base_url + path, params=params, json=body, timeout=self.timeout,
                                                verify=self.verify, stream=True)
                _read_bounded(response, method, path, deadline, self.timeout)
            except SSLError as exc:
                raise TransportError(method, path, "TLS failed (%s). Set ca_path to your CA bundle, or validate_certs: false for a test server" % exc,
                                     maybe_processed=False) from None
            except RequestException as exc:
                if _never_reached_server(exc):
                    if retry < self.max_retries:
                        retry += 1
                        wait = with_jitter(min(2.0 ** (retry - 1), MAX_RATE_LIMIT_WAIT))
                        self.warn("%s %s could not connect (%s); retry %d of %d in %.1f s" % (method, path, _short(exc), retry, self.max_retries, wait))
                        self.sleep(wait)
                        continue
                    raise TransportError(method, path, "could not connect to %s after %d retries (%s); nothing was sent"
                                         % (self.base_url, retry, _short(exc)), maybe_processed=False) from None
                if isinstance(exc, Timeout):
                    description = "no answer within the timeout of %g s; the server may still have acted on it" % self.timeout
                else:
                    description = "the connection broke before an answer (%s); the server may still have acted on it" % _short(exc)
                raise TransportError(method, path, description, maybe_processed=True) from None
            if response.status_code == 429 and retry < self.max_retries:
                retry += 1
                wait = rate_limit_wait(response.headers.get("X-RateLimit-Reset"), self.clock(), retry - 1)
                self.warn("%s %s was rate limited (HTTP 429); retry %d of %d after %.1f s" % (method, path, retry, self.max_retries, wait))
                self.gate.close_for(wait)
                continue
            if response.status_code != expected:
                raise api_error(method, path, response)
            return response

    def list_ips(self, account_id):
        """Every IP of the account as [{ip, region}], newest first, following all pages."""
        path = account_path(account_id)
        ips, seen, offset = [], set(), None
        for dummy in range(MAX_PAGES):
            params = {"limit": PAGE_LIMIT}
            if offset:
                params["offset"] = offset
            data = _json_object(self.request("GET", path, params=params), "GET", path)
            page = data.get("result")
            if not isinstance(page, list):
                raise ResponseError("GET %s answered without a 'result' list" % path)
            known_before = len(ips)
            for item in page:
                ip = ipv4_or_none(item.get("ip")) if isinstance(item, dict) else None
                if ip is None or item.get("region") not in REGIONS:
                    raise ResponseError("GET %s answered an entry that is not {ip: IPv4, region: eu|us}: %.200r" % (path, item))
                if ip not in seen:
                    seen.add(ip)
                    ips.append({"ip": ip, "region": item["region"]})
            last = data["pages"].get("last") if isinstance(data.get("pages"), dict) else None
            if len(page) < PAGE_LIMIT or not last:
                return ips
            if last == offset:
                raise ResponseError("GET %s answered a full page ending at the offset %s it was asked to start after; "
                                    "refusing an incomplete list" % (path, offset))
            if len(ips) == known_before:
                raise ResponseError("GET %s answered a full page of IPs already seen (offset %s); refusing to loop" % (path, offset))
            offset = last
        raise ResponseError("GET %s did not end after %d pages of %d IPs; refusing to read further" % (path, MAX_PAGES, PAGE_LIMIT))

    def add_ips(self, account_id, region, count):
        """POST once; the new IPs as a list of strings. Raises on any doubt."""
        path = account_path(account_id)
        data = _json_object(self.request("POST", path, body={"count": count, "region": region}, expected=201), "POST", path)
        ips = data.get("ips")
        if not isinstance(ips, list) or any(ipv4_or_none(ip) is None for ip in ips):
            raise ResponseError("POST %s answered 201 without a list of IPv4 addresses in 'ips': %r" % (path, data))
        return [ipv4_or_none(ip) for ip in ips], data.get("region")

    def remove_ips(self, account_id, ips):
        """DELETE at most MAX_IPS_PER_REQUEST IPs in one request."""
        path = account_path(account_id)
        self.request("DELETE", path, body={"ips": list(ips)}, expected=204)

    # ---- Account Provisioning API (tsg_account_provisioning_v3.yaml): read-only, so safe to repeat

    def list_accounts(self, limit=ACCOUNT_PAGE_LIMIT):
        """Every customer account as a list of dicts (id, created_at and whatever else SendGrid sent), once each.

        ListAccount pages with `limit` (at most 100) and `offset`, the last account ID already seen. The API gives no
        sort order and no stop rule: the next offset is pages.last, or the page's last ID when pages (optional) is
        missing; the listing ends at an empty or short page or at a repeated last. IDs are de-duplicated (the spec's
        own example lists one ID twice), keeping the first entry.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= ACCOUNT_PAGE_LIMIT:
            raise InvalidRequestError("limit must be an integer from 1 to %d, got %r" % (ACCOUNT_PAGE_LIMIT, limit))
        accounts, seen, offset = [], set(), None
        for dummy in range(MAX_ACCOUNT_PAGES):
            params = {"limit": limit}
            if offset:
                params["offset"] = offset
            data = _json_object(_account_call(self, "GET", ACCOUNTS_PATH, params=params), "GET", ACCOUNTS_PATH)
            page = data.get("accounts")
            if not isinstance(page, list):
                raise ResponseError("GET %s answered without an 'accounts' list: %s" % (ACCOUNTS_PATH, _excerpt(data)))
            new = 0
            for item in page:
                if not (isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip()):
                    raise ResponseError("GET %s answered an account without a string 'id': %s" % (ACCOUNTS_PATH, _excerpt(item)))
                if item["id"] not in seen:
                    seen.add(item["id"])
                    accounts.append(dict(item))
                    new += 1
            pages = data.get("pages")
            last = pages.get("last") if isinstance(pages, dict) else None
            if not isinstance(last, str) or not last:
                last = page[-1]["id"] if page else None
            if not page or len(page) < limit or last == offset:
                return accounts
            if not new:
                raise ResponseError("GET %s answered a full page of accounts already seen (offset %s, last %s); refusing to loop"
                                    % (ACCOUNTS_PATH, offset, last))
            offset = last
        raise ResponseError("GET %s did not end after %d pages of %d accounts; refusing to read further" % (ACCOUNTS_PATH, MAX_ACCOUNT_PAGES, limit))

    def account_state(self, account_id):
        """The account's state (activated, deactivated, suspended, banned, indeterminate; a new one is passed on)."""
        path = account_resource_path(account_id, "state")
        data = _json_object(_account_call(self, "GET", path), "GET", path)
        state = data.get("state")
        if not isinstance(state, str) or not state:
            raise ResponseError("GET %s answered without a 'state' string: %s" % (path, _excerpt(data)))
        return state

    def account_offerings(self, account_id):
        """The account's offerings as [{name, type, quantity}] (quantity None when SendGrid omits it)."""
        path = account_resource_path(account_id, "offerings")
        data = _json_object(_account_call(self, "GET", path), "GET", path)
        offerings = data.get("offerings", [])  # optional in the schema: an account with none
        if not isinstance(offerings, list):
            raise ResponseError("GET %s answered 'offerings' that is not a list: %s" % (path, _excerpt(data)))
        result = []
        for item in offerings:
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("type"), str)
                    and (quantity is None or (isinstance(quantity, int) and not isinstance(quantity, bool)))):
                raise ResponseError("GET %s answered an offering that is not {name, type, quantity}: %s" % (path, _excerpt(item)))
            result.append({"name": item["name"], "type": item["type"], "quantity": quantity})
        return result


def account_resource_path(account_id, resource):
    """/v3/partners/accounts/{accountID}/{resource}, the ID checked and percent-encoded as account_path does."""
    return account_path(account_id)[:-len("/ips")] + "/" + resource


class AccountApiError(ApiError):
    """An HTTP error answer of the Account Provisioning API: the same error, with hints for those endpoints."""

    def _message(self):
        message = super()._message()
        if self.status in ACCOUNT_HINTS:
            message = message.split(". Hint: ")[0] + ". Hint: %s" % ACCOUNT_HINTS[self.status]
        return message


def _account_call(client, method, path, params=None):
    """client.request, with an HTTP error raised as AccountApiError."""
    try:
        return client.request(method, path, params=params)
    except ApiError as exc:
        raise AccountApiError(exc.method, exc.path, exc.status, exc.reason, exc.errors, exc.body_excerpt) from None


def _excerpt(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _read_bounded(response, method, path, deadline, timeout):
    """Read the body within the deadline, refusing one larger than MAX_BODY_BYTES (a page of 5,000 IPs is about 250 kB)."""
    body = bytearray()
    read_some = getattr(response.raw, "read1", None)  # urllib3 2: returns what has arrived, so the deadline is checked
    blocks = iter(lambda: read_some(65536, decode_content=True), b"") if read_some else response.iter_content(65536)
    for block in blocks:
        body.extend(block)
        if len(body) > MAX_BODY_BYTES:
            response.close()
            raise ResponseError("%s %s answered HTTP %s with a body above %d MiB; refusing to read it"
                                % (method, path, response.status_code, MAX_BODY_BYTES // 1048576))
        if time.monotonic() > deadline:
            response.close()
            raise TransportError(method, path, "the answer was still arriving after the timeout of %g s; the server may still "
                                 "have acted on it" % timeout, maybe_processed=True)
    response._content = bytes(body)  # what requests itself sets once it has read a streamed body


def _short(exc):
    """The innermost useful part of a requests exception, without the URL noise."""
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def _json_object(response, method, path):
    try:
        data = response.json()
    except ValueError:
        raise ResponseError("%s %s answered HTTP %s with a body that is not JSON: %s"
                            % (method, path, response.status_code, _body_excerpt(response) or "an empty body")) from None
    if not isinstance(data, dict):
        raise ResponseError("%s %s answered HTTP %s with JSON that is not an object: %s"
                            % (method, path, response.status_code, _body_excerpt(response)))
    return data


def api_error(method, path, response):
    """An ApiError from an HTTP error answer, JSON (SendGrid's errors list) or not."""
    errors = None
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        errors = [
            {"message": err.get("message"), "field": err.get("field"), "error_id": err.get("error_id")}
            for err in data["errors"] if isinstance(err, dict)
        ]
    return ApiError(method, path, response.status_code, response.reason, errors, None if errors else _body_excerpt(response))
