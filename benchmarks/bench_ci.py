"""CI integration benchmarks (issue 14, items 4-6), CPU time of this process
(``resource.getrusage``) against a floor measured in the same run:

* reports: ``ci_report`` + JUnit XML + the job summary's markdown + annotations for a
  deployment of 60 gates, against ``show`` of the same deployment (what ``releasegate show``
  costs anyway);
* the GitHub Deployments mirror: a deploy of 10 steps to an environment with ``github:``
  against the same deploy to one without, interleaved;
* ``github-review`` on a large pull request (250 reviews, 300 review threads, 120 check
  runs, 20 statuses: every list paginated) against a pull request of one review.

The fake GitHub (tests/integrations/github_server.py) runs in a child process, so its CPU
is not counted. ``python benchmarks/bench_ci.py``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

SERVER = """
import sys, time
from tests.integrations.github_server import GitHubState, github, HEAD_SHA, MERGE_SHA
state = GitHubState.recorded()
if sys.argv[1] == "large":
    state.reviews[42] = [{"id": i, "user": {"login": f"r{i % 40}"}, "state": "APPROVED" if i % 3 else "COMMENTED",
                          "submitted_at": f"2026-11-28T{i // 60 % 24:02d}:{i % 60:02d}:00Z"} for i in range(250)]
    state.threads[42] = [{"isResolved": True, "path": f"f{i}.py", "line": i, "comments": {"nodes": []}}
                         for i in range(300)]
    state.check_runs[HEAD_SHA] = [{"id": i, "name": f"job-{i}", "status": "completed", "conclusion": "success"}
                                  for i in range(120)]
    state.statuses[HEAD_SHA] = [{"context": f"ctx-{i}", "state": "success"} for i in range(20)]
else:
    state.reviews[42] = state.reviews[42][3:4]
    state.threads[42] = []
    state.check_runs[HEAD_SHA] = state.check_runs[HEAD_SHA][:1]
    state.statuses[HEAD_SHA] = []
