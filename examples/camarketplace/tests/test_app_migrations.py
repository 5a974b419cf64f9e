"""The migrations go up and down cleanly, and each version's schema is the one it needs."""

from __future__ import annotations

from camarketplace import migrate
from camarketplace.db import Database
from camarketplace.settings import Settings


def test_down_and_up_again(settings: Settings) -> None:
    db = Database(settings.database_url)
    needed = settings.build.features.schema
    assert migrate.current_version(db) == needed
    assert [m.number for m in migrate.down(db, 0)] == list(range(needed, 0, -1))
    assert migrate.current_version(db) == 0
    assert [m.number for m in migrate.up(db, needed)] == list(range(1, needed + 1))
    db.close()


def test_statements_end_with_a_semicolon_at_the_end_of_a_line() -> None:
    sql = "-- a comment;\nCREATE TABLE a (\n  x TEXT\n);\nINSERT INTO a VALUES ('1;2');\n;\n"
    assert migrate.statements(sql) == [
        "CREATE TABLE a (\n  x TEXT\n)",
        "INSERT INTO a VALUES ('1;2')",
    ]
