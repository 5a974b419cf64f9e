"""``stdout_is_terminal`` decides as Rich's ``Console().is_terminal`` does."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from releasegate.cli.terminal import stdout_is_terminal


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [True, False])
@pytest.mark.parametrize(
    "env",
    [{}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""}, {"TTY_COMPATIBLE": "1"},
     {"TTY_COMPATIBLE": "0"}, {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
     {"TTY_COMPATIBLE": "1", "FORCE_COLOR": ""}, {"TTY_COMPATIBLE": "x"}],
)
def test_it_agrees_with_rich(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", _Tty() if tty else io.StringIO())
    assert stdout_is_terminal() == Console().is_terminal
