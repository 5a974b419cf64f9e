"""Maintenance mode of an environment served by the ``local`` target.

    python scripts/maintenance.py on|off|check --state-dir .releasegate/local/production

``on``/``off`` ask the target's supervisor (which holds the environment's listening
socket: this example's load balancer) to answer every request with its maintenance page
(503 with Retry-After) or to serve normally again; ``check`` proves the supervisor is
there to do it, and prints what it serves now. Exit 1 when the supervisor does not answer
or refuses.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any


def ask(state_dir: Path, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """One JSON-line request to the supervisor's control socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(state_dir.resolve() / "control.sock"))
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data or b"{}")
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["on", "off", "check"])
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--retry-after", type=int, default=120)
    args = parser.parse_args(argv)
    try:
        if args.action == "check":
            answer = ask(args.state_dir, {"cmd": "status"})
        else:
            answer = ask(args.state_dir, {"cmd": "maintenance", "on": args.action == "on",
                                          "retry_after": args.retry_after})
    except (OSError, ValueError) as exc:
        print(f"FAIL no supervisor answers in {args.state_dir} ({exc})")
        return 1
    if not answer.get("ok"):
        print(f"FAIL the supervisor refused: {answer.get('error', answer)}")
        return 1
    status = answer if args.action == "check" else ask(args.state_dir, {"cmd": "status"})
    print(f"ok   supervisor at {status.get('address')} serves {status.get('version')}, "
          f"maintenance {'on' if status.get('maintenance') else 'off'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
