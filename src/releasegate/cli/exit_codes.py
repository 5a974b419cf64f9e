"""The documented exit codes of the ``releasegate`` command (DESIGN.md)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1
    """Failed and not rolled back: a person must act."""
    USAGE = 2
    """Usage or configuration error."""
    BLOCKED = 3
    """Blocked by policy: window, freeze, approval, promotion."""
    LOCKED = 4
    """The environment is locked by another deployment."""
    ROLLED_BACK = 5
    """Failed and rolled back cleanly."""
    INTERNAL = 70
    INTERRUPTED = 130
