"""Establishing who is acting, from ``identity:`` in the config.

===============  ======================================  ==========================
config           the name                                ``--as`` someone else
===============  ======================================  ==========================
no ``users:``    ``--as``, else RELEASEGATE_USER, else   taken (``single-person``)
                 the OS user
``mode: trust``  the same                                taken, recorded unverified
``mode: os``     the OS user, or ``identity.os_users``   refused (IdentityError)
``mode: ssh``    as ``os``; sign-offs are signed too     refused (IdentityError)
===============  ======================================  ==========================

Under ``os`` and ``ssh`` the name is the operating-system user (or the name
``identity.os_users`` maps it to) because that is what the machine vouches for; ``--as``
naming the same person is accepted, anyone else is refused.
"""

from __future__ import annotations

import getpass
import os

from releasegate.config.models import Config
from releasegate.errors import IdentityError
from releasegate.identity.actor import Actor, Via

SYSTEM_NAME = "releasegate"
"""The name of the ``system`` actor: releasegate acting on its own."""


def establish_actor(
    config: Config,
    *,
    requested: str | None,
    env_user: str | None,
    os_user: str,
    via_hint: Via | None = None,
) -> Actor:
    """The actor for a command line: ``requested`` is ``--as``, ``env_user`` is
    ``RELEASEGATE_USER``, ``os_user`` is :func:`current_os_user` (never ``$USER``, which
    anyone can set). Roles come from ``config.users``.

    ``via_hint="system"`` gives releasegate's own actor (a worker resuming a deployment);
    token and SSO actors are built by the web layer with :func:`actor_for`.
    Raises :class:`IdentityError` when ``--as``/``RELEASEGATE_USER`` names someone else
    under ``mode: os``/``ssh``, or ``--as`` is empty.
    """
    if via_hint == "system":
        return actor_for(config, SYSTEM_NAME, via="system", os_user=os_user)
    if via_hint is not None:
        raise ValueError(f"via_hint {via_hint!r}: only 'system' (use actor_for for {via_hint})")
    if requested is not None and not requested.strip():
        raise IdentityError("--as needs a user name")
    claimed, source = (requested, f"--as {requested}") if requested else (None, "")
    if claimed is None and env_user and env_user.strip():
        claimed, source = env_user.strip(), f"RELEASEGATE_USER={env_user.strip()}"
    mode = config.identity.mode
    if mode == "trust":
        via: Via = "trust" if config.users else "single-person"
        return actor_for(config, claimed or os_user, via=via, os_user=os_user)
    name = config.identity.os_users.get(os_user, os_user)
    if claimed is not None and claimed not in (name, os_user):
        raise IdentityError(f"identity.mode is {mode}: you are {name}; {source} is refused")
    return actor_for(config, name, via=mode, os_user=os_user)


def actor_for(
    config: Config, name: str, *, via: Via, os_user: str, token_id: int | None = None
) -> Actor:
    """An actor whose identity the caller established (an API token, an SSO header,
    releasegate itself), with the roles ``config.users`` gives ``name``."""
    return Actor(
        name=name,
        roles=frozenset(config.roles_of(name)),
        via=via,
        os_user=os_user,
        token_id=token_id,
    )


def current_os_user() -> str:
    """The operating-system user running this process, from the password database.

    ``getpass.getuser()`` reads ``$USER``/``$LOGNAME`` first, which anyone can set, so it
    would make ``mode: os`` a matter of typing ``USER=bob``.
    """
    try:
        import pwd
    except ImportError:  # not a Unix: the login name is the best there is
        return getpass.getuser()
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no passwd entry (some containers)
        return f"uid:{os.geteuid()}"
