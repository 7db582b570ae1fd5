"""The simulator's hostile-server faults (respond, mangle), chaos mode, request log file, leak flag and TLS."""

import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import time

import pytest

import server
from conftest import API_KEY
from simctl import SERVER, api_call

ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"
HERE = os.path.dirname(os.path.abspath(__file__))


def ips_of(sim, region=None):
    return [entry["ip"] for entry in sim.accounts()[ACCOUNT] if region in (None, entry["region"])]


def post(sim, count=2, region="us"):
    return sim.call("POST", ACCOUNT, body={"count": count, "region": region})


# --------------------------------------------------------------------------- respond


def test_respond_sends_exactly_the_status_headers_and_text_body_without_acting(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "respond", "status": 201, "headers": {"Content-Type": "text/plain", "X-Odd": "1"},
                 "body": "created, probably"}])
    answer = post(sim)
    assert (answer.status, answer.body) == (201, b"created, probably")
    assert answer.headers["Content-Type"] == "text/plain" and answer.headers["X-Odd"] == "1"
    assert "X-RateLimit-Limit" in answer.headers  # still looks like SendGrid
    assert ips_of(sim) == []
    assert sim.requests()[0]["fault"] == "respond"


def test_respond_with_json_and_commit_acts_first(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "respond", "status": 200, "json": {"ips": "none"}, "commit": True}])
    answer = post(sim, count=3)
    assert answer.status == 200 and answer.json() == {"ips": "none"}
    assert answer.headers["Content-Type"] == "application/json"
    assert len(ips_of(sim)) == 3


# --------------------------------------------------------------------------- mangle: POST


@pytest.mark.parametrize("mode, options, held_us, held_eu, answered", [
    ("extra_ips", {}, 3, 0, 3),
    ("extra_ips", {"extra": 5}, 7, 0, 7),
    ("fewer_ips", {}, 1, 0, 1),
    ("fewer_ips", {"fewer": 9}, 0, 0, 0),
    ("wrong_region", {}, 0, 2, 2),
])
def test_post_mangles_change_what_the_account_gets_and_the_answer_says_so(sim, mode, options, held_us, held_eu, answered):
    sim.reset({ACCOUNT: {}})
    sim.faults([dict({"action": "mangle", "mode": mode}, **options)])
    answer = post(sim, count=2, region="us")
    assert answer.status == 201
    document = answer.json()
    assert len(document["ips"]) == answered
    assert document["region"] == ("eu" if mode == "wrong_region" else "us")
    assert (len(ips_of(sim, "us")), len(ips_of(sim, "eu"))) == (held_us, held_eu)
    assert sorted(document["ips"]) == sorted(ips_of(sim))


def test_no_ips_acts_but_leaves_ips_out_of_the_201(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "no_ips"}])
    answer = post(sim, count=2)
    assert answer.status == 201 and answer.json() == {"region": "us"}
    assert len(ips_of(sim)) == 2


def test_post_mangle_leaves_invalid_requests_and_other_methods_alone(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 1}}})
    sim.faults([{"action": "mangle", "mode": "extra_ips", "times": 2}])
    assert sim.call("POST", ACCOUNT, body={"count": 11, "region": "us"}).status == 400
    assert sim.call("GET", ACCOUNT).json()["result"] == sim.accounts()[ACCOUNT]
    assert len(ips_of(sim)) == 1


# --------------------------------------------------------------------------- mangle: any answer


def test_truncate_json_cuts_the_body_after_acting(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "truncate_json", "keep": 0.3}])
    answer = post(sim, count=4)
    assert answer.status == 201
    whole = json.dumps({"ips": ips_of(sim)[::-1], "region": "us"}).encode()
    assert answer.body == whole[:int(len(whole) * 0.3)]
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    with pytest.raises(ValueError):
        answer.json()
    assert len(ips_of(sim)) == 4


def test_wrong_content_type_keeps_the_body(sim):
    sim.reset({ACCOUNT: {"generate": {"eu": 2}}})
    sim.faults([{"action": "mangle", "mode": "wrong_content_type"},
                {"action": "mangle", "mode": "wrong_content_type", "content_type": "application/xml"}])
    first, second = sim.call("GET", ACCOUNT), sim.call("GET", ACCOUNT)
    assert first.headers["Content-Type"] == "text/html; charset=utf-8"
    assert second.headers["Content-Type"] == "application/xml"
    assert first.json()["result"] == second.json()["result"] == sim.accounts()[ACCOUNT]


