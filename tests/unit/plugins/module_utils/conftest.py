# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""For the unit tests that talk to the real SendGrid simulator (tests/simulator)."""

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

    Per test, never wider: ansible-test runs each test in a fork that never tears down wider-scoped fixtures.
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
