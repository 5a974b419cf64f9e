"""Any command-line argument ends in a documented exit code with one clear error — never
an internal error (70), a traceback or a hang. Hypothesis drives the real CLI in process
against a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.cli.main import run

CONFIG = """\
project: fuzz
users: {ana: {roles: [qa, devops, admin]}}
environments:
  staging: {}
  production:
    promote_from: staging
    approvals: {roles: [qa]}
"""
DOCUMENTED = {0, 1, 2, 3, 4, 5, 130}

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)
ids = st.one_of(st.integers(min_value=-(10**40), max_value=10**40).map(str), text)
times = st.one_of(text, st.datetimes().map(lambda d: d.isoformat()))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "releasegate.yaml").write_text(CONFIG)
    return root


def _exit_code(workspace: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    config = str(workspace / "releasegate.yaml")
    try:
        run(["-c", config, "--as", "ana", *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    else:  # run() always exits
        code = 0
    out, err = capsys.readouterr()
    assert "internal error" not in err, (argv, err)
    assert "Traceback" not in out + err, (argv, err)
    return code


COMMANDS = st.one_of(
    st.tuples(st.just("deploy"), text, text).map(lambda t: [t[0], t[1], t[2], "--yes"]),
    st.tuples(st.just("plan"), text, text).map(list),
    st.tuples(st.just("show"), ids).map(list),
    st.tuples(st.just("confirm"), ids, text).map(list),
    st.tuples(st.just("approve"), text, text, text).map(lambda t: [t[0], t[1], t[2], "--role", t[3]]),
    st.tuples(st.just("policy"), text, times).map(lambda t: [t[0], "explain", t[1], "--at", t[2]]),
    st.tuples(times, times, text).map(
        lambda t: ["freeze", "add", "--env", "production", "--from", t[0], "--to", t[1], "--reason", t[2]]
    ),
    st.tuples(st.just("rollback"), text, text).map(lambda t: [t[0], t[1], "--to", t[2]]),
    st.tuples(ids).map(lambda t: ["incident", "close", t[0]]),
    st.tuples(text, text).map(lambda t: ["campaign", "add", t[0], "--at", t[1]]),
    st.tuples(text).map(lambda t: ["history", t[0]]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=COMMANDS)
def test_any_argument_ends_in_a_documented_exit(
    workspace: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(workspace, argv, capsys) in DOCUMENTED, argv
