# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""For the tests of this target, which talk to the real SendGrid simulator (tests/simulator, copied here by ansible-test
through the needs/file aliases)."""

from __future__ import annotations

import importlib.util
import os

import pytest

SIMCTL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "simulator", "simctl.py")


def load_simctl():
    spec = importlib.util.spec_from_file_location("sendgrid_partners_simctl", SIMCTL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def start_simulator():
    """start_simulator(api_key=..., tls=...) starts a simulator of the test's own; all are stopped after the test.

    Per test, never wider: each test starts from a fresh state, key and request log of its own.
    """
    started = []

    def start(**options):
        simulator = load_simctl().Simulator(**options)
        started.append(simulator)
        simulator.start()
        return simulator

    yield start
    for simulator in started:
        simulator.close()
