# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SendGridClient over real HTTP, against the SendGrid simulator (tests/simulator) in a subprocess.

What is easier to see at client level than through a module: how long it waits after a 429,
when it gives up, what it retries (never a POST that may have reached SendGrid), the pages it asks
for, and the headers and path it sends.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _client
from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, SendGridClient, TransportError

API_KEY = "client-http-test-key-" + secrets.token_hex(8)
PATH = "/v3/partners/accounts/acc1/ips"


@pytest.fixture
def sim(start_simulator):
    """A simulator with one empty account acc1, no faults, an empty request log."""
    started = start_simulator(api_key=API_KEY)
    started.reset({"acc1": {}})
    return started


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch):
    """Waits exactly as computed, so the tests can compare them."""
    monkeypatch.setattr(_client, "with_jitter", lambda wait: wait)


class Client(SendGridClient):
    """A client that records its waits and warnings instead of sleeping."""

    def __init__(self, api_url, **options):
        self.waits, self.warnings = [], []
        options.setdefault("api_key", API_KEY)
        options.setdefault("timeout", 5.0)
        super().__init__(api_url=api_url, warn=self.warnings.append, sleep=self.waits.append, **options)


def api_requests(sim, method=None):
    return [record for record in sim.requests() if method in (None, record["method"])]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------- 429


def test_429_with_reset_as_epoch_waits_until_then_and_retries(sim):
    sim.faults([{"match": {"method": "POST"}, "action": "rate_limit", "times": 2, "reset": "epoch", "wait": 5}])
    client = Client(sim.url)

    ips, region = client.add_ips("acc1", "us", 2)

    # reset = ceil(now + 5) as a Unix time: 5 to 6 s from when it was sent (not 1.7e9 s capped, not a backoff)
    assert len(client.waits) == 2
    assert all(4.0 < wait < 6.0 for wait in client.waits), client.waits
    assert [r["status"] for r in api_requests(sim)] == [429, 429, 201]
    assert region == "us" and ips == [item["ip"] for item in sim.accounts()["acc1"]][::-1]
    assert [w.split(";")[0] for w in client.warnings] == ["POST %s was rate limited (HTTP 429)" % PATH] * 2


def test_429_with_reset_in_seconds_waits_that_long_and_retries(sim):
    sim.faults([{"match": {"method": "GET"}, "action": "rate_limit", "times": 2, "reset": "seconds", "wait": 3}])
    client = Client(sim.url)

    assert client.list_ips("acc1") == []
    assert client.waits == pytest.approx([3.0, 3.0], abs=0.5)
    assert [r["status"] for r in api_requests(sim)] == [429, 429, 200]


def test_429_beyond_max_retries_is_an_error_that_was_not_processed(sim):
    sim.faults([{"action": "rate_limit", "times": 5, "reset": "seconds", "wait": 1}])
    client = Client(sim.url, max_retries=2)

    with pytest.raises(ApiError) as error:
        client.add_ips("acc1", "eu", 1)

    assert error.value.status == 429
    assert not error.value.maybe_processed
    assert str(error.value).endswith("Hint: SendGrid's rate limit is spent; raise max_retries or lower the concurrency (throttle)")
    assert client.waits == pytest.approx([1.0, 1.0], abs=0.5)
    assert [r["status"] for r in api_requests(sim)] == [429, 429, 429]
    assert sim.accounts()["acc1"] == []


# ------------------------------------------------------------------------- no answer, 5xx


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused_is_retried_with_backoff_then_reported_as_never_sent(method):
    url = "http://127.0.0.1:%d" % free_port()
    client = Client(url, max_retries=2)

    with pytest.raises(TransportError) as error:
        if method == "GET":
            client.list_ips("acc1")
        else:
            client.add_ips("acc1", "us", 1)

    assert error.value.maybe_processed is False
    assert client.waits == [1.0, 2.0]
    assert str(error.value).startswith("%s %s got no answer: could not connect to %s after 2 retries" % (method, PATH, url))
    assert str(error.value).endswith("; nothing was sent")
    assert len(client.warnings) == 2


def test_timeout_on_post_is_not_retried_and_may_have_been_processed(sim):
    # SendGrid acts, then answers after the client's timeout
    sim.faults([{"match": {"method": "POST"}, "action": "slow", "delay": 2, "commit": True}])
    client = Client(sim.url, timeout=0.5)

    with pytest.raises(TransportError) as error:
        client.add_ips("acc1", "us", 3)

    assert error.value.maybe_processed is True
    assert "no answer within the timeout of 0.5 s" in str(error.value)
    assert client.waits == []
    assert len(api_requests(sim, "POST")) == 1
    deadline = time.monotonic() + 5  # (on a busy machine the simulator may act after the timeout)
    while not sim.accounts()["acc1"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sim.accounts()["acc1"]) == 3  # it was processed: the caller must reconcile


