"""Behaviour of the SendGrid simulator, run as a real server process."""

import http.client
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import API_KEY
from simctl import SERVER, account_path, api_call, is_simulator_running

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"


def ips_of(sim, account_id=ACCOUNT):
    return [entry["ip"] for entry in sim.accounts()[account_id]]


def only_error(answer):
    """The single error of a SendGrid error body."""
    assert answer.headers["Content-Type"] == "application/json"
    errors = answer.json()["errors"]
    assert len(errors) == 1
    return errors[0]


# --------------------------------------------------------------------------- POST


def test_post_adds_unique_ips_that_become_the_newest(sim):
    sim.reset({ACCOUNT: {"ips": [{"ip": "174.0.2.1", "region": "us"}]}, "other": {"generate": {"us": 3}}})
    answer = sim.call("POST", ACCOUNT, body={"count": 3, "region": "eu"})
    assert answer.status == 201
    assert answer.headers["Content-Type"] == "application/json"
    added = answer.json()
    assert added["region"] == "eu" and len(added["ips"]) == 3
    for ip in added["ips"]:
        ipaddress.IPv4Address(ip)
    assert len(set(added["ips"]) | set(ips_of(sim, "other")) | {"174.0.2.1"}) == 7

    second = sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"}).json()["ips"]
    listed = [entry["ip"] for entry in sim.call("GET", ACCOUNT, query={"limit": 50}).json()["result"]]
    assert listed == second + list(reversed(added["ips"])) + ["174.0.2.1"]


@pytest.mark.parametrize("body, field, allowed", [
    ({"count": 11, "region": "us"}, "count", "1 to 10"),
    ({"count": 0, "region": "us"}, "count", "1 to 10"),
    ({"count": "2", "region": "us"}, "count", "1 to 10"),
    ({"count": True, "region": "us"}, "count", "1 to 10"),
    ({"count": 2.0, "region": "us"}, "count", "1 to 10"),
    ({"region": "us"}, "count", "1 to 10"),
    ({"count": 1}, "region", "eu, us"),
    ({"count": 1, "region": "EU"}, "region", "eu, us"),
    ({"count": 1, "region": "asia"}, "region", "eu, us"),
    ({"count": 1, "region": None}, "region", "eu, us"),
])
def test_post_rejects_bad_count_or_region(sim, body, field, allowed):
    sim.reset({ACCOUNT: {}})
    answer = sim.call("POST", ACCOUNT, body=body)
    assert answer.status == 400
    error = only_error(answer)
    assert error["field"] == field and allowed in error["message"] and error["error_id"] == "10-40000"
    assert sim.accounts()[ACCOUNT] == []


@pytest.mark.parametrize("raw_body", [b"{not json", b"", b"[1, 2]", b"\xff\xfe"])
def test_post_rejects_malformed_or_non_object_body(sim, raw_body):
    sim.reset({ACCOUNT: {}})
    answer = sim.call("POST", ACCOUNT, raw_body=raw_body)
    assert answer.status == 400
    assert only_error(answer)["error_id"] == "10-40000"


# --------------------------------------------------------------------------- auth, 404, 405


@pytest.mark.parametrize("header_key", [None, "wrong-key", "", API_KEY + "x"])
def test_wrong_or_missing_bearer_is_401_and_not_processed(sim, header_key):
    sim.reset({ACCOUNT: {}})
    answer = api_call(sim.url, "POST", account_path(ACCOUNT), header_key, body={"count": 1, "region": "us"})
    assert answer.status == 401
    assert only_error(answer) == {"message": "Failed to authenticate user", "field": "", "error_id": "10-40100"}
    assert sim.accounts()[ACCOUNT] == []
    assert sim.requests()[-1]["authorized"] is False


def test_basic_auth_scheme_is_refused(sim):
    sim.reset({ACCOUNT: {}})
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    connection.request("GET", account_path(ACCOUNT), headers={"Authorization": "Basic " + API_KEY})
    assert connection.getresponse().status == 401
    connection.close()


