"""Make sure the environment's database exists before it is backed up.

    python scripts/prepare_data.py --data-dir data/staging     # DATABASE_URL from the env

On a first deployment (nothing live: RELEASEGATE_PREVIOUS_VERSION empty) the data
directory and an empty SQLite database are created, so the backup step records the state
before the first migration. When a version is live, the database must already exist: a
missing one is an error (exit 1), never silently recreated.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith("sqlite:///"):
        print("ok   not a SQLite database: nothing to prepare")
        return 0
    db = Path(url.removeprefix("sqlite:///")) if url else Path(args.data_dir) / "camarketplace.db"
    if db.exists():
        print(f"ok   database {db.name} exists ({db.stat().st_size >> 10} KiB)")
        return 0
    if os.environ.get("RELEASEGATE_PREVIOUS_VERSION"):
        print(f"FAIL database {db} is missing although a version is live")
        return 1
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(db).close()
    print(f"ok   first deployment: created an empty database {db.name}; migrations create the schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
