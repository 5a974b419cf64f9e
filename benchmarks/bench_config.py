"""Benchmarks of the config loader and ``releasegate --help``.

Run: ``.venv/bin/python benchmarks/bench_config.py``. Prints ``name: value unit`` lines.
Targets: ``releasegate --help`` < 300 ms; loading a config of 2,000 steps < 1 s.
``validate`` of the example's own config, and every other command's start-up, is measured
in CPU time by ``bench_startup.py``.
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

        print(f"cli_help: {median_seconds(lambda: _cli('--help'), 10) * 1000:.0f} ms")
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
