# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One onboarding run at a time per controller and API URL.

Internal to the collection (hence the leading underscore): no stable API for other collections.
Two runs at once against the same API would each list the same accounts and each buy the same shortfall. A run
takes an exclusive, non-blocking flock on a file named after a hash of the API URL (never anything of the key) and
holds it until it ends; a second run fails at once, naming the lock file and the process that holds it. The kernel
drops a flock when its holder dies, so a lock file left behind by a killed run never blocks the next one.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import json
import os
import socket
import sys

from ansible_collections.sendgrid.partners.plugins.module_utils._client import SendGridError
from ansible_collections.sendgrid.partners.plugins.module_utils._plan import canonical_api_url

LOCK_DIR_ENV = "SENDGRID_LOCK_DIR"
DEFAULT_LOCK_DIR = os.path.join("~", ".ansible", "tmp", "sendgrid-partners-locks")
MAX_HOLDER_BYTES = 4096
MAX_COMMAND_LENGTH = 300
HIDDEN = "(hidden)"
EXTRA_VARS_OPTIONS = ("-e", "--extra-vars")


class LockError(SendGridError):
    """Another run holds the lock of this API URL, or the lock cannot be taken at all."""


def lock_directory(directory=None):
    """Where the locks live: directory, else $SENDGRID_LOCK_DIR, else ~/.ansible/tmp/sendgrid-partners-locks."""
    chosen = directory or os.environ.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR
    return os.path.abspath(os.path.expanduser(chosen))


def lock_name(api_url):
    """The lock file's name: a hash of the normalized API URL only."""
    return "api-%s.lock" % hashlib.sha256(canonical_api_url(api_url).encode("utf-8")).hexdigest()[:20]


def safe_command(argv, limit=MAX_COMMAND_LENGTH):
    """The command line for the lock file, without what may be secret: extra vars (-e) and anything like key=value."""
    shown, hide_next = [], False
    for position, arg in enumerate(argv):
        arg = str(arg)
        if hide_next:
            shown.append(HIDDEN)
            hide_next = False
        elif position == 0:
            shown.append(os.path.basename(arg))
        elif arg in EXTRA_VARS_OPTIONS:
            shown.append(arg)
            hide_next = True
        elif arg.startswith("--extra-vars="):
            shown.append("--extra-vars=" + HIDDEN)
        elif arg.startswith("-e") and not arg.startswith("--"):
            shown.append("-e" + HIDDEN)
        elif "=" in arg or "key" in arg.lower() or arg.startswith("SG."):
            shown.append(HIDDEN)
        else:
            shown.append(arg)
    text = " ".join(shown)
    return text if len(text) <= limit else text[:limit] + "..."


def _printable(value, limit=MAX_COMMAND_LENGTH):
    """A value read back from a lock file (anyone with access could have written it) fit for one line of a message."""
    text = "".join(char if char.isprintable() else "?" for char in str(value))
    return text if len(text) <= limit else text[:limit] + "..."


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RunLock:
    """An exclusive, non-blocking lock of one API URL for the duration of a run: `with RunLock(url): ...`."""

    def __init__(self, api_url, directory=None, argv=None):
        self.api_url = canonical_api_url(api_url)
        self.directory = lock_directory(directory)
        self.path = os.path.join(self.directory, lock_name(api_url))
        self.argv = sys.argv if argv is None else argv
        self.fd = None

    @property
    def held(self):
        return self.fd is not None

    def holder(self):
        """What the lock file says about the process holding it: a dict, empty when it says nothing readable."""
        try:
            with open(self.path, "rb") as stream:
                data = json.loads(stream.read(MAX_HOLDER_BYTES).decode("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def describe_holder(self):
        holder = self.holder()
        if not holder.get("pid"):
            return "a process that has not written its details into the lock file yet"
        details = ["PID %s" % _printable(holder["pid"], 20)]
        if holder.get("host"):
            details.append("on %s" % _printable(holder["host"], 100))
        if holder.get("command"):
            details.append("(%s)" % _printable(holder["command"]))
        if holder.get("started_at"):
            details.append("started %s" % _printable(holder["started_at"], 40))
        if holder.get("awx_job_id"):
            details.append("AWX job %s" % _printable(holder["awx_job_id"], 20))
        return " ".join(details)

    def _open(self):
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise LockError("cannot take the run lock %s of %s: %s. Set %s to a directory this user can write"
                            % (self.path, self.api_url, exc.strerror or exc, LOCK_DIR_ENV)) from None

    def acquire(self):
        """Take the lock, or raise LockError at once (never waits) naming the lock file and the process holding it."""
        if self.fd is not None:
            return self
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockError("cannot take the run lock %s of %s: %s" % (self.path, self.api_url, exc.strerror or exc)) from None
            raise LockError("another sendgrid.partners run against %s is in progress on this controller: %s holds the lock %s. "
                            "Two runs at once would each buy the same missing IPs, so this one stopped before any request. Wait "
                            "for that run to end (or stop it if it is stuck), then run again"
                            % (self.api_url, self.describe_holder(), self.path)) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": _now(),
            "command": safe_command(self.argv),
            "api_url": self.api_url,
        }
        if os.environ.get("JOB_ID"):
            holder["awx_job_id"] = os.environ["JOB_ID"]
        try:
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(holder, sort_keys=True) + "\n").encode("utf-8"))
        except OSError:
            pass  # the details are for messages only; the flock is the lock
        self.fd = fd
        return self

    def release(self):
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.ftruncate(fd, 0)  # no stale details for the next reader; the file stays (unlinking races with flock)
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False


class RunLocks:
    """The locks of several API URLs (customers with their own sendgrid_api_url), taken in sorted order, all or none."""

    def __init__(self, api_urls, directory=None, argv=None):
        urls = sorted(set(canonical_api_url(url) for url in api_urls))
        self.locks = [RunLock(url, directory, argv) for url in urls]

    def acquire(self):
        taken = []
        try:
            for lock in self.locks:
                taken.append(lock.acquire())
        except BaseException:
            for lock in reversed(taken):
                lock.release()
            raise
        return self

    def release(self):
        for lock in reversed(self.locks):
            lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False