@pytest.mark.parametrize("method, body", [
    ("GET", None), ("POST", {"count": 1, "region": "us"}), ("DELETE", {"ips": ["174.0.2.1"]})])
def test_unknown_account_is_404(sim, method, body):
    answer = sim.call(method, "sg-nobody", body=body)
    assert answer.status == 404
    assert only_error(answer) == {"message": "Account not found", "field": "", "error_id": "10-40400"}


def test_checks_run_auth_then_account_then_input(sim):
    assert sim.call("POST", "sg-nobody", api_key="wrong", raw_body=b"{").status == 401
    assert sim.call("POST", "sg-nobody", raw_body=b"{").status == 404
    assert sim.call("GET", "sg-nobody", query={"limit": 0}).status == 404


def test_other_methods_are_405_and_unknown_paths_404(sim):
    sim.reset({ACCOUNT: {}})
    assert sim.call("PUT", ACCOUNT, body={}).status == 405
    assert sim.call("PATCH", ACCOUNT, body={}).status == 405
    assert api_call(sim.url, "POST", "/v3/partners/accounts", API_KEY).status == 405  # CreateAccount is not served
    assert api_call(sim.url, "GET", "/v3/partners", API_KEY).status == 404
    assert api_call(sim.url, "GET", "/v3/partners/accounts/%s" % ACCOUNT, API_KEY).status == 404
    assert api_call(sim.url, "GET", account_path(ACCOUNT) + "/extra", API_KEY).status == 404


def test_encoded_slash_is_part_of_the_account_id(sim):
    sim.reset({"team/a": {"generate": {"us": 1}}, "team": {}})
    answer = sim.call("GET", "team/a")
    assert answer.status == 200 and len(answer.json()["result"]) == 1
    assert sim.requests()[-1]["account_id"] == "team/a"
    assert sim.control("GET", "/_sim/accounts/team%2Fa")["id"] == "team/a"


# --------------------------------------------------------------------------- GET


def test_get_pages_through_5003_ips_in_two_pages_of_5000(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 5000, "eu": 3}}})
    expected = ips_of(sim)
    assert len(expected) == 5003

    first = sim.call("GET", ACCOUNT, query={"limit": 5000}).json()
    assert len(first["result"]) == 5000
    assert first["pages"]["last"] == first["result"][-1]["ip"]
    second = sim.call("GET", ACCOUNT, query={"limit": 5000, "offset": first["pages"]["last"]}).json()
    assert len(second["result"]) == 3
    assert second["pages"]["last"] == second["result"][-1]["ip"]
    assert [entry["ip"] for entry in first["result"] + second["result"]] == expected
    # the generated eu IPs were added last, so they come first
    assert [entry["region"] for entry in first["result"][:3]] == ["eu", "eu", "eu"]

    after_last = sim.call("GET", ACCOUNT, query={"limit": 5000, "offset": second["pages"]["last"]}).json()
    assert after_last == {"result": [], "pages": {}}


def test_get_defaults_to_10_and_empty_account_has_empty_pages(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 12}}, "empty": {}})
    assert len(sim.call("GET", ACCOUNT).json()["result"]) == 10
    assert sim.call("GET", "empty").json() == {"result": [], "pages": {}}


def test_get_offset_not_on_the_account_is_an_empty_page(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    answer = sim.call("GET", ACCOUNT, query={"offset": "203.0.113.9"})
    assert answer.status == 200 and answer.json() == {"result": [], "pages": {}}


@pytest.mark.parametrize("query, field", [
    ({"limit": 0}, "limit"), ({"limit": 5001}, "limit"), ({"limit": "abc"}, "limit"), ({"limit": "2.5"}, "limit"),
    ({"limit": -1}, "limit"), ({"offset": "not-an-ip"}, "offset"), ({"offset": "2001:db8::1"}, "offset"),
    ({"offset": ""}, "offset"),
])
def test_get_rejects_bad_limit_or_offset(sim, query, field):
    sim.reset({ACCOUNT: {}})
    answer = sim.call("GET", ACCOUNT, query=query)
    assert answer.status == 400 and only_error(answer)["field"] == field


# --------------------------------------------------------------------------- DELETE


def test_delete_removes_and_answers_204_without_body(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 3}}})
    keep, *remove = ips_of(sim)
    answer = sim.call("DELETE", ACCOUNT, body={"ips": remove})
    assert answer.status == 204 and answer.body == b""
    assert "Content-Type" not in answer.headers
    assert ips_of(sim) == [keep]