def test_dropped_connection_on_post_is_not_retried_and_may_have_been_processed(sim):
    sim.faults([{"match": {"method": "POST"}, "action": "drop", "commit": True}])
    client = Client(sim.url)

    with pytest.raises(TransportError) as error:
        client.add_ips("acc1", "eu", 2)

    assert error.value.maybe_processed is True
    assert "the connection broke before an answer" in str(error.value)
    assert client.waits == []
    assert len(api_requests(sim, "POST")) == 1
    assert len(sim.accounts()["acc1"]) == 2


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_5xx_is_not_retried_and_may_have_been_processed(sim, method):
    sim.reset({"acc1": {"ips": [{"ip": "174.0.9.1", "region": "us"}]}})
    sim.faults([{"match": {"method": method}, "action": "error", "status": 503}])
    client = Client(sim.url)

    with pytest.raises(ApiError) as error:
        if method == "POST":
            client.add_ips("acc1", "us", 1)
        else:
            client.remove_ips("acc1", ["174.0.9.1"])

    assert error.value.status == 503
    assert error.value.maybe_processed is True
    assert str(error.value) == ("%s %s failed with HTTP 503 Service Unavailable: Service Unavailable (error_id 10-50300)"
                                % (method, PATH))
    assert client.waits == []
    assert len(api_requests(sim, method)) == 1


def test_html_error_page_gives_a_clear_message(sim):
    sim.faults([{"action": "error", "status": 502, "body": "html"}])

    with pytest.raises(ApiError) as error:
        Client(sim.url).list_ips("acc1")

    message = str(error.value)
    assert message.startswith("GET %s failed with HTTP 502 Bad Gateway: the answer was not SendGrid JSON: text/html body '<html>" % PATH)
    assert error.value.errors == []


# ---------------------------------------------------------------------------------- pages


def test_pagination_over_10003_ips_reads_3_pages_from_the_last_ip_of_each(sim):
    sim.reset({"acc1": {"generate": {"us": 10000, "eu": 3}}})
    held = sim.accounts()["acc1"]

    listed = Client(sim.url).list_ips("acc1")

    assert listed == held
    assert [r["query"] for r in api_requests(sim)] == [
        {"limit": "5000"},
        {"limit": "5000", "offset": held[4999]["ip"]},
        {"limit": "5000", "offset": held[9999]["ip"]},
    ]


def test_a_full_last_page_is_followed_by_one_empty_page(sim):
    sim.reset({"acc1": {"generate": {"eu": 5000}}})
    held = sim.accounts()["acc1"]

    assert Client(sim.url).list_ips("acc1") == held
    assert [r["query"] for r in api_requests(sim)] == [{"limit": "5000"}, {"limit": "5000", "offset": held[4999]["ip"]}]


# ------------------------------------------------------------------------- what is sent


def test_account_id_with_a_slash_is_one_encoded_segment_reaching_that_account(sim):
    sim.reset({
        "team/acme": {"ips": [{"ip": "174.0.9.1", "region": "us"}]},
        "team": {"ips": [{"ip": "174.0.9.2", "region": "us"}]},
        "acme": {"ips": [{"ip": "174.0.9.3", "region": "us"}]},
    })
    client = Client(sim.url)

    assert client.list_ips("team/acme") == [{"ip": "174.0.9.1", "region": "us"}]
    new_ips, region = client.add_ips("team/acme", "eu", 1)
    client.remove_ips("team/acme", ["174.0.9.1"])

    assert sim.accounts()["team/acme"] == [{"ip": new_ips[0], "region": "eu"}]
    assert sim.accounts()["team"] == [{"ip": "174.0.9.2", "region": "us"}]
    assert {(r["path"], r["account_id"], r["status"]) for r in api_requests(sim)} == {
        ("/v3/partners/accounts/team%2Facme/ips", "team/acme", status) for status in (200, 201, 204)}


def test_the_key_is_sent_as_bearer_and_a_wrong_key_is_a_401(sim):
    Client(sim.url).list_ips("acc1")
    with pytest.raises(ApiError) as error:
        Client(sim.url, api_key="wrong-" + API_KEY).list_ips("acc1")

    assert error.value.status == 401
    assert [r["authorized"] for r in api_requests(sim)] == [True, False]
    assert API_KEY not in str(error.value)


class HeaderRecorder(BaseHTTPRequestHandler):
    """Answers every GET with an empty page and keeps the request headers (the simulator does not)."""

    seen = []

    def do_GET(self):  # noqa: N802 (name from BaseHTTPRequestHandler)
        self.seen.append(dict(self.headers))
        body = json.dumps({"result": [], "pages": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_headers_name_the_collection_and_carry_the_key():
    HeaderRecorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), HeaderRecorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        Client("http://127.0.0.1:%d/" % server.server_address[1]).list_ips("acc1")
    finally:
        server.shutdown()
        server.server_close()

    (headers,) = HeaderRecorder.seen
    assert headers["Authorization"] == "Bearer " + API_KEY
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("ansible-collection-sendgrid.partners/%s python-requests/" % _client.COLLECTION_VERSION)
