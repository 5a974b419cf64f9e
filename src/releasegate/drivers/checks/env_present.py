"""``env-present``: required variables and secrets are set and non-empty (never shown)."""

from __future__ import annotations

import os
import re
from typing import ClassVar

from pydantic import Field, field_validator

from releasegate.config.types import StrList
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REFERENCE = re.compile(r"^\$\{(env|file):[^}]+\}$")


class EnvPresentOptions(Options):
    """Options of ``env-present``."""

    names: StrList = Field(
        description="Environment variable names (DATABASE_URL) or secret references "
        "(${env:NAME}, ${file:PATH}) that must be present and non-empty."
    )

    @field_validator("names")
    @classmethod
    def _valid(cls, names: list[str]) -> list[str]:
        for name in names:
            if not (_NAME.match(name) or _REFERENCE.match(name)):
                raise ValueError(
                    f"{name!r} is neither a variable name nor a secret reference like ${{env:NAME}}"
                )
        return names


class EnvPresent:
    """Checks presence only; values are never printed or recorded."""

    name: ClassVar[str] = "env-present"
    Options: ClassVar[type[EnvPresentOptions]] = EnvPresentOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: EnvPresentOptions, ctx: StepContext) -> StepResult:
        missing: list[str] = []
        empty: list[str] = []
        for name in options.names:
            if _NAME.match(name):
                value = ctx.env.get(name, os.environ.get(name))
            else:
                try:
                    value = resolve_secret(ctx, name, what=name)
                except DriverError:
                    value = None
            if value is None:
                missing.append(name)
            elif not value.strip():
                empty.append(name)
        present = [n for n in options.names if n not in missing and n not in empty]
        evidence = {"present": list(present), "missing": list(missing), "empty": list(empty)}
        if missing or empty:
            parts = []
            if missing:
                parts.append("missing: " + ", ".join(missing))
            if empty:
                parts.append("empty: " + ", ".join(empty))
            return StepResult(ok=False, summary="; ".join(parts), evidence=evidence)  # type: ignore[arg-type]
        return StepResult(
            ok=True, summary=f"all {len(present)} present", evidence=evidence  # type: ignore[arg-type]
        )
