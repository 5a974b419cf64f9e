"""Who is acting and what they may do: the identity module's rules, applied by every use case."""

from __future__ import annotations

from releasegate.config.models import Config
from releasegate.errors import IdentityError, PermissionDenied
from releasegate.identity import Actor

ANYONE = "*"
"""In ``permissions:``, anyone listed in ``users:``."""

DEFAULT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "deploy": (ANYONE,),
    "rollback": (ANYONE,),
    "resume": (ANYONE,),
    "cancel": (ANYONE,),
    "approve": (ANYONE,),
    "confirm": (ANYONE,),
    "obligation.close": (ANYONE,),
    "audit.anchor": (ANYONE,),
    "adopt": ("devops", "admin"),
    "freeze.add": ("devops", "admin"),
    "freeze.remove": ("devops", "admin"),
    "freeze.remove-hard": ("admin",),
    "incident.open": ("devops", "admin"),
    "incident.close": ("devops", "admin"),
    "campaign.add": ("devops", "admin"),
    "token.create": ("admin",),
    "token.revoke": ("admin",),
}


def establish_actor(
    config: Config, *, requested: str | None, env_user: str | None, os_user: str
) -> Actor:
    """The actor, as ``identity.mode`` establishes it (see docs/policy.md)."""
    if not config.users:
        name = requested or env_user or os_user
        return Actor(name=name, roles=frozenset(), via="single-person", os_user=os_user)
    mode = config.identity.mode
    if mode == "trust":
        name = requested or env_user or os_user
        return Actor(name=name, roles=frozenset(config.roles_of(name)), via="trust", os_user=os_user)
    claimed = requested or env_user
    if claimed is not None and claimed != os_user:
        flag = "--as" if requested else "RELEASEGATE_USER="
        raise IdentityError(
            f"identity.mode is {mode}: you are {os_user}; {flag}{'' if flag.endswith('=') else ' '}"
            f"{claimed} is refused"
        )
    return Actor(name=os_user, roles=frozenset(config.roles_of(os_user)), via=mode, os_user=os_user)


def roles_for(config: Config, action: str) -> tuple[str, ...]:
    """The roles that may perform ``action`` (``*``: anyone listed in ``users``)."""
    if action in config.permissions:
        return tuple(config.permissions[action])
    if action == "override":
        return tuple(config.overrides.roles)
    return DEFAULT_PERMISSIONS[action]


def authorize(config: Config, actor: Actor, action: str) -> None:
    """Raise PermissionDenied unless ``actor`` may perform ``action``."""
    if actor.single_person or actor.via == "system":
        return
    allowed = roles_for(config, action)
    listed = actor.name in config.users
    if listed and (ANYONE in allowed or actor.roles & set(allowed)):
        return
    who = " or ".join(r if r != ANYONE else "anyone listed in users" for r in allowed)
    holds = ", ".join(sorted(actor.roles)) if listed else "not listed in users"
    raise PermissionDenied(
        f"{actor.name} may not {action.replace('.', ' ')}: it needs {who} "
        f"({actor.name}: {holds or 'no roles'})"
    )
