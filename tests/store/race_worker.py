"""Run by the race tests as a separate process: ``race_worker.py MODE URL ARGS...``.

Modes: ``lock ENV DEPLOYMENT``, ``append N NAME``, ``approve ENV VERSION ROLE USER
DISTINCT(0|1)``, ``confirm DEPLOYMENT ITEM USER``.

A worker opens the store, prints ``ready``, and waits for a line on stdin: the test sends
``go`` to all workers at once, so they really do hit the store together. It then prints
one line saying what happened.
"""

from __future__ import annotations

import sys

from releasegate.errors import ConflictError, LockedError
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
        elif mode == "approve":
            environment, version, role, user, distinct = args
            try:
                store.add_approval(
                    environment=environment,
                    version=version,
                    role=role,
                    user=user,
                    distinct_people=distinct == "1",
                )
            except ConflictError as exc:
                print(f"conflict: {exc}", flush=True)
            else:
                print("approved", flush=True)
        elif mode == "confirm":
            try:
                store.add_confirmation(deployment_id=int(args[0]), item=args[1], user=args[2])
            except ConflictError as exc:
                print(f"conflict: {exc}", flush=True)
            else:
                print("signed", flush=True)
        else:
            for n in range(int(args[0])):
                store.append_event("test.appended", {"worker": args[1], "n": n})
            print("done", flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
