"""Variant (c) of make bench: the same POSTs from one Python process with a thread pool (the limit).

    python bench/pool.py --accounts-file IDS --threads 20    (SENDGRID_API_KEY, SENDGRID_API_URL set)

IDS holds one account ID per line; each account gets one POST {"count": 1, "region": "us"}, expecting 201.
Each thread keeps its own requests.Session. Prints one JSON line: {"posted", "failed", "seconds", "errors"};
exits 1 if any POST failed.
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


def session():
    """This thread's requests.Session (made on first use)."""
    if not hasattr(LOCAL, "session"):
        LOCAL.session = requests.Session()
        LOCAL.session.trust_env = False  # the simulator is on loopback: never through a proxy
    return LOCAL.session


def post(base_url, api_key, account_id, timeout):
    """None when the account got its IP (201), else a short error text."""
    url = "%s/v3/partners/accounts/%s/ips" % (base_url, quote(account_id, safe=""))
    try:
        answer = session().post(url, json={"count": 1, "region": "us"}, timeout=timeout,
                                headers={"Authorization": "Bearer " + api_key})
    except requests.RequestException as exc:
        return "%s: %s: %s" % (account_id, type(exc).__name__, str(exc)[:300])
    if answer.status_code != 201:
        return "%s: HTTP %d" % (account_id, answer.status_code)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts-file", required=True)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    base_url = os.environ["SENDGRID_API_URL"].rstrip("/")
    api_key = os.environ["SENDGRID_API_KEY"]
    with open(args.accounts_file, encoding="utf-8") as handle:
        account_ids = [line.strip() for line in handle if line.strip()]

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        errors = [error for error in pool.map(lambda account_id: post(base_url, api_key, account_id, args.timeout),
                                              account_ids) if error]
    seconds = time.monotonic() - start
    print(json.dumps({"posted": len(account_ids) - len(errors), "failed": len(errors), "seconds": round(seconds, 4),
                      "errors": errors[:20]}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
