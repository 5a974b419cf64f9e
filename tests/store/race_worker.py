"""Run by the race tests as a separate process: ``race_worker.py lock|append URL ARGS...``.

A worker opens the store, prints ``ready``, and waits for a line on stdin: the test sends
``go`` to all workers at once, so they really do hit the store together. It then prints
one line saying what happened.
"""

from __future__ import annotations

import sys

from releasegate.errors import LockedError
from releasegate.store.api import open_store


def main(mode: str, url: str, *args: str) -> None:
    store = open_store(url)
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        if mode == "lock":
            environment, deployment_id = args[0], int(args[1])
            try:
                store.acquire_lock(
                    environment,
                    deployment_id=deployment_id,
                    holder=f"worker-{deployment_id}",
                    ttl_s=60,
                )
            except LockedError as exc:
                print(f"locked: {exc}", flush=True)
            else:
                print("won", flush=True)
        else:
            for n in range(int(args[0])):
                store.append_event("test.appended", {"worker": args[1], "n": n})
            print("done", flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
