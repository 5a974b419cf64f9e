"""``changelog``: the changelog has a heading for the version being released."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator

from releasegate.drivers.api import Options, StepContext, StepResult

DEFAULT_PATTERN = r"^#{1,6}\s*\[?v?{version}\]?(?=\s|$|\]|\))"


class ChangelogOptions(Options):
    """Options of ``changelog``."""

    file: str = Field("CHANGELOG.md", description="The changelog, relative to the config file.")
    pattern: str = Field(
        DEFAULT_PATTERN,
        description="A regular expression matched against each line (multiline); "
        "{version} is replaced by the escaped version. The default accepts "
        "'## 1.2.0', '## [1.2.0] - 2026-01-01' and '# v1.2.0'.",
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        if "{version}" not in value:
            raise ValueError("pattern must contain {version}")
        try:
            re.compile(value.replace("{version}", "1"))
        except re.error as exc:
            raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        return value


class Changelog:
    """Looks for the version's heading in the changelog."""

    name: ClassVar[str] = "changelog"
    Options: ClassVar[type[ChangelogOptions]] = ChangelogOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: ChangelogOptions, ctx: StepContext) -> StepResult:
        version = ctx.release.version
        path = ctx.workdir / options.file
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return StepResult(ok=False, summary=f"{options.file} does not exist")
        except OSError as exc:
            return StepResult(ok=False, summary=f"{options.file} cannot be read: {exc.strerror}")
        pattern = re.compile(options.pattern.replace("{version}", re.escape(version)), re.MULTILINE)
        match = pattern.search(text)
        if match is None:
            return StepResult(
                ok=False,
                summary=f"{options.file} has no entry for {version}",
                evidence={"file": options.file, "version": version},
            )
        line = text.count("\n", 0, match.start()) + 1
        return StepResult(
            ok=True,
            summary=f"{options.file}:{line} has an entry for {version}",
            evidence={"file": options.file, "line": line, "heading": match.group(0).strip()},
        )
