"""The ``command`` step and the process runner against real subprocesses."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from releasegate.drivers.checks.command import CommandStep
from releasegate.drivers.process import CappedBuffer, run_process
from releasegate.testing import StaticSecrets, run_driver


def test_passing_command_records_exit_code_and_output(tmp_path: Path) -> None:
    result = run_driver(CommandStep(), {"run": ["sh", "-c", "echo hello; echo oops >&2"]}, workdir=tmp_path)
    assert result.ok
    assert result.summary == "sh -c echo hello; echo oops >&2: exited 0"
    assert "hello" in result.output
    assert "oops" in result.output
    assert result.evidence["exit_code"] == 0


def test_failing_command_fails_with_status(tmp_path: Path) -> None:
    result = run_driver(CommandStep(), {"run": ["sh", "-c", "exit 3"]}, workdir=tmp_path)
    assert not result.ok
    assert result.summary.endswith("exited with status 3")


def test_success_codes_are_configurable(tmp_path: Path) -> None:
    result = run_driver(
        CommandStep(), {"run": ["sh", "-c", "exit 3"], "success_codes": [0, 3]}, workdir=tmp_path
    )
    assert result.ok


def test_missing_command_is_a_clear_failure(tmp_path: Path) -> None:
    result = run_driver(CommandStep(), {"run": ["no-such-program-xyz", "--flag"]}, workdir=tmp_path)
    assert not result.ok
    assert result.summary == "no-such-program-xyz --flag: command not found: no-such-program-xyz"


def test_missing_cwd_is_a_clear_failure(tmp_path: Path) -> None:
    result = run_driver(CommandStep(), {"run": ["true"], "cwd": "nowhere"}, workdir=tmp_path)
    assert not result.ok
    assert f"working directory {tmp_path / 'nowhere'} does not exist" in result.summary


def test_killed_by_signal_is_named(tmp_path: Path) -> None:
    result = run_driver(CommandStep(), {"run": ["sh", "-c", "kill -KILL $$"]}, workdir=tmp_path)
    assert not result.ok
    assert result.summary.endswith("killed by SIGKILL")


def test_env_cwd_and_context_env_reach_the_command(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    result = run_driver(
        CommandStep(),
        {"run": ["sh", "-c", 'echo "$GREETING $RELEASEGATE_VERSION $(pwd)"'], "env": {"GREETING": "hi"}, "cwd": "sub"},
        workdir=tmp_path,
        env={"RELEASEGATE_VERSION": "2.0.0"},
    )
    assert result.ok
    assert f"hi 2.0.0 {tmp_path / 'sub'}" in result.output


def test_each_command_sees_our_environment_as_it_is_then_and_the_step_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = {"run": ["sh", "-c", 'echo "[$OURS] [$SHARED] [$RELEASEGATE_VERSION]"'], "env": {"SHARED": "step"}}
    monkeypatch.setenv("OURS", "first")
    monkeypatch.setenv("SHARED", "ours")
    first = run_driver(CommandStep(), script, workdir=tmp_path, env={"RELEASEGATE_VERSION": "1.0"})
    monkeypatch.setenv("OURS", "second")
    monkeypatch.setenv("RELEASEGATE_VERSION", "ours")
    second = run_driver(CommandStep(), script, workdir=tmp_path, env={"RELEASEGATE_VERSION": "1.0"})
    assert "[first] [step] [1.0]" in first.output
    assert "[second] [step] [1.0]" in second.output


def test_secrets_in_env_are_resolved_and_redacted(tmp_path: Path) -> None:
    result = run_driver(
        CommandStep(),
        {"run": ["sh", "-c", 'echo "token=$TOKEN"'], "env": {"TOKEN": "${env:API_TOKEN}"}},
        workdir=tmp_path,
        secrets=StaticSecrets({"API_TOKEN": "s3cr3t-value"}),
    )
    assert result.ok
    assert "token=***" in result.output
    assert "s3cr3t-value" not in result.output


def test_unresolvable_secret_fails_the_step(tmp_path: Path) -> None:
    result = run_driver(
        CommandStep(), {"run": ["true"], "env": {"TOKEN": "${env:MISSING}"}}, workdir=tmp_path
    )
    assert not result.ok
    assert result.summary == "env.TOKEN: secret ${env:MISSING} is not set"


def test_shell_string_runs_only_with_shell_true(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="run is a string: write it as a list"):
        run_driver(CommandStep(), {"run": "echo hi"}, workdir=tmp_path)
    with pytest.raises(ValidationError, match="shell: true needs a single command string"):
        run_driver(CommandStep(), {"run": ["echo", "hi"], "shell": True}, workdir=tmp_path)
    result = run_driver(CommandStep(), {"run": "echo a && echo b", "shell": True}, workdir=tmp_path)
    assert result.ok
    assert result.output.split() == ["a", "b"]


def test_megabytes_of_output_are_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    script = "import sys\nsys.stdout.write('START\\n' + 'x' * 5_000_000 + '\\nEND\\n')"
    result = run_driver(CommandStep(), {"run": [sys.executable, "-c", script]}, workdir=tmp_path)
    assert result.ok
    assert len(result.output) < 70 * 1024
    assert result.output.startswith("START")
    assert result.output.rstrip().endswith("END")
    assert "bytes of output dropped" in result.output
    assert result.evidence["output_dropped_bytes"] == 5_000_011 - 64 * 1024


def test_capped_buffer_keeps_everything_under_the_limit() -> None:
    buffer = CappedBuffer(10)
    buffer.write(b"abc")
    buffer.write(b"de")
    assert buffer.text() == "abcde"
    buffer.write(b"fghijkl")
    assert buffer.dropped == 2
    assert buffer.text() == "abcde\n[... 2 bytes of output dropped ...]\nhijkl"


def test_cancellation_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The shell starts a grandchild that would outlive a kill of the shell alone.
    script = f"sleep 60 & echo $! > {pidfile}; wait"

    async def scenario() -> None:
        task = asyncio.create_task(
            run_process(["sh", "-c", script], cwd=tmp_path, grace=1.0)
        )
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            await asyncio.sleep(0.02)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 3

    asyncio.run(scenario())
    child = int(pidfile.read_text())
    for _ in range(50):
        if not _alive(child):
            return
        time.sleep(0.02)
    pytest.fail("the grandchild survived the cancellation")


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaps counts as dead: PID 1 here may not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_ignoring_command_is_killed_after_the_grace(tmp_path: Path) -> None:
    async def scenario() -> float:
        task = asyncio.create_task(
            run_process(["sh", "-c", "trap '' TERM; sleep 30"], cwd=tmp_path, grace=0.3)
        )
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 2


def test_background_daemon_does_not_hold_the_step(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_driver(CommandStep(), {"run": ["sh", "-c", "sleep 5 & echo started"]}, workdir=tmp_path)
    assert result.ok
    assert "started" in result.output
    assert time.monotonic() - started < 2
