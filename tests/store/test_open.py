"""Opening a store: URLs, directories, and errors a person can act on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from releasegate.errors import StoreError
from releasegate.store.api import open_store
from releasegate.store.connection import parse_url, redact
from releasegate.store.migrate import HEAD

if TYPE_CHECKING:
    from tests.store.conftest import RawSql


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


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql:/127.0.0.1/test",
            "postgresql:/127.0.0.1/test is not a store URL: 'postgresql:' must be followed by "
            "// (write sqlite:///PATH or postgresql://USER@HOST/DB)",
        ),
        (
            "garbage",
            "'garbage' is not a store URL (write sqlite:///PATH or postgresql://USER@HOST/DB)",
        ),
        (
            "sqlite://relative.db",
            "sqlite://relative.db is not a store URL: a SQLite URL has no host; write "
            "sqlite:///relative.db (relative to the working directory) or sqlite:////ABSOLUTE/PATH",
        ),
        ("sqlite:///", "sqlite:/// names no SQLite file (write sqlite:///PATH or postgresql://USER@HOST/DB)"),
        (
            "postgresql://ci:s3cret@127.0.0.1:port/x",
            "postgresql://ci:***@127.0.0.1:port/x is not a store URL (invalid literal for int() "
            "with base 10: 'port'; write sqlite:///PATH or postgresql://USER@HOST/DB)",
        ),
        (
            "postgresql://ci:s3cret@127.0.0.1",
            "postgresql://ci:***@127.0.0.1 names no database (write sqlite:///PATH or "
            "postgresql://USER@HOST/DB)",
        ),
        ("mysql://u:pw@h/x", "unsupported store URL mysql://u:***@h/x: use sqlite:/// or postgresql://"),
        (
            "postgresql+asyncpg://u@h/x",
            "unsupported store URL postgresql+asyncpg://u@h/x: use sqlite:/// or postgresql://",
        ),
    ],
)
def test_malformed_urls_are_refused_and_nothing_is_created(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_relative_sqlite_paths_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_url("sqlite:///state/../x.db").database == str(tmp_path / "x.db")
    assert parse_url("data/state.db").database == str(tmp_path / "data" / "state.db")
    assert parse_url("sqlite://").database is None  # in memory, asked for explicitly


def test_the_sqlite_store_is_private(tmp_path: Path) -> None:
    db = tmp_path / "project" / ".releasegate" / "state.db"
    with open_store(f"sqlite:///{db}") as store:
        store.append_event("x.y", {})
        modes = {
            p.name: p.stat().st_mode & 0o777 for p in db.parent.iterdir() if p.name.startswith("state")
        }
        assert modes == {"state.db": 0o600, "state.db-wal": 0o600, "state.db-shm": 0o600}
    assert db.parent.stat().st_mode & 0o777 == 0o700


def test_read_only_on_a_missing_file_reads_empty_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / '.releasegate' / 'state.db'}"
    with open_store(url, write=False) as store:
        assert store.list_deployments() == []
        assert store.verify_chain().ok
        assert store.chain_head().event_id == 0
        with pytest.raises(StoreError, match="the store was opened read-only"):
            store.append_event("x.y", {})
    assert list(tmp_path.iterdir()) == []


def test_read_only_reads_and_refuses_writes(store_url: str) -> None:
    with open_store(store_url) as store:
        d = store.create_deployment(
            environment="staging", version="1", kind="normal", user="a", plan={}
        )
    with open_store(store_url, write=False) as store:
        assert store.get_deployment(d.id) == d
        with pytest.raises(
            StoreError, match=r"cannot write to the store at .*: the store was opened read-only"
        ):
            store.set_deployment_status(d.id, "running")
        assert store.verify_chain().ok


def test_read_only_never_migrates(store_url: str, raw_sql: RawSql) -> None:
    from releasegate.store.api import upgrade

    upgrade(store_url, "0001")
    with pytest.raises(StoreError) as caught:
        open_store(store_url, write=False)
    assert str(caught.value) == (
        f"the store at {redact(store_url)} is at schema 0001 and this releasegate needs {HEAD}: "
        "run `releasegate db upgrade`"
    )
    assert raw_sql(store_url, "SELECT version_num FROM alembic_version") == [("0001",)]


def test_read_only_on_an_empty_postgresql_database(pg_url: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(pg_url, write=False)
    assert str(caught.value) == (
        f"the store at {pg_url} has no releasegate schema yet: run `releasegate db upgrade`"
    )