with github(state) as gh:
    print(gh.url, flush=True)
    sys.stdin.read()
    print(len(gh.log), file=sys.stderr)
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median CPU seconds and wall seconds of ``fn``."""
    cpus, walls = [], []
    for _ in range(runs):
        c, w = cpu(), time.perf_counter()
        fn()
        cpus.append(cpu() - c)
        walls.append(time.perf_counter() - w)
    return statistics.median(cpus), statistics.median(walls)


def fake_github(kind: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, kind], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"})
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stop(proc: subprocess.Popen[str]) -> int:
    _, err = proc.communicate("", timeout=30)
    return int(err.strip().splitlines()[-1])


def bench_reports(tmp: Path) -> None:
    from releasegate.cli.show_view import to_markdown
    from releasegate.integrations import junit, workflow
    from releasegate.service import deployments
    from releasegate.service.ci import ci_report
    from releasegate.service.show import show
    from releasegate.service.workspace import Workspace

    gates = "".join(f"      - {{id: g{i}, uses: command, with: {{run: [\"true\"]}}}}\n" for i in range(59))
    gates += "      - {id: last, uses: command, with: {run: [sh, -c, \"echo nope; exit 1\"]}}\n"
    (tmp / "releasegate.yaml").write_text(
        "project: b\nenvironments:\n  staging:\n    concurrency: 8\n"
        "    target: {uses: command, with: {deploy: [\"true\"], rollback: [\"true\"]}}\n"
        f"    gates:\n{gates}    deploy:\n      - {{id: release, uses: target}}\n")
    ws = Workspace(tmp / "releasegate.yaml")
    actor = ws.actor(requested="b", env_user=None)
    dep = deployments.deploy(ws, actor, "staging", "1.0.0")
    assert dep.deployment_id is not None

    def reports() -> None:
        report = ci_report(ws, actor, dep.deployment_id or 0, relative_to=tmp)
        junit.render(report.cases, environment="staging", name="b")
        to_markdown(report.report)
        workflow.error_annotations(report.cases, environment="staging")

    floor, _ = measure(lambda: show(ws, actor, dep.deployment_id or 0), 15)
    ours, _ = measure(reports, 15)
    print(f"reports_60_gates_cpu: {ours * 1000:.1f} ms (show alone: {floor * 1000:.1f} ms, ratio {ours / floor:.2f})")
    ws.close()


def bench_mirror(tmp: Path) -> None:
    from tests.integrations.github_server import TOKEN

    from releasegate.service import deployments
    from releasegate.service.workspace import Workspace

    proc, url = fake_github("small")
    os.environ["RG_BENCH_TOKEN"] = TOKEN
    steps = "".join(f"      - {{id: s{i}, uses: command, with: {{run: [\"true\"]}}}}\n" for i in range(9))
    env = ("    target: {{uses: command, with: {{deploy: [\"true\"], rollback: [\"true\"]}}}}\n"
           "    deploy:\n      - {{id: release, uses: target}}\n" + steps.replace("{", "{{").replace("}", "}}"))
    (tmp / "releasegate.yaml").write_text(
        "project: b\nenvironments:\n"
        f"  plain:\n{env.format()}"
        f"  mirrored:\n    github: {{repository: octo-org/shop, token: \"${{env:RG_BENCH_TOKEN}}\", "
        f"api_url: \"{url}\"}}\n{env.format()}")
    ws = Workspace(tmp / "releasegate.yaml")
    actor = ws.actor(requested="b", env_user=None)
    counter = iter(range(1000))
    plain: list[tuple[float, float]] = []
    mirrored: list[tuple[float, float]] = []
    for _ in range(7):
        plain.append(measure(lambda: deployments.deploy(ws, actor, "plain", f"1.{next(counter)}"), 1))
        mirrored.append(measure(lambda: deployments.deploy(ws, actor, "mirrored", f"1.{next(counter)}"), 1))
    ws.close()
    requests = stop(proc)
    p_cpu = statistics.median(c for c, _ in plain)
    m_cpu = statistics.median(c for c, _ in mirrored)
    p_wall = statistics.median(w for _, w in plain)
    m_wall = statistics.median(w for _, w in mirrored)
    print(f"deploy_10_steps_cpu: {p_cpu * 1000:.0f} ms plain, {m_cpu * 1000:.0f} ms mirrored "
          f"(ratio {m_cpu / p_cpu:.2f}); wall {p_wall * 1000:.0f} ms vs {m_wall * 1000:.0f} ms "
          f"(ratio {m_wall / p_wall:.2f}); {requests} GitHub requests for 7 deployments")


def bench_review() -> None:
    from tests.integrations.github_server import MERGE_SHA, REPO, TOKEN

    from releasegate.drivers.api import Release
    from releasegate.drivers.checks.github_review import GitHubReview
    from releasegate.testing import StaticSecrets, run_driver

    results = {}
    for kind in ("small", "large"):
        proc, url = fake_github(kind)

        def once(url: str = url) -> None:
            done = run_driver(GitHubReview(), {"api_url": url, "repository": REPO, "approvals": 1},
                              release=Release("p", "1", commit=MERGE_SHA),
                              secrets=StaticSecrets({"GITHUB_TOKEN": TOKEN}))
            assert done.ok, done.summary

        results[kind] = (*measure(once, 9), stop(proc) / 9)
    (s_cpu, s_wall, s_req), (l_cpu, l_wall, l_req) = results["small"], results["large"]
    print(f"github_review_cpu: {l_cpu * 1000:.0f} ms large PR ({l_req:.0f} requests), "
          f"{s_cpu * 1000:.0f} ms one-review PR ({s_req:.0f} requests), ratio {l_cpu / s_cpu:.2f}; "
          f"wall {l_wall * 1000:.0f} ms vs {s_wall * 1000:.0f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "r").mkdir()
        (Path(scratch) / "m").mkdir()
        bench_reports(Path(scratch) / "r")
        bench_mirror(Path(scratch) / "m")
    bench_review()


if __name__ == "__main__":
    main()