@pytest.mark.parametrize("chunked", [False, True])
def test_huge_body_is_valid_json_of_the_given_size(sim, chunked):
    sim.reset({ACCOUNT: {"generate": {"us": 2}}})
    sim.faults([{"action": "mangle", "mode": "huge_body", "size": 300000, "chunked": chunked}])
    answer = sim.call("GET", ACCOUNT, query={"limit": 10})
    assert answer.status == 200 and len(answer.body) == 300000
    assert answer.json()["result"] == sim.accounts()[ACCOUNT]
    if chunked:
        assert answer.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in answer.headers
    else:
        assert answer.headers["Content-Length"] == "300000"


def test_huge_body_stops_when_the_client_hangs_up(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "mangle", "mode": "huge_body", "size": 1 << 30, "chunked": True}])
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    connection.request("GET", "/v3/partners/accounts/%s/ips" % ACCOUNT, headers={"Authorization": "Bearer " + API_KEY})
    response = connection.getresponse()
    assert len(response.read(100000)) == 100000
    connection.close()
    assert sim.call("GET", ACCOUNT).status == 200  # the server goes on serving


def test_trickle_sends_the_normal_body_slowly(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 1}}})
    sim.faults([{"action": "mangle", "mode": "trickle", "block": 20, "interval": 0.1}])
    started = time.monotonic()
    answer = sim.call("GET", ACCOUNT)
    assert answer.json()["result"] == sim.accounts()[ACCOUNT]
    assert time.monotonic() - started >= 0.1 * (len(answer.body) // 20)


# --------------------------------------------------------------------------- mangle: GET pages


def test_repeat_page_ignores_the_offset(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 5}}})
    first = sim.call("GET", ACCOUNT, query={"limit": 2}).json()
    sim.faults([{"action": "mangle", "mode": "repeat_page", "times": 2}])
    for dummy in range(2):
        again = sim.call("GET", ACCOUNT, query={"limit": 2, "offset": first["pages"]["last"]}).json()
        assert again == first
    assert sim.call("GET", ACCOUNT, query={"limit": 2, "offset": first["pages"]["last"]}).json() != first


def test_repeat_page_with_shift_last_gives_a_new_offset_each_time(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 5}}})
    sim.faults([{"action": "mangle", "mode": "repeat_page", "shift_last": True, "times": 3}])
    pages = [sim.call("GET", ACCOUNT, query={"limit": 2, "offset": "174.0.0.1"}).json() for dummy in range(3)]
    assert all(page["result"] == pages[0]["result"] for page in pages)
    lasts = [page["pages"]["last"] for page in pages]
    assert len(set(lasts)) == 3 and not set(lasts) & set(ips_of(sim))


def test_endless_pages_are_full_of_ips_never_seen(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 1}}})
    sim.faults([{"action": "mangle", "mode": "endless_pages", "times": 3, "region": "eu"}])
    seen = set()
    for dummy in range(3):
        page = sim.call("GET", ACCOUNT, query={"limit": 7}).json()
        assert len(page["result"]) == 7 and page["pages"]["last"] == page["result"][-1]["ip"]
        assert {entry["region"] for entry in page["result"]} == {"eu"}
        new = {entry["ip"] for entry in page["result"]}
        assert not new & seen
        seen |= new
    assert len(ips_of(sim)) == 1 and not set(ips_of(sim)) & seen


@pytest.mark.parametrize("fault", [
    {"action": "mangle"}, {"action": "mangle", "mode": "shred"}, {"action": "mangle", "mode": "extra_ips", "extra": 0},
    {"action": "mangle", "mode": "truncate_json", "keep": 1}, {"action": "mangle", "mode": "huge_body", "chunked": "yes"},
    {"action": "mangle", "mode": "endless_pages", "region": "asia"}, {"action": "mangle", "mode": "trickle", "interval": -1},
    {"action": "respond", "status": 99}, {"action": "respond", "headers": {"X-A": "b\r\nX-B: c"}},
    {"action": "respond", "body": 5}, {"action": "respond", "body": "x", "json": {}},
    {"action": "error", "commit": "yes"},
])
def test_invalid_hostile_faults_are_refused(sim, fault):
    answer = api_call(sim.url, "POST", "/_sim/faults", None, body={"faults": [fault]})
    assert answer.status == 400
    assert sim.faults() == []


# --------------------------------------------------------------------------- chaos


