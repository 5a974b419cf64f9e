"""Run the example's migrations with the build being deployed.

    python scripts/migrate.py up|status|down --data-dir data/staging

releasegate gives the version in RELEASEGATE_VERSION; this runs
``python -m camarketplace.migrate ACTION`` in ``versions/<version>/`` (so the build's
manifest decides the schema it needs) with ``CAMARKETPLACE_DATA_DIR`` set to the
environment's data directory (``DATABASE_URL``, when the step sets it, wins). Its exit
status is the migration tool's: ``status`` exits 0 only when the schema is what the build
needs (or ahead and compatible).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["up", "status", "down"])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--version", default=os.environ.get("RELEASEGATE_VERSION", ""))
    args = parser.parse_args(argv)
    build = EXAMPLE / "versions" / args.version
    if not args.version or not (build / "manifest.json").is_file():
        print(f"FAIL no build for version {args.version!r} in {EXAMPLE / 'versions'}")
        return 1
    env = {**os.environ, "CAMARKETPLACE_DATA_DIR": str(args.data_dir.resolve()),
           "CAMARKETPLACE_APP_DIR": str(EXAMPLE / "app")}
    command = [sys.executable, "-m", "camarketplace.migrate", args.action]
    return subprocess.run(command, cwd=build, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
