"""Engine benchmarks (issue 3), measured with the real CLI and real drivers:

* orchestration overhead: 50 ``command`` steps running /bin/true + 20 ``http-check``
  steps against a local HTTP server, sequential, end to end with ``releasegate deploy``
  (store writes included), side by side with ansible-core running the same 70 tasks; the
  deploy of an empty plan is timed in the same run, so the cost of a step is
  (T(70 steps) - T(empty plan)) / 70;
* parallel gates: 10 independent gates that each sleep 1 s;
* peak memory (max RSS) of a deploy run;
* ``releasegate show`` on a deployment with a 10,000-event log.

Commands run with a bytecode cache (``PYTHONPYCACHEPREFIX`` in the scratch directory,
filled by a warm-up run), as an installed package has its ``.pyc`` files: without it,
``PYTHONDONTWRITEBYTECODE=1`` makes every command compile releasegate's sources again.
``python benchmarks/bench_engine.py [orchestration] [parallel] [biglog]`` runs only those.
"""

from __future__ import annotations

import os
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
OUR_RUNS = 9
"""Runs of each releasegate deploy (empty plan, 70 steps), interleaved; medians reported."""
_ENV = dict(os.environ)


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


def _empty_config(url: str) -> str:
    return f"project: bench\nenvironments:\n  bench:\n    url: {url}\n"


def _playbook(url: str) -> str:
    tasks = []
    for i in range(50):
        tasks.append(f"    - name: true-{i}\n      ansible.builtin.command: /bin/true\n      changed_when: false")
    for i in range(20):
        tasks.append(f"    - name: http-{i}\n      ansible.builtin.uri:\n        url: {url}/monitoring/health")
    return "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + "\n".join(tasks) + "\n"


def _bytecode_cache(work: Path, url: str) -> None:
    _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    _ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    warm = work / "warm-up"
    warm.mkdir()
    (warm / "releasegate.yaml").write_text(_config(url))
    _timed([RELEASEGATE, "--as", "bench", "deploy", "bench", "0.0.0", "--yes"], warm)
    print(f"bytecode cache: {_ENV['PYTHONPYCACHEPREFIX']} (filled by a warm-up deploy)")


def _timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=_ENV)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def _deploy(cwd: Path, version: str) -> float:
    return _timed([RELEASEGATE, "--as", "bench", "deploy", "bench", version, "--yes"], cwd)


HEAVY = ("alembic", "fastapi", "holidays", "detect_secrets", "jinja2", "apprise", "psycopg")
"""Packages a deploy of this plan has no use for (no migration, web, calendar, scan...)."""


def _heavy_imports(cwd: Path) -> str:
    argv = [sys.executable, "-X", "importtime", RELEASEGATE, "--as", "bench", "deploy", "bench", "9.9.9", "--yes"]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=_ENV, check=True)
    found = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return ", ".join(sorted(found.intersection(HEAVY))) or "none of " + ", ".join(HEAVY)


def orchestration(work: Path, url: str) -> None:
    full, empty = work / "steps-70", work / "steps-0"
    for folder, config in ((full, _config(url)), (empty, _empty_config(url))):
        folder.mkdir()
        (folder / "releasegate.yaml").write_text(config)
        _deploy(folder, "0.0.0")  # warm-up: a migrated store, the files in the page cache
    times: list[float] = []
    bare: list[float] = []
    for i in range(OUR_RUNS):
        bare.append(_deploy(empty, f"1.0.{i}"))
        times.append(_deploy(full, f"1.0.{i}"))
    ours, nothing = statistics.median(times), statistics.median(bare)
    # each pair ran back to back: their difference cancels most of the machine's drift
    per_step = statistics.median(full - empty for full, empty in zip(times, bare, strict=True)) / 70
    print(f"orchestration.releasegate_70_steps: {ours * 1000:.0f} ms (median of {OUR_RUNS})")
    print(f"orchestration.releasegate_per_step: {ours / 70 * 1000:.2f} ms (whole run / 70)")
    print(f"orchestration.releasegate_empty_plan: {nothing * 1000:.0f} ms (median of {OUR_RUNS})")
    print(
        f"orchestration.releasegate_overhead_per_step: {per_step * 1000:.2f} ms "
        f"((70 steps - empty plan) / 70, median of {OUR_RUNS} back-to-back pairs)"
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"deploy.peak_rss: {peak_kb / 1024:.0f} MB (max RSS of the deploy processes)")
    print(f"deploy.heavy_imports: {_heavy_imports(full)}")
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


SECTIONS = ("orchestration", "parallel", "biglog")


def main() -> None:
    chosen = sys.argv[1:] or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section {unknown[0]!r} (choose from {', '.join(SECTIONS)})")
    server, url = _server()
    with tempfile.TemporaryDirectory(prefix="rg-bench-") as tmp:
        work = Path(tmp)
        _bytecode_cache(work, url)
        if "orchestration" in chosen:
            orchestration(work, url)
        if "parallel" in chosen:
            parallel_gates(work)
        if "biglog" in chosen:
            big_log(work)
    server.shutdown()


if __name__ == "__main__":
    main()
