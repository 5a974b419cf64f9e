"""Time to detect through the CLI (issue 9): a service goes bad under the probe during a
real ``releasegate deploy``; how long from its first bad answer to the rollback decision?

A small service in its own process answers with the version the ``command`` target last
wrote; version ``2.0`` answers 500 to every other request and records when it first did.
``releasegate deploy staging 2.0 --json`` verifies with ``every: 5s``,
``failures_allowed: 1`` (the issue's setting) against the 1.0 deployment's samples; the
decision is the time of its ``rollback.started`` event.

    PYTHONPATH=src python benchmarks/bench_verify_cli.py [--runs N] [--every SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SERVICE = '''
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
live, first_bad, count = Path(sys.argv[2]), Path(sys.argv[3]), [0]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        version = live.read_text().strip() if live.exists() else "none"
        count[0] += 1
        bad = version == "2.0" and count[0] % 2 == 0
        if bad and not first_bad.exists():
            first_bad.write_text(repr(time.time()))
        body = version.encode()
        self.send_response(500 if bad else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''

CONFIG = """project: bench
environments:
  staging:
    url: http://127.0.0.1:{port}
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {{version}} > live.txt"]
        rollback: [sh, -c, "echo {{version}} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {{id: release, uses: target}}
    verify:
      - {{stage: immediate, for: {for_s}s, every: {every}s, failures_allowed: 1,
         check: {{error_rate: "< 1%", p95: "< 500ms"}}}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "releasegate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def one_run(tmp: Path, every: float) -> tuple[float, str]:
    port = _free_port()
    (tmp / "service.py").write_text(SERVICE)
    (tmp / "releasegate.yaml").write_text(CONFIG.format(port=port, every=every, for_s=every * 3))
    service = subprocess.Popen([sys.executable, str(tmp / "service.py"), str(port),
                                str(tmp / "live.txt"), str(tmp / "first_bad")])  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        good = _rg(tmp, "deploy", "staging", "1.0")
        assert good.returncode == 0, good.stdout + good.stderr
        bad = _rg(tmp, "--json", "deploy", "staging", "2.0")
        assert bad.returncode == 5, bad.stdout + bad.stderr
        events = [json.loads(line) for line in bad.stdout.splitlines()]
        decided = next(e["at"] for e in events if e["event"] == "rollback.started")
        first = float((tmp / "first_bad").read_text())
        return decided - first, events[-1]["detail"]
    finally:
        service.kill()
        service.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args(argv)
    print("machine_load_average: {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count()))
    took: list[float] = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-verify-cli-") as tmp:
            seconds, detail = one_run(Path(tmp), args.every)
        took.append(seconds)
        print(f"run {i + 1}: first bad answer → rollback decision {seconds:.2f} s "
              f"= {seconds / args.every:.2f} intervals of {args.every:g} s")  # fmt: skip
    print(f"detect_cli_median: {statistics.median(took):.2f} s, max {max(took):.2f} s "
          f"({max(took) / args.every:.2f} intervals; the issue asks < 3)")  # fmt: skip
    print(f"detect_cli_detail: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
