# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Saved plans: records, signing, reading, every refusal message, and the per-customer checks of an apply."""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest

from ansible_collections.sendgrid.partners.plugins.module_utils import _plan as plan
from ansible_collections.sendgrid.partners.plugins.module_utils._client import SendGridError

KEY = "SG.test-key-0123456789abcdefghijklmnopqrstuvwxyz"
OTHER_KEY = "SG.other-key-9876543210zyxwvutsrqponmlkjihgfedcba"
URL = "http://127.0.0.1:8080"
MADE = 1800000000  # 2027-01-15T08:00:00Z
ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"


def acme(**changes):
    arguments = {
        "host": "acme",
        "account_id": ACCOUNT,
        "api_url": URL,
        "held": {"us": ["10.0.0.1"], "eu": []},
        "entries": [{"region": "us", "total": 3}, {"region": "eu", "total": 1}],
        "add": {"us": 2, "eu": 1},
        "remove": [],
    }
    arguments.update(changes)
    return plan.customer_record(**arguments)


def beta():
    return plan.customer_record("beta", "acc-beta", URL + "/", {"us": ["10.0.1.1", "10.0.1.2"], "eu": ["10.9.0.1"]},
                                [{"state": "absent", "ips": ["10.9.0.1"]}, {"region": "us", "total": 2}], {}, ["10.9.0.1"])


def made_plan(records=None, cap=50, key=KEY):
    return plan.build_plan(records if records is not None else [beta(), acme()], cap, MADE, "0.1.0", key)


def round_trip(document):
    """The plan as a later job gets it: JSON text (file, artifact), parsed again."""
    return plan.load_plan(json.loads(json.dumps(document)))


def check(document, key=KEY, urls=(URL,), max_age=86400, now=MADE + 60):
    return plan.check_plan(document, key, list(urls), max_age, now)


# ----- records and the document ---------------------------------------------------------------------------------

def test_customer_record_is_small_and_has_no_ips_of_the_account():
    record = acme()
    assert record == {
        "host": "acme",
        "account_id": ACCOUNT,
        "api_url": URL,
        "held": {"eu": 0, "us": 1},
        "held_digest": record["held_digest"],
        "entries_digest": record["entries_digest"],
        "add": {"eu": 1, "us": 2},
        "remove": [],
    }
    assert sorted(record["held_digest"]) == ["eu", "us"]
    assert all(len(digest) == plan.DIGEST_LENGTH for digest in record["held_digest"].values())
    assert "10.0.0.1" not in json.dumps(record)


def test_record_leaves_out_regions_with_nothing_to_add_and_keeps_removals():
    record = beta()
    assert record["add"] == {}
    assert record["remove"] == ["10.9.0.1"]
    assert record["api_url"] == URL  # trailing slash gone


def test_build_plan_totals_order_and_fields():
    document = made_plan()
    assert document["format"] == "sendgrid.partners/plan"
    assert document["version"] == plan.PLAN_VERSION == 1
    assert document["made_at"] == "2027-01-15T08:00:00Z"
    assert document["collection_version"] == "0.1.0"
    assert document["cap"] == 50
    assert document["totals"] == {"add": {"eu": 1, "us": 2}, "add_total": 3, "remove_total": 1, "customers": 2}
    assert [record["host"] for record in document["customers"]] == ["acme", "beta"]
    assert document["signature"].startswith("hmac-sha256:") and len(document["signature"]) == len("hmac-sha256:") + 64


