"""The tour's local stand-ins for Slack and the status page (releasegate's demo server).

    python tour.py start    # serve them in the background; write tour.env
    . ./tour.env            # the database URLs and the stand-ins' addresses
    python tour.py stop     # stop them

`tour.env` holds what the config's ${env:...} references need in this workspace: the
SQLite databases under data/, and the stand-ins' URLs and key (local, made up here).
Nothing leaves this machine.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATE = HERE / ".tour"


def serve() -> int:
    from releasegate.demo.mocks import start

    services, _ = start(page_id="cmkttour")
    databases = {f"CAMARKETPLACE_{env.upper()}_DB": f"sqlite:///{HERE / 'data' / env / 'camarketplace.db'}"
                 for env in ("staging", "production")}
    lines = [f"export {name}={shlex.quote(value)}"  # the apprise URL has ? and &
             for name, value in {**databases, **services.env()}.items()]
    env_file = HERE / "tour.env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env_file.chmod(0o600)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    (STATE / "pid").write_text(str(os.getpid()), encoding="utf-8")  # written last: ready
    while not stop.wait(0.2):  # a timed wait, so the SIGTERM handler gets to run
        pass
    services.stop()
    return 0


def begin() -> int:
    if _running():
        print("the stand-ins are already running; tour.env is current")
        return 0
    STATE.mkdir(exist_ok=True)
    (STATE / "pid").unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, __file__, "serve"], cwd=HERE, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (STATE / "pid").exists():  # the server writes it once tour.env is written
        if child.poll() is not None or time.monotonic() > deadline:
            print("the stand-ins did not start", file=sys.stderr)
            return 1
        time.sleep(0.05)
    print("Slack and the status page stand in on 127.0.0.1; now: . ./tour.env")
    return 0


def end() -> int:
    pid = _running()
    if pid:
        os.kill(pid, signal.SIGTERM)
    (STATE / "pid").unlink(missing_ok=True)
    print("stand-ins stopped" if pid else "the stand-ins were not running")
    return 0


def _running() -> int | None:
    try:
        pid = int((STATE / "pid").read_text(encoding="utf-8"))
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    actions = {"start": begin, "stop": end, "serve": serve}
    if action not in actions:
        print("usage: python tour.py start|stop", file=sys.stderr)
        sys.exit(2)
    sys.exit(actions[action]())
