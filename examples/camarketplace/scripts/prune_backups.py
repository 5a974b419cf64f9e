"""Backup retention: keep ``--keep-days`` of backups, archive the older ones.

    python scripts/prune_backups.py --dir backups --keep-days 90

Backups older than the retention (by modification time) are moved, with their ``.sha256``
files, into ``<dir>/archive/`` (the example's stand-in for Glacier). The newest backup is
always kept, whatever its age. Prints what it moved and what it kept.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--keep-days", type=float, default=90)
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"ok   no backups in {args.dir} yet")
        return 0
    backups = sorted((p for p in [*args.dir.glob("*.dump"), *args.dir.glob("*.sqlite")] if p.is_file()), key=lambda p: p.stat().st_mtime)
    cutoff = time.time() - args.keep_days * 86400
    old = [p for p in backups[:-1] if p.stat().st_mtime < cutoff]
    archive = args.dir / "archive"
    for path in old:
        archive.mkdir(exist_ok=True)
        for f in (path, path.with_name(path.name + ".sha256")):
            if f.exists():
                f.rename(archive / f.name)
        print(f"archived {path.name}")
    print(f"ok   {len(backups) - len(old)} backups kept (last {args.keep_days:g} days), {len(old)} archived")
    return 0


if __name__ == "__main__":
    sys.exit(main())