def test_delete_of_an_ip_not_on_the_account_removes_nothing(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}, "other": {"generate": {"eu": 1}}})
    before = ips_of(sim)
    foreign = ips_of(sim, "other")[0]
    answer = sim.call("DELETE", ACCOUNT, body={"ips": [before[0], foreign]})
    assert answer.status == 400
    error = only_error(answer)
    assert error["field"] == "ips" and foreign in error["message"]
    assert ips_of(sim) == before and ips_of(sim, "other") == [foreign]


@pytest.mark.parametrize("body", [
    {}, {"ips": []}, {"ips": "174.0.0.1"}, {"ips": ["not-an-ip"]}, {"ips": [1]},
    {"ips": ["174.0.0.%d" % n for n in range(1, 12)]},
])
def test_delete_rejects_a_bad_ips_list(sim, body):
    sim.reset({ACCOUNT: {"generate": {"us": 11}}})
    answer = sim.call("DELETE", ACCOUNT, body=body)
    assert answer.status == 400 and only_error(answer)["field"] == "ips"
    assert len(ips_of(sim)) == 11


# --------------------------------------------------------------------------- headers, keep-alive


def test_every_api_answer_has_rate_limit_headers_but_control_answers_do_not(sim):
    sim.reset({ACCOUNT: {}})
    answers = [sim.call("GET", ACCOUNT), sim.call("GET", "nobody"), sim.call("GET", ACCOUNT, api_key="bad"),
               sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"}), sim.call("PUT", ACCOUNT)]
    for answer in answers:
        assert int(answer.headers["X-RateLimit-Limit"]) > 0
        assert int(answer.headers["X-RateLimit-Remaining"]) >= 1
        assert abs(int(answer.headers["X-RateLimit-Reset"]) - time.time()) <= 61
    health = api_call(sim.url, "GET", "/_sim/health", None)
    assert "X-RateLimit-Limit" not in health.headers


def test_keep_alive_connection_serves_several_requests(sim):
    sim.reset({ACCOUNT: {}})
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        statuses = [api_call(sim.url, method, account_path(ACCOUNT), API_KEY, body=body, connection=connection).status
                    for method, body in [("GET", None), ("POST", {"count": 1, "region": "eu"}),
                                         ("POST", {"count": 99, "region": "eu"}), ("GET", None)]]
        ip = ips_of(sim)[0]
        statuses.append(api_call(sim.url, "DELETE", account_path(ACCOUNT), API_KEY, body={"ips": [ip]},
                                 connection=connection).status)
        statuses.append(api_call(sim.url, "GET", account_path(ACCOUNT), API_KEY, connection=connection).status)
    finally:
        connection.close()
    assert statuses == [200, 201, 400, 200, 204, 200]


def test_concurrent_posts_keep_every_ip_in_memory_and_in_the_state_file(make_simulator, tmp_path):
    state = tmp_path / "state.json"
    sim = make_simulator(state=str(state))
    sim.reset({ACCOUNT: {}})
    added, failures = [], []

    def post_five_times():
        for _attempt in range(5):
            answer = sim.call("POST", ACCOUNT, body={"count": 3, "region": "us"})
            if answer.status == 201:
                added.extend(answer.json()["ips"])
            else:
                failures.append(answer.status)

    threads = [threading.Thread(target=post_five_times) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(added) == len(set(added)) == 120
    assert sorted(ips_of(sim)) == sorted(added)
    saved = json.loads(state.read_text())["accounts"][ACCOUNT]
    assert sorted(entry["ip"] for entry in saved) == sorted(added)


# --------------------------------------------------------------------------- request log


def test_request_log_records_every_api_request_but_no_control_call(sim):
    sim.reset({"acc/1": {}})
    sim.call("POST", "acc/1", body={"count": 1, "region": "us"})
    sim.call("GET", "acc/1", query={"limit": 7})
    sim.call("DELETE", "acc/1", api_key="wrong", raw_body=b"not json")
    sim.accounts()
    log = sim.requests()
    assert [(r["seq"], r["method"], r["status"], r["authorized"]) for r in log] == [
        (1, "POST", 201, True), (2, "GET", 200, True), (3, "DELETE", 401, False)]
    assert log[0]["path"] == "/v3/partners/accounts/acc%2F1/ips"
    assert log[0]["account_id"] == "acc/1"
    assert log[0]["body"] == {"count": 1, "region": "us"} and log[0]["query"] == {}
    assert log[1]["query"] == {"limit": "7"} and log[1]["body"] is None
    assert log[2]["body"] == "not json"
    assert all(record["fault"] is None for record in log)
    assert API_KEY not in json.dumps(log) and "wrong" not in json.dumps(log)
    sim.clear_requests()
    assert sim.requests() == []


# --------------------------------------------------------------------------- faults


def test_rate_limit_fault_with_epoch_reset_is_not_processed(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "rate_limit", "wait": 3, "match": {"method": "POST"}}])
    answer = sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"})
    assert answer.status == 429
    assert answer.json() == {"errors": [{"field": None, "message": "too many requests"}]}
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert 2 <= int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 4
    assert sim.accounts()[ACCOUNT] == []
    assert sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"}).status == 201
    assert [r["fault"] for r in sim.requests()] == ["rate_limit", None]