def test_made_at_from_an_aware_datetime_and_no_cap():
    import datetime
    moment = datetime.datetime(2027, 1, 15, 10, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    document = plan.build_plan([acme()], None, moment, "0.1.0", KEY)
    assert document["made_at"] == "2027-01-15T08:00:00Z"
    assert document["cap"] is None


def test_the_key_is_in_no_part_of_the_plan_and_two_keys_sign_differently():
    one, two = made_plan(key=KEY), made_plan(key=OTHER_KEY)
    for document in (one, two):
        text = json.dumps(document) + plan.render_plan(document)
        assert KEY not in text and OTHER_KEY not in text
    assert one["signature"] != two["signature"]
    assert {key: value for key, value in one.items() if key != "signature"} == {key: value for key, value in two.items() if key != "signature"}


def test_signature_is_deterministic_and_covers_every_field():
    document = made_plan()
    assert made_plan()["signature"] == document["signature"]
    for field, value in (("cap", 51), ("made_at", "2027-01-15T08:00:01Z"), ("collection_version", "0.1.1")):
        edited = dict(document, **{field: value})
        assert plan.signature_of(edited, KEY) != document["signature"], field


def test_a_plan_without_key_is_refused():
    with pytest.raises(plan.PlanError) as info:
        plan.build_plan([acme()], 50, MADE, "0.1.0", "")
    assert str(info.value) == "a plan is signed with the API key, and there is none: set sendgrid_api_key or SENDGRID_API_KEY"


def test_a_key_inside_the_api_url_is_never_written():
    record = acme(api_url="https://%s@api.example.com" % KEY)
    assert KEY not in json.dumps(record)
    assert record["api_url"] == "https://api.example.com"


def test_plan_error_is_a_sendgrid_error():
    assert issubclass(plan.PlanError, SendGridError)


# ----- canonical forms ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, canonical", [
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("HTTPS://API.SendGrid.com:443//", "https://api.sendgrid.com"),
    ("https://api.eu.sendgrid.com", "https://api.eu.sendgrid.com"),
    ("http://[::1]:80/", "http://[::1]"),
    ("https://user:secret@proxy.example.com:8443/sg/", "https://proxy.example.com:8443/sg"),
    ("not a url/", "not a url"),
    ("http://[::1", "http://[::1"),
])
def test_canonical_api_url(url, canonical):
    assert plan.canonical_api_url(url) == canonical


def test_entries_digest_ignores_how_the_entries_are_written():
    written = [{"region": "us", "total": 2}, {"state": "absent", "ips": ["10.0.0.2", "10.0.0.1"], "region": None}]
    templated = [{"state": "absent", "ips": ["10.0.0.1", "10.0.0.2"], "count": None, "total": None},
                 {"region": "us", "total": "2", "state": "present", "count": None}]
    assert plan.entries_digest(written) == plan.entries_digest(templated)
    assert plan.entries_digest(written) != plan.entries_digest([{"region": "us", "total": 3}, written[1]])
    assert plan.entries_digest([{"region": "us", "total": 2}]) != plan.entries_digest([{"region": "us", "count": 2}])


def test_held_digest_ignores_order_but_not_the_set():
    assert plan.held_digests({"us": ["10.0.0.1", "10.0.0.2"]}) == plan.held_digests({"us": ["10.0.0.2", "10.0.0.1"], "eu": []})
    assert plan.held_digests({"us": ["10.0.0.1"]})["us"] != plan.held_digests({"us": ["10.0.0.3"]})["us"]


# ----- the file -------------------------------------------------------------------------------------------------

def test_write_plan_atomic_private_one_line_per_customer(tmp_path):
    document = made_plan()
    target = tmp_path / "plans" / "deeper" / "onboard.json"
    assert plan.write_plan(str(target), document) == str(target)
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(target.parent)).st_mode) == 0o700
    text = target.read_text()
    assert json.loads(text) == document
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert sum(1 for line in lines if line.lstrip().startswith('{"host": ')) == 2
    assert '  "format": "sendgrid.partners/plan",' in lines
    assert '  "totals": {"add": {"eu": 1, "us": 2}, "add_total": 3, "remove_total": 1, "customers": 2},' in lines
    assert sorted(os.listdir(str(target.parent))) == ["onboard.json"]  # no temporary file left
    plan.write_plan(str(target), made_plan(records=[acme()]))  # replaced, not appended
    assert len(json.loads(target.read_text())["customers"]) == 1


def test_write_plan_of_an_empty_plan_is_json(tmp_path):
    target = tmp_path / "empty.json"
    plan.write_plan(str(target), made_plan(records=[]))
    assert json.loads(target.read_text())["customers"] == []


