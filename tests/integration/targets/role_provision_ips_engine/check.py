"""Checks one stage of runme.sh: the simulator's accounts and requests, the timestamped output and the report.

    python check.py STAGE OUTPUT [REPORT]      (SENDGRID_API_URL: the simulator)
"""

import json
import os
import sys
import urllib.request

PLAN_LINE = ("Plan for 3 customers: 3 to change, 0 failed before any change; add 2 IPs (us 2, eu 0), remove 2 IPs "
             "(1 more named for removal are not on their accounts).")


def control(path):
    with urllib.request.urlopen(os.environ["SENDGRID_API_URL"] + "/_sim/" + path, timeout=30) as answer:
        return json.load(answer)


def stamped_lines(path):
    """[(time, text)] of the output, each line stamped when it was printed."""
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            stamp, _space, text = line.rstrip("\n").partition(" ")
            lines.append((float(stamp), text))
    return lines


def first(lines, text):
    found = [stamp for stamp, line in lines if line.startswith(text)]
    assert found, "the output lacks a line starting with %r" % text
    return found[0]


def us_ips(accounts, account):
    return [item["ip"] for item in accounts[account] if item["region"] == "us"]


def check_engine(lines, report, requests, accounts, check_mode):
    changes = [r for r in requests if r["method"] in ("POST", "DELETE")]
    assert first(lines, PLAN_LINE) > 0
    if check_mode:
        assert changes == [], "check mode sent %s" % changes
        return
    assert changes, "no POST or DELETE"
    assert first(lines, PLAN_LINE) < min(r["received"] for r in changes), "the plan was printed after the first change"
    orderly = [(r["method"], r["body"]) for r in changes if r["account_id"] == "sgorderly"]
    assert orderly == [("DELETE", {"ips": ["174.5.0.1"]}), ("POST", {"count": 1, "region": "us"})], orderly
    held = us_ips(accounts, "sgorderly")
    assert len(held) == 2 and "174.5.0.2" in held and "174.5.0.1" not in held, held
    anyregion = [(r["method"], r["body"]) for r in changes if r["account_id"] == "sganyregion"]
    assert anyregion == [("DELETE", {"ips": ["185.6.0.1"]})], anyregion
    assert accounts["sganyregion"] == [{"ip": "174.6.0.1", "region": "us"}], accounts["sganyregion"]
    big = [(r["method"], r["body"]) for r in changes if r["account_id"] == "sgbig"]
    assert big == [("POST", {"count": 1, "region": "us"})], big
    assert len(us_ips(accounts, "sgbig")) == 5002
    if report is not None:
        line = next(line for line in report["customers"] if line["host"] == "anyregion")
        assert line["not_found"] == ["174.6.0.9"] and line["status"] == "changed", line
        assert report["plan"]["not_found_total"] == 1 and report["plan"]["summary"][0] == PLAN_LINE, report["plan"]


def check_slow(lines, requests, accounts):
    posts = [r for r in requests if r["method"] == "POST"]
    assert len(posts) == 12, posts
    assert first(lines, "Plan for 12 customers: 12 to change") < posts[0]["received"]
    progress = [(stamp, text) for stamp, text in lines if text.startswith("Applied ")]
    early = [stamp for stamp, text in progress if not text.startswith("Applied 12 of 12 ")]
    assert len(early) >= 2 and all(stamp < posts[-1]["received"] for stamp in early), progress
    assert progress[-1][1].startswith("Applied 12 of 12 customers to change: 12 changed, 0 failed, 12 IPs bought"), progress
    assert all(len(us_ips(accounts, "sgslow%02d" % n)) == 1 for n in range(1, 13)), accounts


def main():
    stage, output = sys.argv[1:3]
    report = json.load(open(sys.argv[3], encoding="utf-8")) if len(sys.argv) > 3 else None
    lines = stamped_lines(output)
    requests, accounts = control("requests")["requests"], control("accounts")["accounts"]
    if stage == "slow":
        check_slow(lines, requests, accounts)
    else:
        check_engine(lines, report, requests, accounts, stage == "check")
    print("%s: verified" % stage)


if __name__ == "__main__":
    main()
