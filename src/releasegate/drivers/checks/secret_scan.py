"""``secret-scan``: detect-secrets over the tree; findings in a baseline are allowed.

Reports ``file:line: type`` only, never the secret (nor its hash).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import subprocess
from pathlib import Path
from typing import ClassVar

from pydantic import Field, JsonValue

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.errors import DriverError

_SKIP_DIRS = {".git", ".releasegate", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache"}


class SecretScanOptions(Options):
    """Options of ``secret-scan``."""

    path: str = Field(".", description="The tree to scan, relative to the config file.")
    baseline: str | None = Field(
        None,
        description="A detect-secrets baseline (.secrets.baseline), relative to `path`: "
        "findings listed in it are allowed.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Glob patterns of files not to scan (e.g. tests/*)."
    )


def _files(root: Path, exclude: list[str]) -> list[str]:
    """Files git tracks when ``root`` is in a git repository, else every file (paths
    relative to ``root``)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [n for n in listed.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
            names.extend(os.path.relpath(Path(folder) / f, root) for f in files)
    return sorted(
        n for n in names if (root / n).is_file() and not any(fnmatch.fnmatch(n, p) for p in exclude)
    )


def _allowed(baseline: Path) -> set[tuple[str, str]]:
    try:
        data = json.loads(baseline.read_text())
        return {
            (filename, item["hashed_secret"])
            for filename, items in data["results"].items()
            for item in items
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DriverError(f"{baseline.name} is not a readable detect-secrets baseline") from exc


def _scan(root: Path, files: list[str]) -> list[tuple[str, int, str, str]]:
    """(file, line, type, hashed secret) for every potential secret."""
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    found: list[tuple[str, int, str, str]] = []
    collection = SecretsCollection()
    with default_settings():
        for name in files:
            # Absolute names: detect-secrets would resolve relative ones against our cwd.
            collection.scan_file(str(root / name))
    for filename, secret in collection:
        relative = os.path.relpath(filename, root)
        found.append((relative, secret.line_number or 0, secret.type, secret.secret_hash))
    return sorted(found)


class SecretScan:
    """Fails when a potential secret not in the baseline is found."""

    name: ClassVar[str] = "secret-scan"
    Options: ClassVar[type[SecretScanOptions]] = SecretScanOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: SecretScanOptions, ctx: StepContext) -> StepResult:
        root = ctx.workdir / options.path
        if not root.is_dir():
            return StepResult(ok=False, summary=f"{options.path} is not a directory")
        try:
            allowed = _allowed(root / options.baseline) if options.baseline else set()
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        # The baseline holds hashes that look like secrets themselves.
        skip = [*options.exclude, *([os.path.normpath(options.baseline)] if options.baseline else [])]
        files = await asyncio.to_thread(_files, root, skip)
        found = await asyncio.to_thread(_scan, root, files)
        new = [(f, line, kind) for f, line, kind, hashed in found if (f, hashed) not in allowed]
        evidence: dict[str, JsonValue] = {
            "files_scanned": len(files),
            "allowed_by_baseline": len(found) - len(new),
            "findings": [f"{f}:{line}: {kind}" for f, line, kind in new],
        }
        if new:
            shown = "; ".join(f"{f}:{line}: {kind}" for f, line, kind in new[:5])
            more = f" and {len(new) - 5} more" if len(new) > 5 else ""
            return StepResult(
                ok=False,
                summary=f"{len(new)} potential secret{'s' * (len(new) > 1)}: {shown}{more}",
                output="\n".join(f"{f}:{line}: {kind}" for f, line, kind in new),
                evidence=evidence,
            )
        return StepResult(
            ok=True, summary=f"no secrets found in {len(files)} files", evidence=evidence
        )

