# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client against a hostile or broken server: the real simulator with its respond and mangle faults.

Each case asserts the error class, a message a user can act on, how many requests were made, and what the
account really holds afterwards.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _client
from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    ApiError,
    ResponseError,
    SendGridClient,
    TransportError,
)
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import OutcomeError, Purchase, region_ips

KEY = "hostile-server-test-key-5f1d3c"
ACCOUNT = "acc/1"  # a slash, so every path below also proves the one-segment encoding
PATH = "/v3/partners/accounts/acc%2F1/ips"


@pytest.fixture
def sim(start_simulator):
    return start_simulator(api_key=KEY)


class Recorder:
    """Stands in for time.sleep and module.warn."""

    def __init__(self):
        self.sleeps = []
        self.warnings = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def warn(self, message):
        self.warnings.append(message)


def make_client(sim, recorder=None, **options):
    recorder = recorder or Recorder()
    options.setdefault("timeout", 5)
    return SendGridClient(KEY, sim.url, sleep=recorder.sleep, warn=recorder.warn, **options)


def methods(sim):
    return [record["method"] for record in sim.requests()]


def held(sim, region):
    return [entry["ip"] for entry in sim.accounts()[ACCOUNT] if entry["region"] == region]


def purchase(sim, client, total=25, region="us"):
    """What add_ips does with total: list, then buy the shortfall."""
    return Purchase(client, ACCOUNT, region, region_ips(client.list_ips(ACCOUNT), region), total=total)


# --------------------------------------------------------------------------- unreadable answers to a GET


def test_truncated_json_page_is_a_clear_response_error(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 3}}})
    sim.faults([{"action": "mangle", "mode": "truncate_json"}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value).startswith("GET %s answered HTTP 200 with a body that is not JSON: application/json body '{\"result\": [" % PATH)
    assert methods(sim) == ["GET"]


def test_an_html_page_with_200_is_a_clear_response_error(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 1}}})
    sim.faults([{"action": "respond", "status": 200, "headers": {"Content-Type": "text/html"},
                 "body": "<html><body>Please log in to the proxy</body></html>"}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value) == ("GET %s answered HTTP 200 with a body that is not JSON: text/html body "
                                 "'<html><body>Please log in to the proxy</body></html>'" % PATH)
    assert methods(sim) == ["GET"]


def test_a_wrong_content_type_is_read_but_still_checked(sim):
    """A JSON body under text/html is accepted only because every entry is validated; a wrong entry is not."""
    sim.reset({ACCOUNT: {"generate": {"us": 2, "eu": 1}}})
    sim.faults([{"action": "mangle", "mode": "wrong_content_type"}])
    assert make_client(sim).list_ips(ACCOUNT) == sim.accounts()[ACCOUNT]
    sim.faults([{"action": "respond", "status": 200, "headers": {"Content-Type": "text/plain"},
                 "json": {"result": [{"ip": "2001:db8::1", "region": "us"}], "pages": {}}}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value) == ("GET %s answered an entry that is not {ip: IPv4, region: eu|us}: "
                                 "{'ip': '2001:db8::1', 'region': 'us'}" % PATH)
    assert methods(sim) == ["GET", "GET"]


@pytest.mark.parametrize("document, message", [
    ({"pages": {}}, "answered without a 'result' list"),
    ({"result": "all of them", "pages": {}}, "answered without a 'result' list"),
    ({"result": [{"ip": "174.0.0.1", "region": "asia"}]}, "answered an entry that is not {ip: IPv4, region: eu|us}"),
    ({"result": ["174.0.0.1"]}, "answered an entry that is not {ip: IPv4, region: eu|us}"),
    ([{"ip": "174.0.0.1", "region": "us"}], "answered HTTP 200 with JSON that is not an object"),
])
def test_pages_that_break_the_schema_are_refused(sim, document, message):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "respond", "status": 200, "json": document}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value).startswith("GET %s %s" % (PATH, message))
    assert methods(sim) == ["GET"]


# --------------------------------------------------------------------------- pages that never end