def chaos_statuses(sim, count):
    return [sim.call("GET", ACCOUNT).status for dummy in range(count)]


def test_chaos_injects_the_kinds_at_their_rates_and_counts_them(sim):
    sim.reset({ACCOUNT: {}})
    stats = sim.chaos({"seed": 7, "rates": {"rate_limit": 0.25, "error": 0.25}, "options": {"rate_limit": {"wait": 0}}})
    assert stats["enabled"] and stats["injected"] == {}
    statuses = chaos_statuses(sim, 200)
    counts = {status: statuses.count(status) for status in set(statuses)}
    assert set(counts) == {200, 429, 500}
    assert 25 <= counts[429] <= 75 and 25 <= counts[500] <= 75
    stats = sim.chaos()
    assert stats["seen"] == {"GET": 200}
    assert stats["injected"] == {"rate_limit": {"GET": counts[429]}, "error": {"GET": counts[500]}}
    log = sim.requests()
    assert [record["chaos"] for record in log if record["status"] == 429] == ["rate_limit"] * counts[429]
    assert all(record["chaos"] is None for record in log if record["status"] == 200)


def test_chaos_is_reproducible_with_a_seed_and_stops(sim):
    sim.reset({ACCOUNT: {}})
    config = {"seed": 3, "rates": {"error": 0.5}}
    sim.chaos(config)
    first = chaos_statuses(sim, 30)
    sim.chaos(config)  # restarts the random sequence
    assert chaos_statuses(sim, 30) == first
    final = sim.stop_chaos()
    assert final["enabled"] and sum(final["injected"]["error"].values()) == first.count(500)
    assert sim.chaos() == {"enabled": False}
    assert chaos_statuses(sim, 10) == [200] * 10


def test_chaos_commit_kinds_act_and_methods_filter(sim):
    sim.reset({ACCOUNT: {}})
    sim.chaos({"rates": {"error_commit": 1.0}, "methods": ["post"]})
    assert sim.call("GET", ACCOUNT).status == 200
    assert post(sim).status == 504
    assert len(ips_of(sim)) == 2
    assert sim.chaos()["injected"] == {"error_commit": {"POST": 1}}


def test_explicit_faults_win_over_chaos_and_reset_clears_chaos(sim):
    sim.reset({ACCOUNT: {}})
    sim.chaos({"rates": {"error": 1.0}})
    sim.faults([{"action": "error", "status": 503}])
    assert [sim.call("GET", ACCOUNT).status for dummy in range(2)] == [503, 500]
    sim.reset({ACCOUNT: {}})
    assert sim.chaos() == {"enabled": False}
    assert sim.call("GET", ACCOUNT).status == 200


@pytest.mark.parametrize("config", [
    {"rates": {"meteor": 0.1}}, {"rates": {"error": 0.6, "drop": 0.6}}, {"rates": {"error": -0.1}},
    {"seed": "one"}, {"options": {"slow": {"delay": "long"}}}, {"options": {"slow": {"action": "drop"}}},
    {"methods": "POST"}, {"surprise": 1},
])
def test_invalid_chaos_is_refused(sim, config):
    answer = api_call(sim.url, "POST", "/_sim/chaos", None, body=config)
    assert answer.status == 400
    assert sim.chaos() == {"enabled": False}


# --------------------------------------------------------------------------- request log file and key leaks


def test_request_log_file_has_every_completed_record_but_never_the_authorization(sim):
    sim.reset({ACCOUNT: {}})
    sim.faults([{"action": "drop", "match": {"method": "GET"}}])
    post(sim)
    with pytest.raises(ConnectionError):
        sim.call("GET", ACCOUNT)
    lines = [json.loads(line) for line in open(sim.request_log_path, encoding="utf-8").read().splitlines()]
    tail = lines[-2:]
    assert [(record["method"], record["status"], record["fault"]) for record in tail] == [("POST", 201, None),
                                                                                          ("GET", None, "drop")]
    assert tail == sim.requests()
    assert tail[0]["headers"]["Content-Type"] == "application/json"
    assert all("authorization" not in {name.lower() for name in record["headers"]} for record in tail)
    assert API_KEY not in open(sim.request_log_path, encoding="utf-8").read()


