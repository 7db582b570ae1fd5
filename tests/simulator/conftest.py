"""Fixtures for the simulator tests: one shared simulator, reset before each test."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simctl import Simulator  # noqa: E402 (needs the path above)

API_KEY = "SG.simulator-test-key.d41d8cd98f00b204"


@pytest.fixture(scope="session")
def shared_simulator():
    simulator = Simulator(api_key=API_KEY)
    simulator.start()
    yield simulator
    simulator.close()


@pytest.fixture
def sim(shared_simulator):
    """The shared simulator with no accounts, requests or faults."""
    shared_simulator.reset()
    return shared_simulator


@pytest.fixture
def make_simulator():
    """Start extra simulators with their own options; all are stopped after the test."""
    started = []

    def start(**options):
        simulator = Simulator(api_key=options.pop("api_key", API_KEY), **options)
        started.append(simulator)
        return simulator.start()

    yield start
    for simulator in started:
        simulator.close()
