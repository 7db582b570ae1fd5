# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock: one run per controller and API URL, the second fails at once naming the holder; dead holders never block."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _lock as lock
from ansible_collections.sendgrid.partners.plugins.module_utils._client import SendGridError

URL = "http://127.0.0.1:8080"
KEY = "SG.lock-test-key-0123456789abcdef"

HOLDER = textwrap.dedent("""
    import sys, time
    sys.path[:0] = %r
    from ansible_collections.sendgrid.partners.plugins.module_utils._lock import RunLock
    held = RunLock(sys.argv[1], sys.argv[2], argv=["ansible-playbook", "-i", "customers.yml", "-e", "sendgrid_api_key=%s",
                                                   "--extra-vars=@secret.yml", "onboard.yml"]).acquire()
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
""")


def start_holder(directory, seconds=30, url=URL):
    """A second process that takes the lock and keeps it: the way a concurrent ansible-playbook would."""
    code = HOLDER % (list(sys.path), KEY)
    process = subprocess.Popen([sys.executable, "-c", code, url, str(directory), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def stop(process):
    process.kill()
    process.wait(10)


def test_lock_error_is_a_sendgrid_error():
    assert issubclass(lock.LockError, SendGridError)


def test_lock_file_is_named_by_the_url_only(tmp_path):
    one = lock.RunLock(URL + "/", str(tmp_path))
    assert one.path == str(tmp_path / lock.lock_name(URL))
    assert os.path.basename(one.path).startswith("api-") and one.path.endswith(".lock")
    assert lock.lock_name("HTTP://127.0.0.1:8080//") == lock.lock_name(URL)
    assert lock.lock_name("https://api.eu.sendgrid.com") != lock.lock_name("https://api.sendgrid.com")
    assert "127.0.0.1" not in os.path.basename(one.path)


def test_default_directory_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("SENDGRID_LOCK_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert lock.lock_directory() == str(tmp_path / ".ansible" / "tmp" / "sendgrid-partners-locks")
    monkeypatch.setenv("SENDGRID_LOCK_DIR", str(tmp_path / "locks"))
    assert lock.lock_directory() == str(tmp_path / "locks")
    assert lock.lock_directory(str(tmp_path / "given")) == str(tmp_path / "given")
    with lock.RunLock(URL) as held:
        assert os.path.dirname(held.path) == str(tmp_path / "locks")
        assert stat.S_IMODE(os.stat(str(tmp_path / "locks")).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(held.path).st_mode) == 0o600


def test_holder_details_are_written_and_cleared(tmp_path, monkeypatch):
    monkeypatch.setenv("JOB_ID", "42")
    held = lock.RunLock(URL, str(tmp_path), argv=["/usr/bin/ansible-playbook", "-e", "sendgrid_api_key=%s" % KEY, "onboard.yml"])
    with held:
        details = json.loads(open(held.path).read())
        assert details["pid"] == os.getpid()
        assert details["api_url"] == URL
        assert details["command"] == "ansible-playbook -e (hidden) onboard.yml"
        assert details["awx_job_id"] == "42"
        assert details["started_at"].endswith("Z")
        assert KEY not in open(held.path).read()
        assert held.held
    assert not held.held
    assert open(held.path).read() == ""
    held.release()  # twice is harmless


def test_second_run_fails_at_once_naming_lock_url_and_holder(tmp_path):
    holder = start_holder(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(lock.LockError) as info:
            lock.RunLock(URL + "/", str(tmp_path)).acquire()
        assert time.monotonic() - started < 1
        message = str(info.value)
        details = json.loads(open(os.path.join(str(tmp_path), lock.lock_name(URL))).read())
        assert message == (
            "another sendgrid.partners run against http://127.0.0.1:8080 is in progress on this controller: PID %d on %s "
            "(ansible-playbook -i customers.yml -e (hidden) --extra-vars=(hidden) onboard.yml) started %s holds the lock %s. Two "
            "runs at once would each buy the same missing IPs, so this one stopped before any request. Wait for that run to end (or "
            "stop it if it is stuck), then run again" % (holder.pid, details["host"], details["started_at"],
                                                         os.path.join(str(tmp_path), lock.lock_name(URL))))
        assert KEY not in message
        with lock.RunLock("https://api.eu.sendgrid.com", str(tmp_path)):  # another API is another lock
            pass
    finally:
        stop(holder)


def test_second_lock_in_one_process_also_fails(tmp_path):
    with lock.RunLock(URL, str(tmp_path)):
        with pytest.raises(lock.LockError):
            lock.RunLock(URL, str(tmp_path)).acquire()
    with lock.RunLock(URL, str(tmp_path)):  # released: free again
        pass


def test_a_dead_holder_never_blocks(tmp_path):
    holder = start_holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    path = os.path.join(str(tmp_path), lock.lock_name(URL))
    assert json.loads(open(path).read())["pid"] == holder.pid  # its details are left behind
    with lock.RunLock(URL, str(tmp_path)) as held:
        assert json.loads(open(path).read())["pid"] == os.getpid()
        assert held.held


def test_holder_that_wrote_nothing_yet_or_garbage(tmp_path):
    first = lock.RunLock(URL, str(tmp_path)).acquire()
    try:
        for content in ("", "not json", "[1]", "{\"pid\": \"1\\u0007\", \"command\": \"x\\ny\"}"):
            with open(first.path, "w") as stream:
                stream.write(content)
            with pytest.raises(lock.LockError) as info:
                lock.RunLock(URL, str(tmp_path)).acquire()
            if content.startswith("{"):
                assert "PID 1? (x?y) holds the lock" in str(info.value)
            else:
                assert ": a process that has not written its details into the lock file yet holds the lock " in str(info.value)
    finally:
        first.release()


def test_lock_directory_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(lock.LockError) as info:
        lock.RunLock(URL, str(blocker / "locks")).acquire()
    assert str(info.value) == ("cannot take the run lock %s of http://127.0.0.1:8080: Not a directory. Set SENDGRID_LOCK_DIR to a "
                               "directory this user can write" % (blocker / "locks" / lock.lock_name(URL)))


def test_symlinked_lock_file_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    os.symlink(str(target), str(tmp_path / lock.lock_name(URL)))
    with pytest.raises(lock.LockError) as info:
        lock.RunLock(URL, str(tmp_path)).acquire()
    assert str(info.value).startswith("cannot take the run lock %s of http://127.0.0.1:8080: " % (tmp_path / lock.lock_name(URL)))
    assert target.read_text() == "precious"


@pytest.mark.parametrize("argv, shown", [
    (["/opt/venv/bin/ansible-playbook", "-i", "inv.yml", "site.yml"], "ansible-playbook -i inv.yml site.yml"),
    (["ansible-playbook", "-esendgrid_api_key=x", "site.yml"], "ansible-playbook -e(hidden) site.yml"),
    (["ansible-playbook", "--extra-vars", "@vars.yml", "site.yml"], "ansible-playbook --extra-vars (hidden) site.yml"),
    (["ansible-playbook", "api_key", KEY, "--vault-password-file=pw"], "ansible-playbook (hidden) (hidden) (hidden)"),
])
def test_safe_command(argv, shown):
    assert lock.safe_command(argv) == shown


def test_safe_command_is_bounded():
    assert lock.safe_command(["ansible-playbook"] + ["x" * 50] * 20) == ("ansible-playbook " + " ".join(["x" * 50] * 20))[:300] + "..."


def test_several_urls_sorted_all_or_none(tmp_path):
    eu, us = "https://api.eu.sendgrid.com", "https://api.sendgrid.com"
    locks = lock.RunLocks([us, eu + "/", us], str(tmp_path))
    assert [held.api_url for held in locks.locks] == [eu, us]
    with locks:
        assert all(held.held for held in locks.locks)
        with pytest.raises(lock.LockError):
            lock.RunLocks([URL, us], str(tmp_path)).acquire()
        with lock.RunLock(URL, str(tmp_path)):  # the failed attempt released what it had taken
            pass
    assert not any(held.held for held in locks.locks)
    holder = start_holder(tmp_path, url=us)
    try:
        partial = lock.RunLocks([eu, us], str(tmp_path))
        with pytest.raises(lock.LockError) as info:
            partial.acquire()
        assert "PID %d" % holder.pid in str(info.value)
        assert not any(held.held for held in partial.locks)
        with lock.RunLock(eu, str(tmp_path)):
            pass
    finally:
        stop(holder)
