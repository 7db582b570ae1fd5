# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the module unit tests: module arguments on every ansible-core, a module's main() run to its exit or
failure, and a fake SendGrid client. The fixtures of conftest.py hand them to the tests.

Module arguments reach AnsibleModule the way each ansible-core expects them (set_module_args): 2.19 and later
through ansible.module_utils.testing.patch_module_args (which also sets the serialization profile), 2.16-2.18
through basic._ANSIBLE_ARGS.
"""

from __future__ import annotations

import importlib
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, account_path

API_KEY = "module-unit-test-key-5f0c2a"


def set_module_args(args):
    """A context manager under which AnsibleModule() reads args, on every supported ansible-core."""
    try:
        from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        from unittest import mock  # pylint: disable=import-outside-toplevel
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8"))
    return patch_module_args(args)


class AnsibleExitJson(Exception):
    """exit_json was called; result holds its keyword arguments."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class AnsibleFailJson(Exception):
    """fail_json was called; result holds msg and its other keyword arguments."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Outcome:
    """How a module ended: failed (fail_json) or not (exit_json), with exactly what it passed, and its warnings."""

    def __init__(self, failed, result, warnings):
        self.failed = failed
        self.result = result
        self.warnings = warnings

    def __repr__(self):
        return "Outcome(failed=%r, result=%r, warnings=%r)" % (self.failed, self.result, self.warnings)


def exit_json(self, **result):  # pylint: disable=unused-argument
    raise AnsibleExitJson(result)


def fail_json(self, msg, **result):  # pylint: disable=unused-argument
    raise AnsibleFailJson(dict(result, msg=msg))


def run_module(name, args, check_mode=False, diff=False):
    """sendgrid.partners.<name>'s main() with args; its Outcome. Any other exception propagates (a traceback is a bug)."""
    warnings = []

    def warn(self, warning, *args, **kwargs):  # pylint: disable=unused-argument
        warnings.append(warning)

    module = importlib.import_module("ansible_collections.sendgrid.partners.plugins.modules.%s" % name)
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with pytest.MonkeyPatch.context() as patch, set_module_args(args):
        patch.setattr(basic.AnsibleModule, "exit_json", exit_json)
        patch.setattr(basic.AnsibleModule, "fail_json", fail_json)
        patch.setattr(basic.AnsibleModule, "warn", warn)
        try:
            module.main()
        except AnsibleExitJson as exited:
            return Outcome(False, exited.result, warnings)
        except AnsibleFailJson as failed:
            return Outcome(True, failed.result, warnings)
    raise AssertionError("%s.main() returned without exit_json or fail_json" % name)


class Fault:
    """What a call of method does instead of answering: raise exc, after carrying the request out if processed.

    skip: how many calls of method answer normally first.
    """

    def __init__(self, method, exc, processed, skip):
        self.method = method
        self.exc = exc
        self.processed = processed
        self.skip = skip


def not_found(method, account_id):
    return ApiError(method, account_path(account_id), 404, "Not Found", [{"message": "resource not found", "field": None, "error_id": None}])


class FakeClient:
    """Stands in for SendGridClient: accounts in memory ({account_id: [{ip, region}, ...] newest first}).

    calls: every call in order, as ("list_ips", account_id), ("add_ips", account_id, region, count) and
    ("remove_ips", account_id, [ips]). An unknown account answers HTTP 404, as SendGrid does. New IPs are
    10.0.0.1, 10.0.0.2, ... in the order bought.
    built_with: the options of each SendGridClient(...) the module made (warn, a callable, left out).
    """

    def __init__(self):
        self.accounts = {}
        self.calls = []
        self.faults = []
        self.built_with = []
        self.closed = 0
        self.next_ip = 1

    def build(self, warn=None, **options):
        """What the module gets in place of SendGridClient(**options)."""
        assert callable(warn), "the client must be given the module's warn"
        self.built_with.append(options)
        return self

    def account(self, account_id, *ips):
        """Give account_id the IPs, each (ip, region), newest first."""
        self.accounts[account_id] = [{"ip": ip, "region": region} for ip, region in ips]
        return self

    def fail_next(self, method, exc, processed=False, skip=0):
        """A call of method ("list_ips", "add_ips", "remove_ips") raises exc: the next one, or the one after skip
        calls that answer. processed: the request is carried out before it raises."""
        self.faults.append(Fault(method, exc, processed, skip))
        return self

    def held(self, account_id, region=None):
        return [item["ip"] for item in self.accounts[account_id] if region in (None, item["region"])]

    def methods(self):
        return [call[0] for call in self.calls]

    def _fault(self, method):
        """The fault this call of method meets, if any (the first one set for method counts its skips down first)."""
        for fault in self.faults:
            if fault.method == method:
                if fault.skip:
                    fault.skip -= 1
                    return None
                self.faults.remove(fault)
                return fault
        return None

    def list_ips(self, account_id):
        self.calls.append(("list_ips", account_id))
        fault = self._fault("list_ips")
        if fault:
            raise fault.exc
        if account_id not in self.accounts:
            raise not_found("GET", account_id)
        return [dict(item) for item in self.accounts[account_id]]

    def add_ips(self, account_id, region, count):
        self.calls.append(("add_ips", account_id, region, count))
        fault = self._fault("add_ips")
        if fault and not fault.processed:
            raise fault.exc
        if account_id not in self.accounts:
            raise not_found("POST", account_id)
        new = []
        for dummy in range(count):
            new.append("10.0.%d.%d" % divmod(self.next_ip, 256))
            self.next_ip += 1
        self.accounts[account_id][:0] = [{"ip": ip, "region": region} for ip in reversed(new)]
        if fault:
            raise fault.exc
        return new, region  # oldest first, as SendGrid answers

    def remove_ips(self, account_id, ips):
        self.calls.append(("remove_ips", account_id, list(ips)))
        fault = self._fault("remove_ips")
        if fault and not fault.processed:
            raise fault.exc
        if account_id not in self.accounts:
            raise not_found("DELETE", account_id)
        gone = set(ips)
        self.accounts[account_id] = [item for item in self.accounts[account_id] if item["ip"] not in gone]
        if fault:
            raise fault.exc

    def close(self):
        self.closed += 1


def client_options(**overrides):
    """The options the module should build its client with: the defaults of the connection options and API_KEY."""
    options = {"api_key": API_KEY, "api_url": "https://api.sendgrid.com", "timeout": 30.0, "validate_certs": True,
               "ca_path": None, "max_retries": 3, "gate": None}
    options.update(overrides)
    return options
