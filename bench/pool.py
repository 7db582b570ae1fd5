"""Variants (c) and (d) of make bench: the API requests from one Python process with a thread pool (the limits).

    python bench/pool.py --accounts-file IDS --threads 20 [--list-first]   (SENDGRID_API_KEY, SENDGRID_API_URL set)

IDS holds one account ID per line; every account is to hold one US IP.
- (c), without --list-first: one POST {"count": 1, "region": "us"} per account, expecting 201. Blind, not idempotent
  (a rerun buys again): the floor of any onboarding.
- (d), --list-first: what the role asks of the API for each account, idempotent: GET the account's IPs
  (limit=5000, every page followed), then POST {"count": 1, "region": "us"} only when it holds no US IP. The limit for
  idempotent onboarding.
Each thread keeps its own requests.Session. Prints one JSON line: {"accounts", "listed", "posted", "already",
"failed", "seconds", "errors"}; exits 1 if any request failed.
"""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests

LOCAL = threading.local()
PAGE_LIMIT = 5000  # what the collection's client asks for


def session():
    """This thread's requests.Session (made on first use)."""
    if not hasattr(LOCAL, "session"):
        LOCAL.session = requests.Session()
        LOCAL.session.trust_env = False  # the simulator is on loopback: never through a proxy
    return LOCAL.session


class Failed(Exception):
    """A request that did not get the answer expected; str() is a short error text."""


def call(method, url, api_key, timeout, expected, **options):
    try:
        answer = session().request(method, url, timeout=timeout, headers={"Authorization": "Bearer " + api_key},
                                   **options)
    except requests.RequestException as exc:
        raise Failed("%s: %s" % (type(exc).__name__, str(exc)[:300])) from None
    if answer.status_code != expected:
        raise Failed("%s HTTP %d" % (method, answer.status_code))
    return answer


def us_ips(url, api_key, timeout):
    """How many US IPs the account holds: GET with limit=5000, following pages as the collection's client does."""
    held, offset = 0, None
    while True:
        params = {"limit": PAGE_LIMIT}
        if offset:
            params["offset"] = offset
        try:
            data = call("GET", url, api_key, timeout, 200, params=params).json()
            page = data["result"]
        except (ValueError, KeyError, TypeError):
            raise Failed("GET answered without a result list") from None
        held += sum(1 for item in page if isinstance(item, dict) and item.get("region") == "us")
        last = (data.get("pages") or {}).get("last")
        if len(page) < PAGE_LIMIT or not last or last == offset:
            return held
        offset = last


def onboard(base_url, api_key, account_id, timeout, list_first):
    """(listed, posted, error): error None when the account holds its US IP."""
    url = "%s/v3/partners/accounts/%s/ips" % (base_url, quote(account_id, safe=""))
    listed = 0
    try:
        if list_first:
            listed = 1
            if us_ips(url, api_key, timeout) >= 1:
                return listed, 0, None
        call("POST", url, api_key, timeout, 201, json={"count": 1, "region": "us"})
    except Failed as exc:
        return listed, 0, "%s: %s" % (account_id, exc)
    return listed, 1, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts-file", required=True)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--list-first", action="store_true",
                        help="variant (d): GET each account first, POST only what is missing (idempotent)")
    args = parser.parse_args(argv)
    base_url = os.environ["SENDGRID_API_URL"].rstrip("/")
    api_key = os.environ["SENDGRID_API_KEY"]
    with open(args.accounts_file, encoding="utf-8") as handle:
        account_ids = [line.strip() for line in handle if line.strip()]

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        outcomes = list(pool.map(lambda account_id: onboard(base_url, api_key, account_id, args.timeout, args.list_first),
                                 account_ids))
    seconds = time.monotonic() - start
    errors = [error for _listed, _posted, error in outcomes if error]
    posted = sum(posted for _listed, posted, _error in outcomes)
    print(json.dumps({"accounts": len(account_ids), "listed": sum(listed for listed, _posted, _error in outcomes),
                      "posted": posted, "already": len(account_ids) - posted - len(errors), "failed": len(errors),
                      "seconds": round(seconds, 4), "errors": errors[:20]}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
