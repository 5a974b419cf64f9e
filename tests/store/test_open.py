"""Opening a store: URLs, directories, and errors a person can act on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from releasegate.errors import StoreError
from releasegate.store.api import open_store
from releasegate.store.connection import parse_url, redact


def test_sqlite_creates_the_state_directory_with_wal(tmp_path: Path) -> None:
    db = tmp_path / "project" / ".releasegate" / "state.db"
    with open_store(f"sqlite:///{db}") as store:
        store.append_event("x.y", {})
        assert store.dialect == "sqlite"
    assert db.exists()
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_bare_path_means_sqlite(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db")) as store:
        assert store.dialect == "sqlite"


def test_plain_postgresql_urls_use_psycopg(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert parse_url(plain).drivername == "postgresql+psycopg"
    with open_store(plain) as store:
        assert store.dialect == "postgresql"
        assert store.append_event("x.y", {}).id == 1


def test_passwords_are_redacted() -> None:
    assert redact("postgresql://ci:s3cret@db:5432/x") == "postgresql://ci:***@db:5432/x"
    assert redact("postgresql://ci@db/x") == "postgresql://ci@db/x"


def test_a_port_that_does_not_answer_fails_quickly_and_redacted() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://ci:s3cret@127.0.0.1:5999/x")
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "cannot connect to the store at postgresql://ci:***@127.0.0.1:5999/x: connection refused"
    )


def test_a_missing_postgresql_database_is_named(pg_server: str) -> None:
    with pytest.raises(
        StoreError,
        match=(
            r"cannot connect to the store at postgresql://postgres@127.0.0.1:5432/rg_nope_x: "
            r'.*database "rg_nope_x" does not exist'
        ),
    ):
        open_store("postgresql://postgres@127.0.0.1:5432/rg_nope_x")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "state.db"
    bad.write_bytes(b"this is not sqlite, just some bytes " * 200)
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{bad}")
    assert str(caught.value) == f"cannot open the store at sqlite:///{bad}: file is not a database"


def test_a_state_directory_blocked_by_a_file(tmp_path: Path) -> None:
    (tmp_path / "project").write_text("a file, not a directory")
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{tmp_path / 'project' / '.releasegate' / 'state.db'}")
    assert str(caught.value) == (
        f"cannot create the state directory {tmp_path / 'project' / '.releasegate'}: "
        "Not a directory"
    )


def test_an_unwritable_directory_is_named(tmp_path: Path) -> None:
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    url = f"sqlite:///{readonly / '.releasegate' / 'state.db'}"
    code = (
        "import sys\nfrom releasegate.store.api import open_store\n"
        "from releasegate.errors import StoreError\n"
        "try:\n    open_store(sys.argv[1])\nexcept StoreError as exc:\n    print(exc)\n"
    )
    command = [sys.executable, "-c", code, url]
    if os.geteuid() == 0:
        # root ignores file modes; drop the capability that lets it (the test runs as root in CI)
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a directory unwritable")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.stdout.strip() == (
        f"cannot create the state directory {readonly / '.releasegate'}: Permission denied"
    ), done.stderr


def test_an_unknown_url_scheme(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported store URL mysql://u:\\*\\*\\*@h/x"):
        open_store("mysql://u:pw@h/x")


def test_a_database_from_a_newer_releasegate(sqlite_url: str) -> None:
    open_store(sqlite_url).close()
    import sqlite3

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(
        StoreError,
        match=(
            r"the store at sqlite:///.* has a schema this releasegate does not know .*'9999'.*; "
            r"was it written by a newer version\?"
        ),
    ):
        open_store(sqlite_url)
