"""Runs every ``benchmarks/bench_*.py`` and prints their ``name: value unit`` lines.

``make bench`` calls this; ``python benchmarks/run.py engine`` runs only bench_engine.py.
Figures go into benchmarks/RESULTS.md by hand, with the command that produced them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failures = 0
    for bench in sorted(HERE.glob("bench_*.py")):
        name = bench.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"== {bench.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(bench)], cwd=HERE.parent)
        print(f"({bench.name}: exit {code}, {time.perf_counter() - start:.1f}s)", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