def test_a_repeated_page_with_new_offsets_stops_at_the_second_page(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 5003}}})
    sim.faults([{"action": "mangle", "mode": "repeat_page", "shift_last": True, "times": 1000}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value) == ("GET %s answered a full page of IPs already seen (offset 198.18.0.1); refusing to loop"
                                 % PATH)
    assert methods(sim) == ["GET", "GET"]


def test_endless_pages_stop_at_the_page_limit(sim, monkeypatch):
    """Pages of new IPs forever: the client stops after MAX_PAGES (made small here: 5 IPs a page, 20 pages)."""
    monkeypatch.setattr(_client, "PAGE_LIMIT", 5)
    monkeypatch.setattr(_client, "MAX_PAGES", 20)
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "endless_pages", "times": 1000}])
    with pytest.raises(ResponseError) as caught:
        make_client(sim).list_ips(ACCOUNT)
    assert str(caught.value) == "GET %s did not end after 20 pages of 5 IPs; refusing to read further" % PATH
    log = sim.requests()
    assert len(log) == 20 and all(record["query"]["limit"] == "5" for record in log)
    assert "offset" not in log[0]["query"] and all("offset" in record["query"] for record in log[1:])


def test_a_page_repeated_with_the_same_offset_is_an_error_not_the_end(sim):
    # 3 US IPs, then 5000 EU IPs that are newer: the first page holds only EU IPs.
    sim.reset({ACCOUNT: {"generate": {"us": 3, "eu": 5000}}})
    sim.faults([{"action": "mangle", "mode": "repeat_page", "times": 1000, "match": {"method": "GET"}}])
    client = make_client(sim)
    with pytest.raises(ResponseError) as caught:
        purchase(sim, client, total=3).buy(Recorder().warn)
    assert "refusing" in str(caught.value)
    assert "POST" not in methods(sim)
    assert len(held(sim, "us")) == 3


# --------------------------------------------------------------------------- huge and slow bodies


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_body_is_refused_with_bounded_memory(sim, chunked):
    sim.reset({ACCOUNT: {"generate": {"us": 1}}})
    size = 64 * 1048576 if chunked else 17 * 1048576
    sim.faults([{"action": "mangle", "mode": "huge_body", "size": size, "chunked": chunked}])
    client = make_client(sim)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ResponseError) as caught:
            client.list_ips(ACCOUNT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == "GET %s answered HTTP 200 with a body above 16 MiB; refusing to read it" % PATH
    assert peak < 24 * 1048576, "peak %d bytes while refusing a %d-byte body" % (peak, size)
    assert time.monotonic() - started < 20
    assert methods(sim) == ["GET"]


def test_a_trickled_answer_ends_within_the_timeout(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    sim.faults([{"action": "mangle", "mode": "trickle", "block": 4, "interval": 0.2}])  # about 30 blocks: 6 s
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        make_client(sim, timeout=1).list_ips(ACCOUNT)
    assert time.monotonic() - started < 3
    assert "timeout of 1 s" in str(caught.value)


# --------------------------------------------------------------------------- rate limits that never end


def test_a_429_forever_is_retried_a_bounded_number_of_times_with_bounded_waits(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "rate_limit", "reset_value": str(int(time.time()) + 86400), "times": 100}])
    recorder = Recorder()
    with pytest.raises(ApiError) as caught:
        make_client(sim, recorder, max_retries=3).list_ips(ACCOUNT)
    assert caught.value.status == 429
    assert str(caught.value).endswith("Hint: SendGrid's rate limit is spent; raise max_retries or lower the concurrency (throttle)")
    assert methods(sim) == ["GET"] * 4
    assert len(recorder.sleeps) == 3 and all(0 < wait <= 60 * 1.1 + 0.25 for wait in recorder.sleeps)


# --------------------------------------------------------------------------- a 201 that does not match the request


@pytest.mark.parametrize("mode, options, answered, answered_region, us_after, eu_after", [
    ("extra_ips", {"extra": 1}, 11, "us", 2 + 11, 0),
    ("fewer_ips", {"fewer": 3}, 7, "us", 2 + 7, 0),
    ("wrong_region", {}, 10, "eu", 2, 10),
])
def test_a_201_that_differs_from_the_request_stops_after_that_post(
        sim, mode, options, answered, answered_region, us_after, eu_after):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    sim.faults([dict({"action": "mangle", "mode": mode, "match": {"method": "POST"}}, **options)])
    client = make_client(sim)
    buying = purchase(sim, client, total=25)  # 23 to buy: 10, 10, 3
    with pytest.raises(OutcomeError) as caught:
        buying.buy(Recorder().warn)
    new_ips = [ip for ip in held(sim, answered_region) if ip not in buying.before]
    assert str(caught.value) == ("POST asked SendGrid for 10 IP(s) in us and it answered %d in %r: %s. They are on the "
                                 "account now; stopping rather than trusting further answers."
                                 % (answered, answered_region, ", ".join(reversed(new_ips))))
    assert methods(sim) == ["GET", "POST"]
    assert (len(held(sim, "us")), len(held(sim, "eu"))) == (us_after, eu_after)
    result = caught.value.to_result()
    assert result["added"] == answered and sorted(result["ips"]) == sorted(new_ips)