def test_rate_limit_fault_with_seconds_reset_rounds_up_or_uses_the_raw_value(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "rate_limit", "wait": 0.2, "reset": "seconds"},
                {"action": "rate_limit", "reset_value": "soon"}])
    assert sim.call("GET", ACCOUNT).headers["X-RateLimit-Reset"] == "1"
    assert sim.call("GET", ACCOUNT).headers["X-RateLimit-Reset"] == "soon"
    assert sim.call("GET", ACCOUNT).status == 200


def test_fault_matching_times_and_order(sim):
    sim.reset({ACCOUNT: {}, "other": {}})
    sim.faults([{"action": "error", "status": 503, "times": 2, "match": {"account_id": "other", "method": "get"}},
                {"action": "error", "status": 500}])
    pending = sim.faults()
    assert [(f["status"], f["times"]) for f in pending] == [(503, 2), (500, 1)]
    statuses = [sim.call("GET", "other").status, sim.call("GET", ACCOUNT).status,
                sim.call("GET", "other").status, sim.call("GET", "other").status]
    assert statuses == [503, 500, 503, 200]
    assert sim.faults() == []
    sim.faults([{"action": "error"}])
    sim.clear_faults()
    assert sim.call("GET", ACCOUNT).status == 200


def test_error_fault_without_commit_is_not_processed(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "error", "status": 502}])
    answer = sim.call("POST", ACCOUNT, body={"count": 2, "region": "us"})
    assert answer.status == 502
    assert only_error(answer) == {"message": "Bad Gateway", "field": "", "error_id": "10-50200"}
    assert sim.accounts()[ACCOUNT] == []


def test_error_fault_with_commit_performs_then_answers_504(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "error", "status": 504, "commit": True}])
    answer = sim.call("POST", ACCOUNT, body={"count": 2, "region": "eu"})
    assert answer.status == 504
    assert only_error(answer)["error_id"] == "10-50400"
    assert len(ips_of(sim)) == 2
    assert sim.requests()[-1]["status"] == 504 and sim.requests()[-1]["fault"] == "error"


def test_error_fault_with_html_body(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "error", "status": 502, "body": "html"}])
    answer = sim.call("GET", ACCOUNT)
    assert answer.status == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.body.startswith(b"<html>") and b"502 Bad Gateway" in answer.body


@pytest.mark.parametrize("commit, ips_after", [(False, 0), (True, 1)])
def test_drop_fault_closes_without_answer(sim, commit, ips_after):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "drop", "commit": commit}])
    with pytest.raises(http.client.RemoteDisconnected):
        sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"})
    assert len(ips_of(sim)) == ips_after
    assert sim.requests()[-1]["status"] is None and sim.requests()[-1]["fault"] == "drop"


