# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the module unit tests (helpers in utils.py).

- run_module(name, args, check_mode=False, diff=False): main() of sendgrid.partners.<name>, its Outcome (exactly the
  keyword arguments of exit_json or fail_json, and the warnings).
- fake_client: the FakeClient every module of the test gets where it builds its client (_module.SendGridClient).
"""

from __future__ import annotations

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _module
from ansible_collections.sendgrid.partners.tests.unit.plugins.modules.utils import FakeClient, run_module as run_main


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The connection options' environment fallbacks are unset unless a test sets them."""
    for name in ("SENDGRID_API_KEY", "SENDGRID_API_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run_module():
    return run_main


@pytest.fixture
def fake_client(monkeypatch):
    fake = FakeClient()
    monkeypatch.setattr(_module, "SendGridClient", fake.build)
    return fake