def test_add_ips_module_stops_after_a_post_answered_with_extra_ips(sim):
    """The same through the add_ips module itself: one failure, exactly one POST, the IPs reported."""
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "extra_ips", "extra": 2, "match": {"method": "POST"}}])
    outcome = run_add_ips(sim, {"account_id": ACCOUNT, "region": "eu", "total": 15})
    assert outcome["failed"] is True
    assert outcome["msg"].startswith("POST asked SendGrid for 10 IP(s) in eu and it answered 12 in 'eu'")
    assert methods(sim) == ["GET", "POST"]
    assert outcome["added"] == 12 and sorted(outcome["ips"]) == sorted(held(sim, "eu"))


def test_add_ips_module_stops_after_a_post_answered_in_the_wrong_region(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "wrong_region", "match": {"method": "POST"}}])
    outcome = run_add_ips(sim, {"account_id": ACCOUNT, "region": "us", "count": 3})
    assert outcome["failed"] is True
    assert outcome["msg"].startswith("POST asked SendGrid for 3 IP(s) in us and it answered 3 in 'eu'")
    assert methods(sim) == ["GET", "POST"]
    assert held(sim, "us") == [] and len(held(sim, "eu")) == 3


UNREADABLE_201 = [
    pytest.param({"action": "mangle", "mode": "truncate_json"}, "with a body that is not JSON", id="truncated"),
    pytest.param({"action": "mangle", "mode": "no_ips"}, "without a list of IPv4 addresses in 'ips'", id="no ips"),
    pytest.param({"action": "respond", "status": 201, "commit": True, "json": {"ips": ["::1"], "region": "us"}},
                 "without a list of IPv4 addresses in 'ips'", id="ipv6"),
    pytest.param({"action": "mangle", "mode": "huge_body"}, "with a body above 16 MiB", id="huge"),
]


@pytest.mark.parametrize("fault, message", UNREADABLE_201)
def test_a_201_the_client_cannot_read_stops_the_purchase(sim, fault, message):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    sim.faults([dict(fault, match={"method": "POST"})])
    with pytest.raises(OutcomeError) as caught:
        purchase(sim, make_client(sim), total=25).buy(Recorder().warn)
    assert "POST %s answered" % PATH in str(caught.value) and "201" in str(caught.value)
    assert message in str(caught.value)
    assert methods(sim).count("POST") == 1
    assert len(held(sim, "us")) == 12  # the server did buy them


@pytest.mark.parametrize("fault, message", UNREADABLE_201)
def test_a_201_the_client_cannot_read_is_reconciled_and_reported(sim, fault, message):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    sim.faults([dict(fault, match={"method": "POST"})])
    before = held(sim, "us")
    with pytest.raises(OutcomeError) as caught:
        run_count = Purchase(make_client(sim), ACCOUNT, "us", before, count=10)
        run_count.buy(Recorder().warn)
    new_ips = [ip for ip in held(sim, "us") if ip not in before]
    assert message in str(caught.value)
    assert all(ip in str(caught.value) for ip in new_ips)
    assert caught.value.to_result()["added"] == 10 and sorted(caught.value.to_result()["ips"]) == sorted(new_ips)
    assert methods(sim) == ["POST", "GET"]


# --------------------------------------------------------------------------- the module, in process


def run_add_ips(sim, options):
    """Run sendgrid.partners.add_ips' main() against the simulator; its exit_json/fail_json result."""
    from ansible_collections.sendgrid.partners.plugins.modules import add_ips  # pylint: disable=import-outside-toplevel
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel

    args = dict({"api_key": KEY, "api_url": sim.url, "timeout": 5}, **options)
    with module_args(args), pytest.MonkeyPatch.context() as patch:
        patch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        patch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        with pytest.raises(ModuleExit) as exited:
            add_ips.main()
    return exited.value.result


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def exit_json(self, **result):  # pylint: disable=unused-argument
    raise ModuleExit(dict(result, failed=False))


def fail_json(self, msg, **result):  # pylint: disable=unused-argument
    raise ModuleExit(dict(result, failed=True, msg=msg))


def module_args(args):
    """Module arguments for AnsibleModule, on ansible-core 2.16 and later."""
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        import json  # pylint: disable=import-outside-toplevel
        from unittest import mock  # pylint: disable=import-outside-toplevel
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8"))
    return patch_module_args(args)
