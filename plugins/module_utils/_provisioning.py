# -*- coding: utf-8 -*-
# Copyright: (c) 2026, sendgrid.partners contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Buying and removing IPs on one account, safely: the decisions every module shares.

Internal to the collection (hence the leading underscore): no stable API for other collections.
Both classes send each POST or DELETE once. After an unclear answer (timeout, dropped connection,
HTTP 5xx) they list the account again and raise OutcomeError with what is known, or, where the
listing shows the request was carried out exactly, go on with a warning.
"""

from __future__ import annotations

from ansible_collections.sendgrid.partners.plugins.module_utils._client import (
    MAX_IPS_PER_REQUEST,
    ResponseError,
    SendGridError,
    ipv4_or_none,
)


class OutcomeError(SendGridError):
    """A failure after requests that may have changed the account; carries what is known."""

    def __init__(self, message, result):
        self.result = result
        super().__init__(message)

    def to_result(self):
        return self.result


def batches(count, size=MAX_IPS_PER_REQUEST):
    """Split count into request sizes of at most size, one at a time: 23 -> 10, 10, 3."""
    left = max(count, 0)
    while left > 0:
        yield min(size, left)
        left -= size


def chunks(items, size=MAX_IPS_PER_REQUEST):
    return [items[start:start + size] for start in range(0, len(items), size)]


def region_ips(ips, region):
    """The IP strings of one region, in the order listed (newest first)."""
    return [item["ip"] for item in ips if item["region"] == region]


def shortfall(total, held):
    """How many IPs to add so that held reaches total (never negative)."""
    return max(total - held, 0)


PLACEHOLDERS_SHOWN = 20


def placeholders(count):
    """Stand-ins for IPs not bought yet, for check-mode diffs; past PLACEHOLDERS_SHOWN, one line for the rest."""
    shown = ["(new IP %d of %d)" % (number, count) for number in range(1, min(count, PLACEHOLDERS_SHOWN) + 1)]
    return shown + (["(%d more new IPs)" % (count - PLACEHOLDERS_SHOWN)] if count > PLACEHOLDERS_SHOWN else [])


def split_request(requested, held):
    """(to_remove, not_found): the requested IPs the account holds, and those it does not, each once."""
    unique = list(dict.fromkeys(ipv4_or_none(ip) for ip in requested))
    held = set(held)
    return [ip for ip in unique if ip in held], [ip for ip in unique if ip not in held]


class Purchase:
    """Adds IPs to one account and region batch by batch, and knows what the account holds for sure.

    before: the region's IPs (newest first) listed before any POST. With total, wanted() is the shortfall.
    """

    def __init__(self, client, account_id, region, before, count=None, total=None):
        self.client = client
        self.account_id = account_id
        self.region = region
        self.before = list(before)
        self.count = count
        self.total = total
        self.added = []  # oldest first

    def wanted(self):
        return self.count if self.count is not None else shortfall(self.total, len(self.before))

    def holdings(self):
        """The region's IPs, newest first, as far as this purchase's answers tell."""
        return self.added[::-1] + self.before

    def result(self, region_now=None):
        result = {"changed": bool(self.added), "account_id": self.account_id, "region": self.region,
                  "ips": self.added[::-1], "added": len(self.added)}
        if self.total is not None:
            result["region_ips"] = region_now if region_now is not None else self.holdings()
        return result

    def buy(self, warn):
        for size in batches(self.wanted()):
            try:
                new_ips, answered_region = self.client.add_ips(self.account_id, self.region, size)
            except SendGridError as exc:
                if not getattr(exc, "maybe_processed", False):
                    raise OutcomeError(self._stopped(exc), self.result()) from None
                self._reconcile(exc, size, warn)
                continue
            self.added.extend(new_ips)
            if len(new_ips) != size or answered_region != self.region:
                raise OutcomeError("POST asked SendGrid for %d IP(s) in %s and it answered %d in %r: %s. They are on the "
                                   "account now; stopping rather than trusting further answers."
                                   % (size, self.region, len(new_ips), answered_region, ", ".join(new_ips)), self.result())

    def _stopped(self, exc):
        message = str(exc)
        if self.added:
            message += ". Before that, %d IP(s) were added: %s" % (len(self.added), ", ".join(self.added))
        return message

    def _reconcile(self, exc, size, warn):
        """After an unclear answer to a POST: list again, and go on only if exactly `size` IPs appeared."""
        known = set(self.before) | set(self.added)
        try:
            now = region_ips(self.client.list_ips(self.account_id), self.region)
        except SendGridError as list_exc:
            raise OutcomeError("%s. Listing the account to find out whether the IPs were added failed too: %s. Check with "
                               "sendgrid.partners.ips_info before running a count task again; a total task is safe to rerun."
                               % (self._stopped(exc), list_exc), self.result()) from None
        appeared = [ip for ip in now if ip not in known]
        self.added.extend(reversed(appeared))  # the listing is newest first; added is oldest first
        what = "Listing the account afterwards shows %d new IP(s) in %s (of the %d asked for in that request)%s" % (
            len(appeared), self.region, size, ": " + ", ".join(appeared) if appeared else "")
        if self.total is not None and len(appeared) == size and not isinstance(exc, ResponseError):
            warn("%s. %s: the request was carried out, going on." % (exc, what))
            return
        if self.total is not None:
            advice = ("The account holds %d of the total %d. Rerun: with total only what is still missing is added."
                      % (len(now), self.total))
        elif appeared:
            advice = ("They are listed in 'ips'. Do not rerun this count task blindly: it would buy %d more. "
                      "Use total to converge." % self.count)
        else:
            advice = ("So it was most likely not carried out; check with sendgrid.partners.ips_info before running this "
                      "count task again, or use total to converge.")
        raise OutcomeError("%s. %s. %s" % (exc, what, advice), self.result(now))


class Removal:
    """Removes named IPs from one account in requests of at most 10.

    held: every IP of the account (newest first) listed before any DELETE.
    """

    def __init__(self, client, account_id, held, requested):
        self.client = client
        self.account_id = account_id
        self.held = list(held)
        self.to_remove, self.not_found = split_request(requested, self.held)
        self.removed = []

    def result(self, removed=None):
        removed = self.removed if removed is None else removed
        gone = set(removed)
        return {"changed": bool(removed), "account_id": self.account_id, "removed": list(removed),
                "remaining_ips": [ip for ip in self.held if ip not in gone], "not_found": self.not_found}

    def remove(self):
        for chunk in chunks(self.to_remove):
            try:
                self.client.remove_ips(self.account_id, chunk)
            except SendGridError as exc:
                self._reconcile(exc, chunk)
            self.removed.extend(chunk)

    def _reconcile(self, exc, chunk):
        """After a failed DELETE: find out what is really gone, and raise with it."""
        done = ". Removed before that: %s" % ", ".join(self.removed) if self.removed else ""
        if not getattr(exc, "maybe_processed", False):
            raise OutcomeError("%s%s" % (exc, done), self.result()) from None
        try:
            still_held = {item["ip"] for item in self.client.list_ips(self.account_id)}
        except SendGridError as list_exc:
            raise OutcomeError("%s%s. Listing the account to find out what was removed failed too: %s. Check with "
                               "sendgrid.partners.ips_info; a rerun removes only what is left." % (exc, done, list_exc),
                               self.result()) from None
        self.removed.extend(ip for ip in chunk if ip not in still_held)
        left = [ip for ip in chunk if ip in still_held]
        raise OutcomeError("%s. Listing the account afterwards shows %s gone%s. A rerun removes only what is left."
                           % (exc, ", ".join(self.removed) or "nothing", "; still held: " + ", ".join(left) if left else ""),
                           self.result()) from None