def test_write_plan_where_it_cannot(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(plan.PlanError) as info:
        plan.write_plan(str(blocker / "onboard.json"), made_plan())
    assert str(info.value) == "sendgrid_plan_path %s: cannot write the plan there: File exists" % (blocker / "onboard.json")


# ----- reading --------------------------------------------------------------------------------------------------

def test_load_plan_from_dict_file_and_json_text(tmp_path):
    document = made_plan()
    target = tmp_path / "onboard.json"
    plan.write_plan(str(target), document)
    from_dict = plan.load_plan(copy.deepcopy(document))
    from_file = plan.load_plan(str(target))
    from_text = plan.load_plan(json.dumps(document), name="sendgrid_plan")
    assert from_dict == from_file == from_text == document
    assert from_dict.source == "sendgrid_plan"
    assert from_file.source == "sendgrid_plan_path %s" % target
    assert from_text.source == "sendgrid_plan"
    for loaded in (from_dict, from_file, from_text):
        assert check(loaded) is loaded


class TaggedStr(str):
    """Like the str subclasses Ansible hands over (unsafe text, tagged values)."""


class TaggedInt(int):
    pass


class TaggedDict(dict):
    pass


def tagged(value):
    if isinstance(value, dict):
        return TaggedDict((TaggedStr(key), tagged(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(tagged(item) for item in value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return TaggedInt(value)
    return TaggedStr(value)


def test_a_plan_through_ansible_types_still_verifies():
    document = plan.load_plan(tagged(made_plan()))
    assert [type(document["customers"]), type(document["cap"]), type(document["made_at"])] == [list, int, str]  # plain, not tagged
    assert check(document)["totals"]["add_total"] == 3


@pytest.mark.parametrize("value, message", [
    (["a"], "sendgrid_plan is not a plan at all: expected a dict like the artifact sendgrid_plan of a check-mode run, got a list"),
    ({"changed": True, "api_key": "x"}, "sendgrid_plan is not a plan at all: it has no format 'sendgrid.partners/plan' (its keys: "
                                        "api_key, changed). Give sendgrid_plan the artifact sendgrid_plan of a check-mode run, "
                                        "or sendgrid_plan_path the file it wrote"),
    ({}, "sendgrid_plan is not a plan at all: it has no format 'sendgrid.partners/plan' (its keys: none). Give sendgrid_plan the "
         "artifact sendgrid_plan of a check-mode run, or sendgrid_plan_path the file it wrote"),
    ("{not json", "sendgrid_plan is not a plan at all: it is a string that is not JSON (Expecting property name enclosed in double "
                  "quotes: line 1 column 2 (char 1))"),
    ("", "sendgrid_plan_path must be the path of a plan file written by a check-mode run, or sendgrid_plan the plan itself; got an "
         "empty string"),
    (12, "sendgrid_plan is not a plan at all: expected a dict like the artifact sendgrid_plan of a check-mode run, got a number"),
])
def test_not_a_plan_at_all(value, message):
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(value)
    assert str(info.value) == message


def test_not_a_plan_never_echoes_values():
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan({"sendgrid_api_key": KEY})
    assert KEY not in str(info.value)


def test_load_plan_names_the_variable_it_was_given():
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(["x"], name="sendgrid_plan")
    assert str(info.value).startswith("sendgrid_plan is not a plan at all")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan("plans/onboard.json", name="sendgrid_plan")
    assert str(info.value) == ("sendgrid_plan is not a plan at all: expected a dict like the artifact sendgrid_plan of a check-mode run, "
                               "got a string (for a plan file, use sendgrid_plan_path)")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(["plans/onboard.json"], name="sendgrid_plan_path")
    assert str(info.value) == ("sendgrid_plan_path must be the path of a plan file written by a check-mode run, or sendgrid_plan "
                               "the plan itself; got a list")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan({"format": "x"}, name="sendgrid_plan_path")
    assert str(info.value).startswith("sendgrid_plan_path is not a plan at all: it has no format")


def test_plan_file_missing_directory_not_json(tmp_path):
    missing = str(tmp_path / "nope.json")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(missing)
    assert str(info.value) == ("sendgrid_plan_path %s: no such file. Make the plan first with a check-mode run (--check) and the "
                               "same sendgrid_plan_path" % missing)
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(str(tmp_path))
    assert str(info.value) == "sendgrid_plan_path %s is a directory, not a plan file" % tmp_path
    garbage = tmp_path / "garbage.json"
    garbage.write_text("customers: []\n")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(str(garbage))
    assert str(info.value) == "sendgrid_plan_path %s is not JSON (Expecting value: line 1 column 1 (char 0)): not a plan at all" % garbage
    other = tmp_path / "report.json"
    other.write_text(json.dumps({"check_mode": True, "summary": {}}))
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(str(other))
    assert str(info.value) == ("sendgrid_plan_path %s is not a plan at all: it has no format 'sendgrid.partners/plan' (its keys: "
                               "check_mode, summary). Give sendgrid_plan_path the artifact sendgrid_plan of a check-mode run" % other)


def test_plan_file_unreadable(tmp_path):
    target = tmp_path / "onboard.json"
    plan.write_plan(str(target), made_plan())
    below = str(target / "onboard.json")  # an OSError that root meets too
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(below)
    assert str(info.value) == "sendgrid_plan_path %s cannot be read: Not a directory" % below


def test_plan_versions():
    newer = dict(made_plan(), version=2, collection_version="0.3.0")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(newer)
    assert str(info.value) == ("sendgrid_plan is a plan of version 2, made by sendgrid.partners 0.3.0; this collection reads plans of "
                               "version 1: apply it with the collection version that made it, or re-plan")
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(dict(made_plan(), version=0))
    assert str(info.value) == "sendgrid_plan is a plan of version 0, which this collection no longer reads: re-plan"
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(dict(made_plan(), version="1"))
    assert str(info.value) == "sendgrid_plan is not a valid plan: version must be an integer"


def damaged(edit):
    document = json.loads(json.dumps(made_plan()))
    edit(document)
    return document


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d.pop("signature"), "it lacks signature"),
    (lambda d: d.pop("totals") and d.pop("cap"), "it lacks cap, totals"),
    (lambda d: d.update(made_at="yesterday"), "made_at must be an ISO-8601 UTC time like 2026-01-31T12:00:00Z"),
    (lambda d: d.update(cap="50"), "cap must be an integer or null"),
    (lambda d: d.update(signature="abc"), "signature must be a string starting with hmac-sha256:"),
    (lambda d: d["totals"].pop("add_total"), "totals must hold add (per region), add_total, remove_total and customers"),
    (lambda d: d.update(customers={}), "customers must be a list, got a dict"),
    (lambda d: d["customers"].append("acme"), "customers[2] must be a dict, got a string"),
    (lambda d: d["customers"][0].pop("held_digest"), "customers[0] lacks held_digest"),
    (lambda d: d["customers"][0].update(host=""), "customers[0].host must be a non-empty string"),
    (lambda d: d["customers"][1].update(account_id=7), "customers[1].account_id must be a non-empty string"),
    (lambda d: d["customers"][0]["add"].update(us=-1), "customers[0].add must map regions (eu, us) to counts"),
    (lambda d: d["customers"][0]["add"].update(ap=1), "customers[0].add must map regions (eu, us) to counts"),
    (lambda d: d["customers"][0]["held"].update(us="1"), "customers[0].held must map regions (eu, us) to counts"),
    (lambda d: d["customers"][0].update(held_digest={"us": 1}), "customers[0].held_digest must map regions to digests"),
    (lambda d: d["customers"][0].update(remove="10.0.0.1"), "customers[0].remove must be a list of IPs"),
    (lambda d: d["customers"].append(dict(d["customers"][0])), "host acme appears more than once in customers"),
])
def test_damaged_plans(edit, problem):
    with pytest.raises(plan.PlanError) as info:
        plan.load_plan(damaged(edit))
    assert str(info.value) == "sendgrid_plan is not a valid plan (damaged or edited by hand?): %s. Re-plan with a check-mode run" % problem


# ----- check_plan: every refusal --------------------------------------------------------------------------------

SIGNATURE_MESSAGE = ("sendgrid_plan does not verify against this run's API key: it was edited by hand after it was made, or it was "
                     "made with another API key. Nothing was bought; re-plan with a check-mode run using this key")


def test_edited_by_hand_is_refused():
    document = json.loads(json.dumps(made_plan()))
    document["customers"][0]["add"]["us"] = 5
    document["totals"]["add"]["us"] += 3
    document["totals"]["add_total"] += 3
    with pytest.raises(plan.PlanError) as info:
        check(plan.load_plan(document))
    assert str(info.value) == SIGNATURE_MESSAGE


def test_made_with_another_key_is_refused():
    with pytest.raises(plan.PlanError) as info:
        check(round_trip(made_plan(key=OTHER_KEY)))
    assert str(info.value) == SIGNATURE_MESSAGE


def test_signature_compared_in_full():
    document = round_trip(made_plan())
    document["signature"] = document["signature"][:-1] + ("0" if document["signature"][-1] != "0" else "1")
    with pytest.raises(plan.PlanError) as info:
        check(document)
    assert str(info.value) == SIGNATURE_MESSAGE


def test_too_old():
    with pytest.raises(plan.PlanError) as info:
        check(round_trip(made_plan()), now=MADE + 86400 + 3 * 3600 + 120)
    assert str(info.value) == ("sendgrid_plan was made 1d3h2m ago (at 2027-01-15T08:00:00Z), more than sendgrid_plan_max_age allows "
                               "(1d): re-plan, or raise sendgrid_plan_max_age, e.g. -e sendgrid_plan_max_age=1d4h")
    assert check(round_trip(made_plan()), now=MADE + 86400)  # exactly the limit is still fine


def test_too_old_with_a_short_limit_from_a_file(tmp_path):
    target = tmp_path / "onboard.json"
    plan.write_plan(str(target), made_plan())
    with pytest.raises(plan.PlanError) as info:
        check(plan.load_plan(str(target)), max_age=plan.parse_max_age("90m"), now=MADE + 7200)
    assert str(info.value) == ("sendgrid_plan_path %s was made 2h ago (at 2027-01-15T08:00:00Z), more than sendgrid_plan_max_age "
                               "allows (1h30m): re-plan, or raise sendgrid_plan_max_age, e.g. -e sendgrid_plan_max_age=3h" % target)


def test_from_the_future():
    assert check(round_trip(made_plan()), now=MADE - 300)  # within the skew
    with pytest.raises(plan.PlanError) as info:
        check(round_trip(made_plan()), now=MADE - 3600)
    assert str(info.value) == ("sendgrid_plan was made at 2027-01-15T08:00:00Z, 1h in the future of this controller's clock (at most "
                               "5m is tolerated): check the clocks of the controllers that made and apply the plan, or re-plan")


def test_made_for_another_api_url():
    with pytest.raises(plan.PlanError) as info:
        check(round_trip(made_plan()), urls=["https://api.eu.sendgrid.com"])
    assert str(info.value) == ("sendgrid_plan was made for http://127.0.0.1:8080, but this run uses https://api.eu.sendgrid.com: "
                               "apply a plan made against the same API URL, or re-plan")


def test_api_url_with_or_without_trailing_slash():
    assert check(round_trip(made_plan()), urls=["http://127.0.0.1:8080/"])
    assert check(round_trip(made_plan()), urls=["http://127.0.0.1:8080", "https://api.sendgrid.com"])


def test_another_url_is_refused_before_the_signature_is_looked_at():
    with pytest.raises(plan.PlanError) as info:
        check(round_trip(made_plan(key=OTHER_KEY)), urls=["https://api.sendgrid.com/"])
    assert "was made for http://127.0.0.1:8080, but this run uses https://api.sendgrid.com" in str(info.value)


def test_datetime_now_is_accepted():
    import datetime
    assert check(round_trip(made_plan()), now=datetime.datetime(2027, 1, 15, 9, 0, 0))


def test_several_keys_sign_order_free():
    document = plan.build_plan([acme()], 5, MADE, "0.1.0", [OTHER_KEY, KEY])
    assert check(round_trip(document), key=(KEY, OTHER_KEY, KEY))
    with pytest.raises(plan.PlanError):
        check(round_trip(document), key=KEY)


def test_check_plan_never_shows_the_key():
    for document, key in ((made_plan(key=OTHER_KEY), KEY), (made_plan(), KEY)):
        try:
            check(round_trip(document), key=key, now=MADE + 10 ** 6)
        except plan.PlanError as exc:
            assert KEY not in str(exc) and OTHER_KEY not in str(exc)


# ----- parse_max_age --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [
    (None, 86400), ("", 86400), (3600, 3600), ("3600", 3600), ("24h", 86400), ("90m", 5400), ("2d", 172800),
    ("3600s", 3600), ("1h30m", 5400), (" 1D2H ", 93600), ("1d1h1m1s", 90061),
])
def test_parse_max_age(value, seconds):
    assert plan.parse_max_age(value) == seconds


