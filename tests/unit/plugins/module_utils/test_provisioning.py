# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""add_ips's purchase decisions with a fake client: which POSTs it sends and what it concludes."""

from __future__ import annotations

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils._client import ApiError, TransportError
from ansible_collections.sendgrid.partners.plugins.module_utils._provisioning import OutcomeError, Purchase

ACCOUNT = "acc1"


class FakeAccount:
    """Holds IPs; each POST answer is scripted: 'ok', or an error raised before or after committing."""

    def __init__(self, held=(), script=()):
        self.held = list(held)  # newest first
        self.script = list(script)
        self.posts = []
        self.serial = 0

    def list_ips(self, account_id):
        return [{"ip": ip, "region": "us"} for ip in self.held]

    def add_ips(self, account_id, region, count):
        self.posts.append(count)
        step = self.script.pop(0) if self.script else "ok"
        new = []
        if step in ("ok", "commit-then-504", "commit-then-timeout"):
            for dummy in range(count):
                self.serial += 1
                new.append("10.0.0.%d" % self.serial)
            self.held = new[::-1] + self.held
        if step == "commit-then-504" or step == "504":
            raise ApiError("POST", "/p", 504, "Gateway Timeout", [{"message": "timed out", "field": "", "error_id": ""}])
        if step == "commit-then-timeout":
            raise TransportError("POST", "/p", "no answer", maybe_processed=True)
        if step == "403":
            raise ApiError("POST", "/p", 403, "Forbidden")
        return new, region


def purchase(fake, count=None, total=None):
    return Purchase(fake, ACCOUNT, "us", fake.held, count=count, total=total)


def test_total_buys_in_batches_of_ten():
    fake = FakeAccount()
    buyer = purchase(fake, total=23)
    warnings = []
    buyer.buy(warnings.append)
    assert fake.posts == [10, 10, 3]
    assert len(fake.held) == 23 and buyer.result()["added"] == 23 and not warnings
    assert buyer.result()["region_ips"] == fake.held


def test_total_goes_on_when_an_unclear_answer_turns_out_committed():
    fake = FakeAccount(script=["ok", "commit-then-504", "ok"])
    buyer = purchase(fake, total=25)
    warnings = []
    buyer.buy(warnings.append)
    assert fake.posts == [10, 10, 5]
    assert len(fake.held) == 25
    assert buyer.added == ["10.0.0.%d" % n for n in range(1, 26)]
    assert len(warnings) == 1 and "10 new IP(s) in us (of the 10 asked for in that request)" in warnings[0]


@pytest.mark.parametrize("step", ["504", "403"])
def test_total_stops_after_one_post_when_nothing_was_added(step):
    fake = FakeAccount(held=["10.9.9.9"], script=[step])
    buyer = purchase(fake, total=3)
    with pytest.raises(OutcomeError) as failure:
        buyer.buy(lambda message: None)
    assert fake.posts == [2]
    assert failure.value.result["changed"] is False and failure.value.result["ips"] == []
    if step == "504":
        assert str(failure.value).endswith("Listing the account afterwards shows 0 new IP(s) in us (of the 2 asked for in that "
                                           "request). The account holds 1 of the total 3. Rerun: with total only what is still "
                                           "missing is added.")


def test_count_fails_after_an_unclear_answer_even_when_committed():
    fake = FakeAccount(script=["commit-then-timeout"])
    buyer = purchase(fake, count=2)
    with pytest.raises(OutcomeError) as failure:
        buyer.buy(lambda message: None)
    assert fake.posts == [2]
    assert failure.value.result["ips"] == ["10.0.0.2", "10.0.0.1"] and failure.value.result["changed"] is True
    assert "Do not rerun this count task blindly: it would buy 2 more" in str(failure.value)


def test_a_clear_failure_after_earlier_batches_reports_what_was_bought():
    fake = FakeAccount(script=["ok", "403"])
    buyer = purchase(fake, total=15)
    with pytest.raises(OutcomeError) as failure:
        buyer.buy(lambda message: None)
    assert fake.posts == [10, 5]
    assert failure.value.result["added"] == 10
    assert "Before that, 10 IP(s) were added: 10.0.0.1," in str(failure.value)


def test_an_answer_with_more_ips_than_asked_stops_the_task():
    class Generous(FakeAccount):
        def add_ips(self, account_id, region, count):
            ips, region = super().add_ips(account_id, region, count + 1)
            return ips, region
    fake = Generous()
    buyer = purchase(fake, total=12)
    with pytest.raises(OutcomeError) as failure:
        buyer.buy(lambda message: None)
    assert fake.posts == [11]
    assert "asked SendGrid for 10 IP(s) in us and it answered 11" in str(failure.value)
    assert failure.value.result["added"] == 11
