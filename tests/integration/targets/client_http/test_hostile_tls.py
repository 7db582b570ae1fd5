# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS is verified unless the user turns it off: the client against the simulator serving HTTPS (self-signed)."""

from __future__ import annotations


import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils._client import SendGridClient, TransportError
from ansible_collections.sendgrid.partners.plugins.module_utils._module import CONNECTION_ARGUMENT_SPEC

KEY = "tls-test-key-0e9b7c21"
ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"


@pytest.fixture
def sim(start_simulator):
    simulator = start_simulator(api_key=KEY, tls=True)
    simulator.reset({ACCOUNT: {"generate": {"us": 2}}})
    return simulator


# REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are common in AWX execution environments and corporate images: requests lets them
# replace session.verify, so the client passes verify= with each request.
@pytest.fixture(params=["clean environment", "CA bundle in the environment"])
def environment(request, monkeypatch):
    """The settings must hold whatever the environment says; system_bundle is a bundle without the simulator's CA."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    if request.param != "clean environment":
        import certifi  # pylint: disable=import-outside-toplevel
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    return request.param


def client(sim, **options):
    return SendGridClient(KEY, sim.url, timeout=5, sleep=lambda seconds: None, **options)


def test_validate_certs_is_on_by_default():
    assert CONNECTION_ARGUMENT_SPEC["validate_certs"]["default"] is True
    assert SendGridClient(KEY, "https://example.invalid").session.verify is True


def test_a_self_signed_certificate_fails_by_default_with_the_clear_tls_message(sim, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    with pytest.raises(TransportError) as caught:
        client(sim).list_ips(ACCOUNT)
    message = str(caught.value)
    assert message.startswith("GET /v3/partners/accounts/%s/ips got no answer: TLS failed (" % ACCOUNT)
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert message.endswith("Set ca_path to your CA bundle, or validate_certs: false for a test server")
    assert caught.value.maybe_processed is False
    assert sim.requests() == []  # the handshake failed: nothing reached the API, and nothing was retried


def test_the_certificate_as_ca_path_is_trusted(sim, environment):
    assert client(sim, ca_path=sim.ca_path).list_ips(ACCOUNT) == sim.accounts()[ACCOUNT]
    assert [record["method"] for record in sim.requests()] == ["GET"]


def test_validate_certs_false_skips_verification(sim, environment):
    assert client(sim, validate_certs=False).list_ips(ACCOUNT) == sim.accounts()[ACCOUNT]


def test_validate_certs_false_wins_over_ca_path(sim, environment, tmp_path):
    bogus = tmp_path / "other-ca.pem"
    bogus.write_text("not a certificate")
    assert client(sim, validate_certs=False, ca_path=str(bogus)).list_ips(ACCOUNT) == sim.accounts()[ACCOUNT]


def test_a_wrong_ca_path_still_fails_clearly(sim, start_simulator):
    other = start_simulator(api_key=KEY, tls=True)
    with pytest.raises(TransportError) as caught:
        client(sim, ca_path=other.ca_path).list_ips(ACCOUNT)
    assert "TLS failed" in str(caught.value) and "ca_path" in str(caught.value)
    assert sim.requests() == []