@pytest.mark.parametrize("commit", [False, True])
def test_slow_fault_delays_and_commits_before_or_after_the_wait(sim, commit):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "slow", "delay": 0.6, "commit": commit}])
    answers = []
    started = time.monotonic()
    caller = threading.Thread(target=lambda: answers.append(sim.call("POST", ACCOUNT, body={"count": 1, "region": "us"})))
    caller.start()
    time.sleep(0.3)
    ips_during_the_wait = len(ips_of(sim))
    caller.join()
    assert time.monotonic() - started >= 0.6
    assert answers[0].status == 201
    assert ips_during_the_wait == (1 if commit else 0)
    assert len(ips_of(sim)) == 1


@pytest.mark.parametrize("faults", [
    [{"action": "explode"}], [{"action": "error", "times": 0}], [{"action": "error", "status": 200}],
    [{"action": "slow", "delay": "1"}], [{"action": "rate_limit", "reset": "minutes"}],
    [{"action": "drop", "match": {"path": "/x"}}], "not a list",
])
def test_invalid_faults_are_refused(sim, faults):
    answer = api_call(sim.url, "POST", "/_sim/faults", None, body={"faults": faults})
    assert answer.status == 400
    assert sim.faults() == []


# --------------------------------------------------------------------------- control API


def test_control_accounts_create_replace_and_read(sim):
    sim.reset({"a": {"ips": [{"ip": "174.0.2.1", "region": "us"}]}})
    created = sim.set_accounts({"b": {"generate": {"eu": 2}}, "a": None})
    assert len(created["b"]) == 2 and created["a"] == []
    assert set(sim.accounts()) == {"a", "b"}
    assert sim.control("GET", "/_sim/accounts/b")["ips"] == created["b"]
    assert api_call(sim.url, "GET", "/_sim/accounts/nobody", None).status == 404
    assert api_call(sim.url, "GET", "/_sim/nothing", None).status == 404
    # an IP may be held by one account only; the refused call changes nothing
    refused = api_call(sim.url, "POST", "/_sim/accounts", None,
                       body={"accounts": {"c": {"ips": [{"ip": created["b"][0]["ip"], "region": "eu"}]}}})
    assert refused.status == 400 and set(sim.accounts()) == {"a", "b"}


def test_control_api_refuses_bad_bodies_and_changes_nothing(sim):
    sim.reset({ACCOUNT: {}})
    sim.call("GET", ACCOUNT)
    for path, raw_body in [("/_sim/accounts", b"{oops"), ("/_sim/reset", b"[]"),
                           ("/_sim/reset", b'{"accounts": {"a": {"ips": [{"ip": "1.2.3.4", "region": "mars"}]}}}'),
                           ("/_sim/accounts", b'{"accounts": {"a": {"generate": {"us": -1}}}}')]:
        answer = api_call(sim.url, "POST", path, None, raw_body=raw_body)
        assert answer.status == 400, path
    assert sim.accounts() == {ACCOUNT: []} and len(sim.requests()) == 1


def test_reset_clears_accounts_requests_and_faults(sim):
    sim.reset({ACCOUNT: {}})
    sim.call("GET", ACCOUNT)
    sim.faults([{"action": "drop"}])
    sim.control("POST", "/_sim/reset")
    assert sim.accounts() == {} and sim.requests() == [] and sim.faults() == []


# --------------------------------------------------------------------------- process: state, seed, latency, signals


def test_state_survives_a_restart_and_ips_are_never_reused(make_simulator, tmp_path):
    state = str(tmp_path / "state.json")
    seed = os.path.join(HERE, "example_seed.yml")
    first = make_simulator(state=state, seed=seed)
    added = first.call("POST", ACCOUNT, body={"count": 3, "region": "us"}).json()["ips"]
    assert first.call("DELETE", ACCOUNT, body={"ips": added[:1]}).status == 204
    accounts_before = first.accounts()
    first.stop()

    second = make_simulator(state=state, seed=seed)
    assert second.accounts() == accounts_before
    more = second.call("POST", ACCOUNT, body={"count": 3, "region": "us"}).json()["ips"]
    assert not set(more) & set(added)


