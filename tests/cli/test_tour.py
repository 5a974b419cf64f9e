"""README.md's "5-minute tour", run as written: every command, with the exit code the
README gives it (0 unless its comment says ``exit N``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
WORKSPACE = "/tmp/tour"  # the README's directory; the test puts it under tmp_path
EXIT = re.compile(r"#.*\bexit (\d+)")
CONFIRM = re.compile(r"\bconfirm (\d+) ")

pytestmark = pytest.mark.slow


def tour_lines() -> list[str]:
    """The commands of the tour's bash block, in order (comment-only lines left out)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A 5-minute tour"):]
    block = section[section.index("```bash\n") + 8:section.index("\n```", section.index("```bash"))]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def script(lines: list[str], workspace: Path) -> str:
    """The tour as one bash script that stops at the first exit code the README does not
    give. Before a ``confirm N``, it waits for deployment N to exist, as a person typing
    in a second terminal would; the virtualenv is already this Python's."""
    out = ["set -u"]
    for number, line in enumerate(lines, start=1):
        if line.startswith(". .venv/bin/activate"):
            continue
        line = line.replace(WORKSPACE, shlex.quote(str(workspace)))
        confirm = CONFIRM.search(line)
        if confirm:
            out.append(f"until releasegate --json show {confirm.group(1)} >/dev/null 2>&1; "
                       "do sleep 0.1; done")
        out.append(line)
        if line.split("#")[0].rstrip().endswith("&"):
            continue
        found = EXIT.search(line)
        expected = int(found.group(1)) if found else 0
        out.append(f'rc=$?; if [ $rc -ne {expected} ]; then echo "tour command {number}: exit $rc, '
                   f'the README says {expected}" >&2; exit 1; fi')
    return "\n".join(out) + "\n"


def test_the_tour_block_is_found() -> None:
    lines = tour_lines()
    assert lines[1].startswith("releasegate init --example camarketplace /tmp/tour")
    assert any(EXIT.search(line) for line in lines)


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    workspace = tmp_path / "tour"
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    try:
        done = subprocess.run(["bash", "-c", script(tour_lines(), workspace)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=900)
    finally:  # whatever happened, leave no process behind
        if (workspace / "tour.py").exists():
            for argv in ([*_rg(), "--as", "dave", "target", "stop", "staging"],
                         [sys.executable, "tour.py", "stop"]):
                subprocess.run(argv, cwd=workspace, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "deployment 2: succeeded" in done.stdout
    assert '{"error": {"kind": "blocked"' in done.stdout
    assert "audit: " in done.stdout
    assert "chain intact" in done.stdout
    record = (workspace / "release-2.md").read_text(encoding="utf-8")
    assert record.startswith("# Deployment 2: 1.2.0 to staging — succeeded")


def _rg() -> list[str]:
    return [sys.executable, "-m", "releasegate"]
