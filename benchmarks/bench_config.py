"""Benchmarks of the config loader and the command line's start-up.

Run: ``.venv/bin/python benchmarks/bench_config.py``. Prints ``name: value unit`` lines.
Targets: ``releasegate --help`` and ``releasegate validate`` < 300 ms; loading a config
of 2,000 steps < 1 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from releasegate.config.loader import load_config
from releasegate.drivers.api import Options, Registry, StepContext, StepResult

RELEASEGATE = str(Path(sys.executable).parent / "releasegate")
HEAVY = ("ruamel", "sqlalchemy", "fastapi", "alembic", "holidays")

REALISTIC = """\
# yaml-language-server: $schema=./releasegate.schema.json
project: ca-marketplace
calendars:
  india: {holidays: {country: IN, categories: [public, optional]}}
  peaks: {month_end: {last_days: 2}, quarter_end: {last_days: 5}}
environments:
  staging:
    url: http://127.0.0.1:8000
    window: {days: [mon-fri], hours: "09:00-18:00", tz: Asia/Kolkata}
    deploy:
      - {id: release, uses: target}
  production:
    promote_from: staging
    soak: {normal: 2h, major: 24h}
    approvals: {roles: [qa, product-owner, tech-lead], distinct_people: true, self_approval: false}
    window: {days: [tue, wed, thu], hours: "10:00-14:00", tz: UTC}
    freezes: [india, peaks, incidents, campaigns]
    deploy:
      - {id: release, uses: target, if: "kind != 'hotfix' or emergency"}
    verify:
      - {stage: immediate,  for: 5m,  check: {error_rate: "< 1%"}}
      - {stage: short-term, for: 25m, check: {error_rate: "< 1%", p95: "< 500ms"}}
    rollback: {when: {error_rate: "> 5%", p95: "> 2x baseline"}}
confirmations:
  - {id: prod.team-assembled, text: "Team assembled", by: [devops]}
notify:
  - {url: "${env:SLACK_URL}", on: [deployment.started, rollback.*]}
"""


class _CommandOptions(Options):
    run: list[str]
    shell: bool = False


class _Command:
    name: ClassVar[str] = "command"
    Options: ClassVar[type[Options]] = _CommandOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: Options, ctx: StepContext) -> StepResult:
        return StepResult(ok=True, summary="")


def big_config(environments: int = 4, steps: int = 500) -> str:
    """A config of ``environments × steps`` command steps, each needing the one before."""
    lines = ["project: big", "environments:"]
    for e in range(environments):
        lines += [
            f"  env{e}:",
            "    window: {days: [mon-fri], hours: '09:00-18:00', tz: UTC}",
            "    gates:",
        ]
        for i in range(steps):
            lines += [
                f"      - id: step-{i}",
                "        uses: command",
                f"        with: {{run: [make, check-{i}]}}",
                "        timeout: 5m",
                "        on_failure: stop",
            ]
            if i:
                lines.append(f"        needs: [step-{i - 1}]")
    return "\n".join(lines) + "\n"


def median_seconds(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cli(*args: str) -> None:
    subprocess.run([RELEASEGATE, *args], capture_output=True, check=False, timeout=60)


def main() -> None:
    registry = Registry()
    registry.register("step", _Command)
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.yaml"
        big.write_text(big_config(), encoding="utf-8")
        config = load_config(big, catalog=registry)
        count = sum(len(env.gates) for env in config.environments.values())
        load_s = median_seconds(lambda: load_config(big, catalog=registry), 5)
        print(f"load_config_{count}_steps: {load_s * 1000:.0f} ms")

        realistic = Path(folder) / "releasegate.yaml"
        realistic.write_text(REALISTIC, encoding="utf-8")
        code = subprocess.run(
            [RELEASEGATE, "-c", str(realistic), "validate"],
            capture_output=True,
            check=False,
            timeout=60,
        ).returncode
        print(f"validate_exit_code: {code} code")
        print(f"cli_help: {median_seconds(lambda: _cli('--help'), 10) * 1000:.0f} ms")
        print(
            f"cli_validate: {median_seconds(lambda: _cli('-c', str(realistic), 'validate'), 10) * 1000:.0f} ms"
        )
        print(
            f"python_startup: {median_seconds(lambda: subprocess.run([sys.executable, '-c', 'pass'], check=False), 10) * 1000:.0f} ms"
        )

    probe = (
        "import sys\n"
        "from releasegate.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sum(1 for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    heavy = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    print(f"cli_help_heavy_imports: {heavy.stderr.strip()} modules")


if __name__ == "__main__":
    main()