def test_example_seed_and_json_seed_load(make_simulator, tmp_path):
    simulator = make_simulator(seed=os.path.join(HERE, "example_seed.yml"))
    accounts = simulator.accounts()
    assert accounts[ACCOUNT] == [{"ip": "174.0.2.1", "region": "us"}]
    assert [] in accounts.values() and any(len(ips) == 5 for ips in accounts.values())

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": {"x": {"generate": {"eu": 2}}}}))
    assert len(make_simulator(seed=str(seed)).accounts()["x"]) == 2


def test_latency_delays_the_api_but_not_the_control_api(make_simulator):
    simulator = make_simulator(latency=0.4)
    simulator.reset({ACCOUNT: {}})
    started = time.monotonic()
    simulator.accounts()
    assert time.monotonic() - started < 0.3
    started = time.monotonic()
    assert simulator.call("GET", ACCOUNT).status == 200
    assert time.monotonic() - started >= 0.4


def test_sigterm_exits_cleanly_and_saves_state(tmp_path):
    port_file, state = tmp_path / "port", tmp_path / "state.json"
    process = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", str(port_file),
                                "--api-key", API_KEY, "--state", str(state)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_file.exists()
        base = "http://127.0.0.1:%s" % port_file.read_text().strip()
        api_call(base, "POST", "/_sim/accounts", None, body={"accounts": {"x": {"generate": {"us": 1}}}})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr.read() == b""
    assert len(json.loads(state.read_text())["accounts"]["x"]) == 1
    assert not port_file.exists()


def test_simctl_start_and_stop_from_a_shell(tmp_path):
    directory = str(tmp_path / "sim")
    fetch = "import urllib.request, sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
    script = ('eval "$({0} simctl.py start --dir {1} --api-key {2} --seed example_seed.yml --latency 0)" && '
              '{0} -c "{3}" "$SENDGRID_API_URL/_sim/health" && echo "pid=$SENDGRID_SIM_PID"'
              .format(sys.executable, directory, API_KEY, fetch))
    shell = subprocess.run(["bash", "-c", script], cwd=HERE, capture_output=True, text=True, timeout=30, check=False)
    try:
        assert shell.returncode == 0, shell.stderr
        assert '{"ok": true}' in shell.stdout
        pid = int(shell.stdout.split("pid=")[1])
    finally:
        subprocess.run([sys.executable, os.path.join(HERE, "simctl.py"), "stop", "--dir", directory],
                       check=True, timeout=15)
    assert not is_simulator_running(pid)  # gone, or a zombie waiting for a parent that does not reap
    stop_again = [sys.executable, os.path.join(HERE, "simctl.py"), "stop", "--dir", directory]
    assert subprocess.run(stop_again, check=False).returncode == 0  # already stopped: no error


def test_simctl_start_reports_a_server_that_cannot_start(tmp_path):
    seed = tmp_path / "bad.json"
    seed.write_text('{"accounts": {"x": {"ips": [{"ip": "nope", "region": "us"}]}}}')
    result = subprocess.run([sys.executable, os.path.join(HERE, "simctl.py"), "start", "--dir", str(tmp_path),
                             "--api-key", API_KEY, "--seed", str(seed)], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode != 0
    assert "simulator exited" in result.stderr and "cannot load initial state" in result.stderr


def test_the_key_never_reaches_the_log_file(make_simulator):
    simulator = make_simulator(verbose=True)
    simulator.reset({ACCOUNT: {}})
    simulator.call("POST", ACCOUNT, body={"count": 1, "region": "us"})
    simulator.call("GET", ACCOUNT, api_key="another-secret")
    simulator.stop()
    with open(simulator.log_path, encoding="utf-8") as log:
        text = log.read()
    assert "POST /v3/partners/accounts/%s/ips" % ACCOUNT in text  # --verbose did log the requests
    assert API_KEY not in text and "another-secret" not in text
