"""``releasegate --db URL audit verify``: exit 0 on an intact chain, 1 naming the damage."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from releasegate.cli.main import run
from releasegate.store.api import Store, open_store

if TYPE_CHECKING:
    from tests.store.conftest import RawSql


def _audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        run([*args, "audit", "verify"])
    code = exited.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().out


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        store.append_event("note.added", {"n": i})


def test_an_intact_chain_exits_0(
    store: Store, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _audit(capsys, "--db", store_url) == (0, "audit: 0 events, chain intact\n")
    _fill(store, 1)
    assert _audit(capsys, "--db", store_url) == (0, "audit: 1 event, chain intact\n")


def test_counts_are_written_with_thousands_separators(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(sqlite_url) as store:
        _fill(store, 1001)
    assert _audit(capsys, "--db", sqlite_url) == (0, "audit: 1,001 events, chain intact\n")


def test_a_broken_chain_exits_1_naming_each_problem(
    store: Store, store_url: str, raw_sql: RawSql, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(store, 6)
    raw_sql(store_url, "UPDATE events SET type = 'forged' WHERE id = 2")
    raw_sql(store_url, "DELETE FROM events WHERE id = 4")
    assert _audit(capsys, "--db", store_url) == (
        1,
        (
            "event 2 was edited (hash mismatch)\n"
            "event 4 is missing (chain broken between 3 and 5)\n"
            "audit: chain BROKEN\n"
        ),
    )
    code, out = _audit(capsys, "--json", "--db", store_url)
    assert code == 1
    assert json.loads(out) == {
        "ok": False,
        "checked": 5,
        "problems": [
            "event 2 was edited (hash mismatch)",
            "event 4 is missing (chain broken between 3 and 5)",
        ],
        "anchors": 0,
        "signatures": 0,
    }


def test_the_installed_command_in_a_subprocess(sqlite_url: str) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "releasegate", "--json", "--db", sqlite_url, "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (ok.returncode, json.loads(ok.stdout)) == (
        0, {"ok": True, "checked": 0, "problems": [], "anchors": 0, "signatures": 0}
    )
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasegate",
            "--db",
            "postgresql://u:pw@127.0.0.1:5999/x",
            "audit",
            "verify",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: cannot connect to the store at postgresql://u:***@127.0.0.1:5999/x: "
        "connection refused"
    )