@pytest.mark.parametrize("value", [0, -5, "0", "0h", "1.5h", "h", "24 h", "1m1h", "tomorrow", True, 3.5, [], "٣h"])
def test_parse_max_age_refused(value):
    with pytest.raises(plan.PlanError) as info:
        plan.parse_max_age(value)
    assert str(info.value) == ("sendgrid_plan_max_age must be a number of seconds (e.g. 86400) or a duration like 24h, 90m, 2d, 3600s "
                               "or 1h30m, at least 1 second; got %r" % (value,))


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59, "59s"), (3600, "1h"), (5400, "1h30m"), (90061, "1d1h1m1s"), (86400.7, "1d")])
def test_format_duration_round_trips(seconds, text):
    assert plan.format_duration(seconds) == text
    if seconds >= 1:
        assert plan.parse_max_age(text) == int(seconds)


# ----- record_problem and records_by_host ---------------------------------------------------------------------------

ENTRIES = [{"region": "us", "total": 3}, {"region": "eu", "total": 1}]


def test_records_by_host():
    document = round_trip(made_plan())
    assert sorted(plan.records_by_host(document)) == ["acme", "beta"]
    assert plan.records_by_host(document)["acme"]["add"] == {"eu": 1, "us": 2}


def test_unchanged_customer_may_be_applied():
    record = acme()
    assert plan.record_problem(record, ACCOUNT, {"us": ["10.0.0.1"], "eu": []}, ENTRIES) is None
    assert plan.record_problem(record, ACCOUNT, {"us": ["10.0.0.1"]}, [dict(entry, state="present") for entry in reversed(ENTRIES)],
                               api_url=URL + "/") is None


