"""The error tree of releasegate.

Every error a user can act on derives from :class:`ReleasegateError`; the CLI maps each
branch to a documented exit code (see ``cli/exit_codes.py``)::

    ReleasegateError
    ├── ConfigError          bad releasegate.yaml, bad CLI input          exit 2
    │   └── UsageError       a command used wrongly or not available yet   exit 2
    ├── PolicyDenied         window, freeze, approval, promotion           exit 3
    │   ├── PermissionDenied the actor's roles do not allow the action     exit 3
    │   ├── IdentityError    who is acting cannot be established/verified  exit 3
    │   └── ConflictError    it is recorded already (approve once, sign once) exit 3
    ├── LockedError          the environment is held by another deployment exit 4
    ├── DriverError          a step, check, target or source failed
    └── StoreError           the state store cannot be reached or is inconsistent  exit 2
        └── AuditError       the event chain does not verify

Control-flow signals (a deployment cancelled, a rollback requested) are not errors and
live in ``engine/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ReleasegateError(Exception):
    """The root of every error releasegate raises on purpose."""


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: 1-based line and column."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration, with where it is and the key path to it."""

    message: str
    path: str = ""
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class ConfigError(ReleasegateError):
    """A configuration (or command-line input) is wrong. Carries every problem found."""

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ConfigError):
    """A command was used wrongly, or is not available yet."""


class PolicyDenied(ReleasegateError):
    """Policy refuses the action; ``explanation`` says why and when it would be allowed."""

    def __init__(self, message: str, *, explanation: str = "") -> None:
        self.explanation = explanation
        super().__init__(message)


class LockedError(ReleasegateError):
    """The environment is locked by another deployment."""


class DriverError(ReleasegateError):
    """A driver could not do its work (the step fails with this message)."""


class StoreError(ReleasegateError):
    """The state store cannot be opened, migrated or read."""


class AuditError(StoreError):
    """The append-only event chain does not verify."""


class PermissionDenied(PolicyDenied):
    """The actor's roles do not allow this action (``permissions:`` in the config)."""


class IdentityError(PolicyDenied):
    """Who is acting cannot be established or verified (``identity:`` in the config):
    ``--as`` another name under ``mode: os``, a missing or invalid SSH signature."""


class ConflictError(PolicyDenied):
    """What is asked is recorded already, and the record may exist once: the same
    approval twice, one person in two roles where ``distinct_people`` is set, an item
    signed twice. The database decides (constraints, locked transactions)."""
