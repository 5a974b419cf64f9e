"""Is the environment serving before we change it? (pre-deployment check)

    python scripts/env_ready.py            # reads RELEASEGATE_URL and RELEASEGATE_PREVIOUS_VERSION

releasegate runs it as a gate with the environment's URL and the version live now. When
something is live, the front socket (held by the ``local`` target's supervisor, this
example's load balancer) must answer ``/monitoring/health`` with ``status: ok`` and
``/monitoring/version`` with the live version, within ``--deadline`` seconds. On a first
deployment nothing is live yet, and it says so and passes. Exit 1 on failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _http import get_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default=os.environ.get("RELEASEGATE_URL", ""))
    parser.add_argument("--live", default=os.environ.get("RELEASEGATE_PREVIOUS_VERSION", ""))
    parser.add_argument("--deadline", type=float, default=10.0)
    args = parser.parse_args(argv)
    if not args.url:
        print("FAIL no URL (RELEASEGATE_URL is empty: give the environment a url)")
        return 1
    if not args.live:
        print(f"note nothing is live at {args.url} yet (first deployment): nothing to check")
        return 0
    base = args.url.rstrip("/")
    end = time.monotonic() + args.deadline
    problem = ""
    while True:
        try:
            status, health = get_json(f"{base}/monitoring/health")
            vstatus, version = get_json(f"{base}/monitoring/version")
        except OSError as exc:
            problem = f"{base}: {getattr(exc, 'reason', exc)}"
        else:
            live = (version or {}).get("version")
            if status != 200 or (health or {}).get("status") != "ok":
                problem = f"/monitoring/health: status {status}, {health}"
            elif vstatus != 200 or live != args.live:
                problem = f"/monitoring/version says {live!r}, releasegate's record says {args.live!r}"
            else:
                print(f"ok   {base} serves {live}: health ok, version as recorded")
                return 0
        if time.monotonic() >= end:
            print(f"FAIL {problem}")
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