def raw_get(sim, path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        connection.request("GET", path, headers=dict({"Authorization": "Bearer " + API_KEY}, **headers))
        return connection.getresponse().read()
    finally:
        connection.close()


@pytest.mark.parametrize("where", ["query", "body", "path", "header", "base64 in a header"])
def test_a_key_outside_the_authorization_header_is_flagged(sim, where):
    sim.reset({ACCOUNT: {}, API_KEY: {}})
    sim.call("GET", ACCOUNT)
    path = "/v3/partners/accounts/%s/ips" % ACCOUNT
    if where == "query":
        sim.call("GET", ACCOUNT, query={"token": API_KEY})
    elif where == "body":
        sim.call("POST", ACCOUNT, body={"count": 1, "region": "us", "key": API_KEY})
    elif where == "path":
        sim.call("GET", API_KEY)
    elif where == "header":
        raw_get(sim, path, {"X-Api-Key": API_KEY})
    else:
        raw_get(sim, path, {"Cookie": "session=" + base64.b64encode(("user:" + API_KEY).encode()).decode()})
    assert [record["key_elsewhere"] for record in sim.requests()] == [False, True]


# --------------------------------------------------------------------------- TLS


def test_tls_serves_https_with_its_own_certificate(make_simulator):
    simulator = make_simulator(tls=True)
    assert simulator.url.startswith("https://127.0.0.1:")
    assert os.path.exists(simulator.ca_path)
    simulator.reset({ACCOUNT: {"generate": {"us": 1}}})
    assert simulator.call("GET", ACCOUNT).json()["result"] == simulator.accounts()[ACCOUNT]
    with pytest.raises(ssl.SSLCertVerificationError):
        api_call(simulator.url, "GET", "/v3/partners/accounts/%s/ips" % ACCOUNT, API_KEY)
    with pytest.raises((ssl.SSLError, ConnectionError)):  # plain HTTP to a TLS port gets no answer
        api_call(simulator.url.replace("https", "http"), "GET", "/_sim/health", None)
    assert simulator.call("GET", ACCOUNT).status == 200  # refused handshakes do not hurt the server
    with open(simulator.log_path, encoding="utf-8") as log:
        assert "Traceback" not in log.read()


def test_tls_with_given_certificate_and_key(tmp_path):
    cert, key = server.generate_self_signed(str(tmp_path))
    port_file = tmp_path / "port"
    process = subprocess.Popen([sys.executable, SERVER, "--port-file", str(port_file), "--api-key", API_KEY,
                                "--tls-cert", cert, "--tls-key", key], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        answer = api_call("https://127.0.0.1:%d" % port, "GET", "/_sim/health", None, cafile=cert)
        assert answer.status == 200 and answer.json() == {"ok": True}
    finally:
        process.terminate()
        process.wait(10)


def test_tls_certificate_from_the_cryptography_package(tmp_path):
    pytest.importorskip("cryptography")
    cert, key = server.generate_with_cryptography(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    ssl.create_default_context(cafile=cert)  # loads as a trust anchor


def test_tls_needs_cert_and_key_together(tmp_path):
    result = subprocess.run([sys.executable, SERVER, "--api-key", "k", "--tls-cert", str(tmp_path / "c.pem")],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and "--tls-cert and --tls-key go together" in result.stderr


def test_simctl_start_tls_exports_the_ca_path(tmp_path):
    directory = tmp_path / "sim"
    simctl = os.path.join(HERE, "simctl.py")
    started = subprocess.run([sys.executable, simctl, "start", "--dir", str(directory), "--api-key", API_KEY, "--tls"],
                             capture_output=True, text=True, timeout=60, check=True)
    try:
        exports = dict(line[len("export "):].split("=", 1) for line in started.stdout.splitlines())
        assert exports["SENDGRID_API_URL"].startswith("https://127.0.0.1:")
        assert exports["SENDGRID_SIM_CA_PATH"] == str(directory / "simulator-cert.pem")
        answer = api_call(exports["SENDGRID_API_URL"], "GET", "/_sim/health", None, cafile=exports["SENDGRID_SIM_CA_PATH"])
        assert answer.status == 200
    finally:
        subprocess.run([sys.executable, simctl, "stop", "--dir", str(directory)], check=True, timeout=30)


def test_simulator_error_names_a_tls_setup_failure(tmp_path):
    (tmp_path / "c.pem").write_text("not a certificate")
    (tmp_path / "k.pem").write_text("not a key")
    result = subprocess.run([sys.executable, SERVER, "--api-key", "k", "--tls-cert", str(tmp_path / "c.pem"),
                             "--tls-key", str(tmp_path / "k.pem")], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and "cannot set up TLS" in result.stderr
