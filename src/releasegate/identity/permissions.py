"""Who may do what: ``permissions:`` applied to an :class:`Actor`.

Without ``users:`` (single-person mode) everyone may do everything. With ``users:``, a
name not listed may do nothing, and each action needs one of its roles: ``permissions:
{ACTION: [roles]}`` when the config names the action, else the default
(:data:`~releasegate.config.identity_check.DEFAULT_PERMISSIONS`; ``override`` defaults to
``overrides.roles``). The role ``"*"`` means anyone listed in ``users``.

Which role may *sign* what (``approvals.roles``, ``confirmations[].by``) is policy's
business: the ``approve`` and ``confirm`` permissions only say who may ask.
"""

from __future__ import annotations

from releasegate.config.identity_check import (
    ACTIONS,
    ANYONE_LISTED,
    DEFAULT_PERMISSIONS,
    Action,
)
from releasegate.config.models import Config
from releasegate.errors import PermissionDenied
from releasegate.identity.actor import Actor

SYSTEM_ACTIONS: frozenset[Action] = frozenset({"resume", "cancel", "rollback", "audit.anchor"})
"""What releasegate itself (``via="system"``: a worker taking over a dead worker's
deployment, an automatic rollback) may do whatever ``permissions`` says."""


def roles_for(config: Config, action: Action) -> tuple[list[str], str]:
    """The roles that may perform ``action``, and the config key they come from."""
    _known(action)
    if action in config.permissions:
        return list(config.permissions[action]), f"permissions.{action}"
    if action == "override":
        return list(config.overrides.roles), "overrides.roles"
    return list(DEFAULT_PERMISSIONS[action]), "the default"


def authorize(config: Config, actor: Actor, action: Action) -> None:
    """Return if ``actor`` may perform ``action``; else raise :class:`PermissionDenied`
    with one line naming who, the action, the roles that may and the roles they hold.

    An action name that is not one of :data:`ACTIONS` is a programming error (ValueError).
    """
    refusal = _refusal(config, actor, action)
    if refusal is not None:
        raise PermissionDenied(refusal)


def may(config: Config, actor: Actor, action: Action) -> bool:
    """Whether :func:`authorize` would let ``actor`` perform ``action`` (for showing
    what someone can do; decide with :func:`authorize`)."""
    return _refusal(config, actor, action) is None


def describe_permissions(config: Config) -> list[tuple[Action, list[str]]]:
    """Every action with the roles that may perform it, in :data:`ACTIONS` order.

    These are the rules that apply once ``users:`` is set; without it (single-person
    mode) whoever runs releasegate may do everything, whatever this says.
    """
    return [(action, roles_for(config, action)[0]) for action in ACTIONS]


def _known(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")


def _refusal(config: Config, actor: Actor, action: Action) -> str | None:
    roles, source = roles_for(config, action)
    if not config.users:
        return None
    who = actor.name
    if actor.via == "system":
        if action in SYSTEM_ACTIONS:
            return None
        return f"releasegate itself may not {action}: only a person may"
    if who not in config.users:
        return f"{who} may not {action}: {who} is not listed in users, and with users set only they may act"
    if ANYONE_LISTED in roles or actor.roles & set(roles):
        return None
    held = (
        f"{who} holds {', '.join(sorted(actor.roles))}" if actor.roles else f"{who} holds no role"
    )
    if not roles:
        return f"{who} may not {action}: {source} lists no role, so nobody may"
    return f"{who} may not {action}: it needs {_roles(roles)} ({source}); {held}"


def _roles(roles: list[str]) -> str:
    if len(roles) == 1:
        return f"the role {roles[0]}"
    return "one of the roles " + ", ".join(roles)
