"""The schema migrations and their runner: ``python -m camarketplace.migrate up|down|status``.

Migrations are the numbered SQL files in ``migrations/`` (``NNNN_name.up.sql`` and
``NNNN_name.down.sql``); the ``schema_version`` table records which ones are applied.
``up`` goes to the schema this build needs (``--to N`` for another), ``down`` reverts the
latest one (``--to N`` to go down to N), ``status`` exits 1 while migrations are pending.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from camarketplace.build import BuildError
from camarketplace.db import Connection, Database, DatabaseError
from camarketplace.settings import load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered schema change and how to undo it."""

    number: int
    name: str
    up_sql: str
    down_sql: str

    @property
    def label(self) -> str:
        """``0002_payment_reconciliation``."""
        return f"{self.number:04d}_{self.name}"


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration in ``directory``, in order."""
    found = []
    for up in sorted(directory.glob("*.up.sql")):
        stem = up.name.removesuffix(".up.sql")
        number, _, name = stem.partition("_")
        down = up.with_name(f"{stem}.down.sql")
        found.append(Migration(int(number), name, up.read_text(), down.read_text()))
    return found


def statements(sql: str) -> list[str]:
    """Split a migration file into statements: each ends with ``;`` at the end of a line."""
    result, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().removesuffix(";").strip()
            if statement:
                result.append(statement)
            current = []
    if "".join(current).strip():
        result.append("\n".join(current).strip())
    return result


def current_version(db: Database) -> int:
    """The highest applied migration number (0 on an empty database)."""
    if db.kind == "sqlite":
        exists = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'schema_version'"
    else:
        exists = "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'schema_version' AND schemaname = current_schema()"
    found = db.fetchone(exists)
    if not found or not found["n"]:
        return 0
    row = db.fetchone("SELECT max(version) AS v FROM schema_version")
    return int(row["v"]) if row and row["v"] is not None else 0


def _apply(db: Database, sql: str, record: tuple[str, Sequence[object]]) -> None:
    with db.transaction() as conn:
        _begin(db, conn)
        for statement in statements(sql):
            conn.execute(statement)
        conn.execute(*record)


def _begin(db: Database, conn: Connection) -> None:
    if db.kind == "sqlite":  # sqlite3 does not open a transaction before DDL by itself
        conn.execute("BEGIN")


def up(db: Database, target: int) -> list[Migration]:
    """Apply the pending migrations up to ``target``; return those applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = current_version(db)
    applied = []
    for migration in discover():
        if current < migration.number <= target:
            now = datetime.now(UTC).isoformat()
            insert = "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"
            _apply(db, migration.up_sql, (insert, (migration.number, migration.name, now)))
            applied.append(migration)
    return applied


def down(db: Database, target: int) -> list[Migration]:
    """Revert applied migrations above ``target``, newest first; return those reverted."""
    current = current_version(db)
    reverted = []
    for migration in reversed(discover()):
        if target < migration.number <= current:
            delete = ("DELETE FROM schema_version WHERE version = ?", (migration.number,))
            _apply(db, migration.down_sql, delete)
            reverted.append(migration)
    return reverted


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m camarketplace.migrate")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--to", type=int, help="target schema version")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        db = Database(settings.database_url)
        needed = settings.build.features.schema
        current = current_version(db)
        name = f"camarketplace {settings.build.version}"
        if args.command == "up":
            done = up(db, needed if args.to is None else args.to)
            for m in done:
                print(f"applied {m.label}")
            print(f"schema at {current_version(db)} ({name} needs {needed})")
        elif args.command == "down":
            done = down(db, max(current - 1, 0) if args.to is None else args.to)
            for m in done:
                print(f"reverted {m.label}")
            print(f"schema at {current_version(db)} ({name} needs {needed})")
        else:
            pending = [m.label for m in discover() if current < m.number <= needed]
            if pending:
                print(f"schema at {current}, {name} needs {needed}: pending {', '.join(pending)}")
                return 1
            state = "up to date" if current == needed else "ahead (expand-only, compatible)"
            print(f"schema at {current}, {name} needs {needed}: {state}")
        db.close()
    except (BuildError, DatabaseError) as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