def test_not_in_the_plan():
    assert plan.record_problem(None, ACCOUNT, {}, ENTRIES) == "this customer is not in the plan: re-plan with this host in the inventory"


def test_account_id_changed():
    assert plan.record_problem(acme(), "acc-other", {"us": ["10.0.0.1"]}, ENTRIES) == (
        "sendgrid_account_id changed since the plan was made (the plan has %s, now acc-other): re-plan" % ACCOUNT)


def test_api_url_changed():
    assert plan.record_problem(acme(), ACCOUNT, {"us": ["10.0.0.1"]}, ENTRIES, api_url="https://api.eu.sendgrid.com/") == (
        "sendgrid_api_url changed since the plan was made (the plan has http://127.0.0.1:8080, now https://api.eu.sendgrid.com): re-plan")


def test_entries_changed():
    assert plan.record_problem(acme(), ACCOUNT, {"us": ["10.0.0.1"]}, [{"region": "us", "total": 5}, ENTRIES[1]]) == (
        "sendgrid_ips changed since the plan was made: re-plan")


def test_holdings_changed_more_ips():
    assert plan.record_problem(acme(), ACCOUNT, {"us": ["10.0.0.1", "10.0.0.7", "10.0.0.8"], "eu": []}, ENTRIES) == (
        "plan saw 1 us IP, the account now holds 3: re-plan")


def test_holdings_changed_fewer_and_in_both_regions():
    assert plan.record_problem(acme(), ACCOUNT, {"us": [], "eu": ["10.9.0.5"]}, ENTRIES) == (
        "plan saw 0 eu IPs, the account now holds 1; plan saw 1 us IP, the account now holds 0: re-plan")


def test_holdings_changed_same_count_other_ips():
    assert plan.record_problem(acme(), ACCOUNT, {"us": ["10.0.0.9"], "eu": []}, ENTRIES) == (
        "plan saw 1 us IP, the account now holds 1 different one: re-plan")


def test_entries_and_holdings_changed_together():
    record = beta()
    assert plan.record_problem(record, "acc-beta", {"us": ["10.0.1.1", "10.0.1.2"], "eu": []}, [{"region": "us", "total": 2}]) == (
        "sendgrid_ips changed since the plan was made; plan saw 1 eu IP, the account now holds 0: re-plan")
