"""Engine benchmarks (issue 3), measured with the real CLI and real drivers:

* orchestration overhead: 50 ``command`` steps running /bin/true + 20 ``http-check``
  steps against a local HTTP server, sequential, end to end with ``releasegate deploy``
  (store writes included), side by side with ansible-core running the same 70 tasks;
* parallel gates: 10 independent gates that each sleep 1 s;
* peak memory (max RSS) of a deploy run;
* ``releasegate show`` on a deployment with a 10,000-event log.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BIN = Path(sys.executable).parent
RELEASEGATE = str(BIN / "releasegate")
ANSIBLE = shutil.which("ansible-playbook", path=str(BIN)) or shutil.which("ansible-playbook")
RUNS = 3


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


def _server() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _config(url: str) -> str:
    lines = ["project: bench", "environments:", "  bench:", f"    url: {url}", "    deploy:"]
    for i in range(50):
        lines.append(f"      - {{id: true-{i}, uses: command, with: {{run: [/bin/true]}}}}")
    for i in range(20):
        lines.append(f"      - {{id: http-{i}, uses: http-check, with: {{paths: [/monitoring/health]}}}}")
    return "\n".join(lines) + "\n"


def _playbook(url: str) -> str:
    tasks = []
    for i in range(50):
        tasks.append(f"    - name: true-{i}\n      ansible.builtin.command: /bin/true\n      changed_when: false")
    for i in range(20):
        tasks.append(f"    - name: http-{i}\n      ansible.builtin.uri:\n        url: {url}/monitoring/health")
    return "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + "\n".join(tasks) + "\n"


def _timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def orchestration(work: Path, url: str) -> None:
    (work / "releasegate.yaml").write_text(_config(url))
    times = []
    for i in range(RUNS):
        times.append(_timed([RELEASEGATE, "--as", "bench", "deploy", "bench", f"1.0.{i}", "--yes"], work))
    ours = statistics.median(times)
    print(f"orchestration.releasegate_70_steps: {ours * 1000:.0f} ms (median of {RUNS})")
    print(f"orchestration.releasegate_per_step: {ours / 70 * 1000:.2f} ms")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"deploy.peak_rss: {peak_kb / 1024:.0f} MB (max RSS of the deploy processes)")
    if ANSIBLE is None:
        print("orchestration.ansible: not installed (pip install ansible-core)")
        return
    (work / "play.yml").write_text(_playbook(url))
    ansible = statistics.median(
        _timed([ANSIBLE, "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}", "play.yml"], work) for _ in range(RUNS)
    )
    print(f"orchestration.ansible_70_tasks: {ansible * 1000:.0f} ms (median of {RUNS})")
    print(f"orchestration.ansible_per_task: {ansible / 70 * 1000:.1f} ms")
    print(f"orchestration.ratio_ansible_over_releasegate: {ansible / ours:.1f} x")


def parallel_gates(work: Path) -> None:
    sub = work / "parallel"
    sub.mkdir()
    gates = "\n".join(
        f"      - {{id: sleep-{i}, uses: command, with: {{run: [sleep, '1']}}}}" for i in range(10)
    )
    (sub / "releasegate.yaml").write_text(
        f"project: bench\nenvironments:\n  bench:\n    concurrency: 10\n    gates:\n{gates}\n"
    )
    wall = _timed([RELEASEGATE, "--as", "bench", "deploy", "bench", "1.0.0", "--yes"], sub)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from releasegate.store.api import open_store

    store = open_store(f"sqlite:///{sub / '.releasegate' / 'state.db'}")
    runs = store.list_step_runs(store.list_deployments(limit=1)[0].id)
    phase = max(r.finished_at for r in runs if r.finished_at) - min(r.started_at for r in runs)
    print(f"parallel_gates.10x_sleep_1s_phase: {phase.total_seconds() * 1000:.0f} ms (first start to last end)")
    print(f"parallel_gates.10x_sleep_1s_whole_command: {wall * 1000:.0f} ms (process start included)")


def big_log(work: Path) -> None:
    sub = work / "biglog"
    sub.mkdir()
    (sub / "releasegate.yaml").write_text(
        "project: bench\nenvironments:\n  bench:\n    gates:\n      - {id: t, uses: command, with: {run: [/bin/true]}}\n"
    )
    _timed([RELEASEGATE, "--as", "bench", "deploy", "bench", "1.0.0", "--yes"], sub)
    from releasegate.store.api import open_store

    store = open_store(f"sqlite:///{sub / '.releasegate' / 'state.db'}")
    dep = store.list_deployments(limit=1)[0]
    existing = len(store.list_events(deployment_id=dep.id))
    for i in range(10_000 - existing):
        store.append_event("step.output", {"step": "t", "line": f"line {i}"}, deployment_id=dep.id)
    store.close()
    show = statistics.median(_timed([RELEASEGATE, "show", str(dep.id)], sub) for _ in range(5))
    audit = statistics.median(_timed([RELEASEGATE, "audit", "verify"], sub) for _ in range(5))
    print(f"show.10k_event_deployment: {show * 1000:.0f} ms (median of 5, whole command)")
    print(f"audit_verify.10k_events: {audit * 1000:.0f} ms (median of 5, whole command)")


def main() -> None:
    server, url = _server()
    with tempfile.TemporaryDirectory(prefix="rg-bench-") as tmp:
        work = Path(tmp)
        orchestration(work, url)
        parallel_gates(work)
        big_log(work)
    server.shutdown()


if __name__ == "__main__":
    main()
