"""Start and stop the SendGrid simulator (server.py) from shell scripts and tests (stdlib only).

Shell:
    eval "$(python tests/simulator/simctl.py start --dir DIR --api-key KEY [--seed F] [--state F] [--latency S])"
    python tests/simulator/simctl.py stop --dir DIR

pytest:
    with Simulator(api_key="key") as sim:
        sim.reset({"acc1": {"generate": {"us": 2}}})
        ... requests to sim.url ...
        sim.requests()
"""

import argparse
import http.client
import json
import os
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
LOG_NAME, PID_NAME, PORT_NAME = "simulator.log", "simulator.pid", "simulator.port"
REQUEST_LOG_NAME = "requests.jsonl"
TLS_CERT_NAME = "simulator-cert.pem"  # written by server.py --tls into DIR


class SimulatorError(Exception):
    """The simulator could not be started or controlled."""


def launch(directory, api_key, seed=None, state=None, latency=None, verbose=False, tls=False):
    """Start server.py in its own session; returns (Popen, port) once /_sim/health answers.

    Writes DIR/simulator.pid at once, logs stdout and stderr to DIR/simulator.log and every API request's
    record to DIR/requests.jsonl. tls=True: HTTPS with a self-signed certificate, DIR/simulator-cert.pem.
    """
    os.makedirs(directory, exist_ok=True)
    port_file = os.path.join(directory, PORT_NAME)
    for stale in (port_file, os.path.join(directory, TLS_CERT_NAME)):
        if os.path.exists(stale):
            os.unlink(stale)  # a stale port file or certificate of an earlier run must not be mistaken for ours
    command = [sys.executable, SERVER, "--port", "0", "--port-file", port_file, "--api-key", api_key,
               "--request-log", os.path.join(directory, REQUEST_LOG_NAME)]
    for option, value in (("--seed", seed), ("--state", state), ("--latency", latency)):
        if value is not None:
            command += [option, str(value)]
    if verbose:
        command.append("--verbose")
    if tls:
        command += ["--tls", "--tls-dir", directory]
    with open(os.path.join(directory, LOG_NAME), "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    with open(os.path.join(directory, PID_NAME), "w", encoding="utf-8") as pid_file:
        pid_file.write("%d\n" % process.pid)
    try:
        port = wait_until_healthy(process, port_file, os.path.join(directory, LOG_NAME),
                                  cafile=os.path.join(directory, TLS_CERT_NAME) if tls else None)
    except SimulatorError:
        stop_process(process)
        raise
    return process, port


def wait_until_healthy(process, port_file, log_path, timeout=START_TIMEOUT, cafile=None):
    """The port once GET /_sim/health answers; SimulatorError if the server dies or times out.

    cafile: the server's certificate when it serves HTTPS.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SimulatorError("simulator exited with code %s; log %s:\n%s"
                                 % (process.returncode, log_path, tail(log_path)))
        if os.path.exists(port_file):
            with open(port_file, encoding="utf-8") as handle:
                port = int(handle.read().strip())
            try:
                control_call("%s://127.0.0.1:%d" % ("https" if cafile else "http", port), "GET", "/_sim/health",
                             timeout=2, cafile=cafile)
                return port
            except (OSError, SimulatorError):
                pass  # listening but not answering yet
        time.sleep(0.05)
    raise SimulatorError("simulator did not answer /_sim/health within %.0f s; log %s:\n%s" % (timeout, log_path, tail(log_path)))


def tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError as exc:
        return "(no log: %s)" % exc


def control_call(base_url, method, path, body=None, timeout=10, cafile=None):
    """One control API call; returns the decoded JSON answer, SimulatorError on an HTTP error.

    cafile: the certificate to trust when the simulator serves HTTPS.
    """
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    handlers = [urllib.request.ProxyHandler({})]  # never through a proxy: the simulator is on loopback
    if cafile:
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        raise SimulatorError("%s %s answered %d: %s" % (method, path, error.code, detail)) from None


def is_simulator_running(pid):
    """True if `pid` is alive, not a zombie, and (where /proc tells) runs server.py."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            return b"server.py" in cmdline.read()
    except (OSError, IndexError):
        return True  # no /proc: trust kill(pid, 0)


def stop_pid(pid, timeout=STOP_TIMEOUT):
    """SIGTERM, wait up to `timeout`, then SIGKILL. Nothing to do if the simulator is gone."""
    if not is_simulator_running(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_simulator_running(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_process(process, timeout=STOP_TIMEOUT):
    """Stop a simulator started by this process (and reap it): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Simulator:
    """A simulator on a free port for tests; a context manager. `.url` is the API base URL."""

    def __init__(self, api_key="simulator-test-key", directory=None, seed=None, state=None, latency=None,
                 verbose=False, tls=False):
        self.api_key = api_key
        self.tls = tls
        self.options = {"seed": seed, "state": state, "latency": latency, "verbose": verbose, "tls": tls}
        self._temporary = None if directory else tempfile.TemporaryDirectory(prefix="sendgrid-sim-")
        self.directory = directory or self._temporary.name
        self.process = None
        self.port = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    @property
    def ca_path(self):
        """The self-signed certificate to trust (tls=True), else None."""
        return os.path.join(self.directory, TLS_CERT_NAME) if self.tls else None

    @property
    def request_log_path(self):
        """Every API request's log record, one JSON line each, also after a stop."""
        return os.path.join(self.directory, REQUEST_LOG_NAME)

    @property
    def pid(self):
        return self.process.pid

    @property
    def log_path(self):
        return os.path.join(self.directory, LOG_NAME)

    def start(self):
        self.process, self.port = launch(self.directory, self.api_key, **self.options)
        return self

    def stop(self):
        if self.process is not None:
            stop_process(self.process)

    def close(self):
        """Stop and remove the temporary directory (if this object made it)."""
        self.stop()
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info):
        self.close()

    # ---- control API

    def control(self, method, path, body=None):
        return control_call(self.url, method, path, body, cafile=self.ca_path)

    def reset(self, accounts=None):
        return self.control("POST", "/_sim/reset", {"accounts": accounts or {}})

    def set_accounts(self, accounts):
        return self.control("POST", "/_sim/accounts", {"accounts": accounts})["accounts"]

    def accounts(self):
        return self.control("GET", "/_sim/accounts")["accounts"]

    def account(self, account_id):
        """{"id", "ips", "account": {created_at, email, updated_at, state, offerings}} of one account."""
        return self.control("GET", "/_sim/accounts/" + urllib.parse.quote(account_id, safe=""))

    def update_account(self, account_id, **changes):
        """Change profile fields of one account (state, offerings, email, created_at, updated_at; None removes email
        or updated_at); its IPs stay. Returns the account as account() does."""
        return self.control("PATCH", "/_sim/accounts/" + urllib.parse.quote(account_id, safe=""), changes)

    def requests(self):
        return self.control("GET", "/_sim/requests")["requests"]

    def clear_requests(self):
        self.control("DELETE", "/_sim/requests")

    def faults(self, faults=None):
        """Append `faults` (if given); returns the faults still pending."""
        if faults is None:
            return self.control("GET", "/_sim/faults")["faults"]
        return self.control("POST", "/_sim/faults", {"faults": faults})["faults"]

    def clear_faults(self):
        self.control("DELETE", "/_sim/faults")

    def chaos(self, config=None):
        """Start random faults with `config` ({seed, rates, options, methods}); returns the chaos stats."""
        if config is None:
            return self.control("GET", "/_sim/chaos")
        return self.control("POST", "/_sim/chaos", config)

    def stop_chaos(self):
        """Stop random faults; returns the final stats."""
        return self.control("DELETE", "/_sim/chaos")

    # ---- the SendGrid API

    def call(self, method, account_id, api_key=None, resource="ips", **options):
        """A SendGrid API request for `account_id` with this simulator's key (unless `api_key`).

        resource: "ips" (default), "state", "offerings", or "accounts" (ListAccount; account_id is ignored).
        """
        key = self.api_key if api_key is None else api_key
        if self.tls:
            options.setdefault("cafile", self.ca_path)
        return api_call(self.url, method, api_path(resource, account_id), key, **options)


class Answer:
    """A SendGrid API answer as the simulator gave it."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def account_path(account_id):
    """The API path of an account's IPs, with the id percent-encoded as one segment."""
    return "/v3/partners/accounts/%s/ips" % urllib.parse.quote(account_id, safe="")


def api_path(resource, account_id=None):
    """The API path of a resource: "accounts" (ListAccount), or "ips", "state", "offerings" of one account."""
    if resource == "accounts":
        return "/v3/partners/accounts"
    return "/v3/partners/accounts/%s/%s" % (urllib.parse.quote(account_id, safe=""), resource)


def api_call(base_url, method, path, api_key, query=None, body=None, raw_body=None, timeout=10, connection=None,
             cafile=None):
    """One SendGrid API request; `body` is sent as JSON, `raw_body` (bytes) as is.

    Pass an http.client.HTTPConnection as `connection` to reuse it (keep-alive).
    A dropped connection raises http.client.RemoteDisconnected (a ConnectionError).
    cafile: the certificate to trust for an https:// base_url.
    """
    if query:
        path += "?" + urllib.parse.urlencode(query)
    headers = {"Authorization": "Bearer %s" % api_key} if api_key is not None else {}
    if body is not None:
        raw_body = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    own_connection = connection is None
    if own_connection:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout,
                                                     context=ssl.create_default_context(cafile=cafile))
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        connection.request(method, path, body=raw_body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        if own_connection:
            connection.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Start or stop the SendGrid simulator in the background")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start and print shell 'export' lines")
    start.add_argument("--dir", required=True, help="directory for simulator.log, .pid and .port")
    start.add_argument("--api-key", required=True)
    start.add_argument("--seed")
    start.add_argument("--state")
    start.add_argument("--latency", type=float)
    start.add_argument("--verbose", action="store_true")
    start.add_argument("--tls", action="store_true",
                       help="HTTPS with a self-signed certificate, DIR/%s (exported as SENDGRID_SIM_CA_PATH)" % TLS_CERT_NAME)
    stop = commands.add_parser("stop", help="stop the simulator whose pid is in DIR/simulator.pid")
    stop.add_argument("--dir", required=True)
    args = parser.parse_args(argv)

    if args.command == "start":
        try:
            process, port = launch(args.dir, args.api_key, args.seed, args.state, args.latency, args.verbose, args.tls)
        except SimulatorError as exc:
            sys.exit("simctl: %s" % exc)
        print("export SENDGRID_API_URL=%s" % shlex.quote("%s://127.0.0.1:%d" % ("https" if args.tls else "http", port)))
        print("export SENDGRID_SIM_PID=%d" % process.pid)
        if args.tls:
            print("export SENDGRID_SIM_CA_PATH=%s" % shlex.quote(os.path.join(os.path.abspath(args.dir), TLS_CERT_NAME)))
        return 0

    pid_path = os.path.join(args.dir, PID_NAME)
    try:
        with open(pid_path, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    except FileNotFoundError:
        return 0  # never started, or already stopped
    stop_pid(pid)
    os.unlink(pid_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
