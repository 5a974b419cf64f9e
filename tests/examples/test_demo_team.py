"""The demo's team thread: it signs what a deployment waits for, so it must outlive a
failed look at the store (the story's deploy would wait for it until the demo timed out)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from releasegate.demo.team import Team
from releasegate.service import records

CONFIG = """\
project: t
users:
  ana: {roles: [qa]}
environments:
  staging:
    target:
      uses: command
      with:
        deploy: [sh, -c, "echo {version} > live.txt"]
        current: [cat, live.txt]
    deploy:
      - {id: release, uses: target}
"""


def test_the_team_loads_the_orm_before_its_thread_starts(tmp_path: Path) -> None:
    # a first ORM import in the team's thread while the story bound a parameter raced
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    code = ("import sys; from pathlib import Path; from releasegate.demo.team import Team\n"
            "t = Team(Path('releasegate.yaml')); t.__enter__()\n"
            "print('sqlalchemy.orm' in sys.modules); t.__exit__()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1:] == ["True"], done.stderr


def test_the_team_keeps_looking_after_a_failed_look_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    looks = 0
    looked_again = threading.Event()

    def history(*args: object, **kwargs: object) -> list[object]:
        nonlocal looks
        looks += 1
        if looks <= 3:
            raise RuntimeError("database is locked")
        looked_again.set()
        return []

    monkeypatch.setattr(records, "history", history)
    with Team(tmp_path / "releasegate.yaml") as team:
        assert looked_again.wait(timeout=60), "the team stopped looking after a failure"
        assert team._thread.is_alive()
    err = capsys.readouterr().err
    assert err.count("demo team: RuntimeError: database is locked; trying again") == 1, err
