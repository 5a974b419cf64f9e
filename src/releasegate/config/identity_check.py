"""The identity vocabulary of ``releasegate.yaml`` and its cross-checks.

``permissions:`` names actions; the names and their defaults live here, beside the checks
that read them, so that ``config/`` does not import the layers above it
(:mod:`releasegate.identity.permissions` applies them).

Two kinds of findings, both :class:`~releasegate.errors.Problem` located in the file:

* :func:`identity_problems` — errors: ``mode: ssh`` without a readable ``allowed_signers``
  file, an unknown action in ``permissions``, ``identity.os_users`` naming nobody in
  ``users``. The loader reports them with every other problem (``crosscheck`` calls it).
* :func:`identity_warnings` — advice that does not stop a load: a role that no user holds,
  ``mode: trust`` on a production-like environment while ``users:`` is set, an
  ``allowed_signers`` that is never read, a signer ``users`` does not list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal, get_args

from pydantic import ValidationError

from releasegate.config.document import Document, KeyPath, dotted
from releasegate.config.models import Config, Identity
from releasegate.config.timespec import did_you_mean
from releasegate.errors import Location, Problem

Action = Literal[
    "deploy",
    "rollback",
    "resume",
    "cancel",
    "adopt",
    "approve",
    "confirm",
    "override",
    "freeze.add",
    "freeze.remove",
    "freeze.remove-hard",
    "incident.open",
    "incident.close",
    "campaign.add",
    "obligation.close",
    "defect.add",
    "backups.prune",
    "audit.anchor",
    "token.create",
    "token.revoke",
]
"""Every mutating action ``permissions:`` may name."""

ACTIONS: tuple[Action, ...] = get_args(Action)

ANYONE_LISTED = "*"
"""In ``permissions``: anyone listed in ``users``, whatever their roles."""

_OPS = ("devops", "admin")
DEFAULT_PERMISSIONS: Mapping[Action, tuple[str, ...]] = {
    "deploy": (ANYONE_LISTED,),
    "rollback": (ANYONE_LISTED,),
    "resume": (ANYONE_LISTED,),
    "cancel": (ANYONE_LISTED,),
    "adopt": _OPS,
    # approve/confirm: which role may sign what is decided by policy (approvals.roles,
    # confirmations[].by); the permission only says a listed user may ask.
    "approve": (ANYONE_LISTED,),
    "confirm": (ANYONE_LISTED,),
    "freeze.add": _OPS,
    "freeze.remove": _OPS,
    "freeze.remove-hard": ("admin",),
    "incident.open": _OPS,
    "incident.close": _OPS,
    "campaign.add": _OPS,
    "obligation.close": (ANYONE_LISTED,),
    # anyone may report what a deployment broke; deleting or moving backups is ops' call
    "defect.add": (ANYONE_LISTED,),
    "backups.prune": _OPS,
    "audit.anchor": (ANYONE_LISTED,),
    "token.create": ("admin",),
    "token.revoke": ("admin",),
}
"""The roles each action needs when ``permissions`` does not name it and ``users:`` is set.
``override`` is missing on purpose: its default is ``overrides.roles``."""

PRODUCTION_NAMES = ("production", "prod")

_KEY_TYPES = ("ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-")


def identity_problems(doc: Document, config: Config | None) -> list[Problem]:
    """Errors in ``identity``, ``permissions`` and ``identity.os_users``, located.

    Works on a file whose other parts do not validate (``config`` is None): each piece is
    read on its own, as ``crosscheck`` does for environments.
    """
    problems: list[Problem] = []
    identity = config.identity if config else _identity(doc)
    if identity is not None:
        problems.extend(_signers_file(doc, identity))
        users = list(config.users) if config else _keys(doc.get(("users",)))
        for os_user, name in identity.os_users.items():
            if users and name not in users:
                problems.append(
                    doc.problem(
                        ("identity", "os_users", os_user),
                        f"{name!r} is not listed in users{did_you_mean(name, users)}",
                    )
                )
    actions = list(config.permissions) if config else _keys(doc.get(("permissions",)))
    for action in actions:
        if action not in ACTIONS:
            hint = did_you_mean(action, ACTIONS) or f" (actions: {', '.join(ACTIONS)})"
            where = doc.at(("permissions", action), key=True)
            problems.append(Problem(f"unknown action {action!r}{hint}", "permissions", where))
    return problems


def identity_warnings(config: Config, doc: Document | None = None) -> list[Problem]:
    """Advice about a valid config; located when ``doc`` (the file it came from) is given.
    Signers in ``allowed_signers`` are checked against ``users`` only then, since the
    file's path is relative to the config's."""

    def warn(path: KeyPath, message: str, *, key: bool = False) -> Problem:
        return doc.problem(path, message, key=key) if doc else Problem(message, dotted(path))

    found: list[Problem] = []
    held = sorted({role for user in config.users.values() for role in user.roles})
    if config.users:
        for path, role in _named_roles(config):
            if role != ANYONE_LISTED and role not in held:
                found.append(
                    warn(path, f"no user holds the role {role!r}{did_you_mean(role, held)}")
                )
        if config.identity.mode == "trust":
            for env, why in _production_like(config):
                found.append(
                    warn(
                        ("environments", env),
                        f"identity.mode is trust on a production-like environment ({why}): "
                        "anyone can act as any user with --as; use mode os or ssh",
                        key=True,
                    )
                )
    if config.identity.allowed_signers and config.identity.mode != "ssh":
        found.append(
            warn(
                ("identity", "allowed_signers"),
                f"is read only when identity.mode is ssh (it is {config.identity.mode})",
            )
        )
    if config.identity.mode == "ssh" and config.users and doc is not None:
        found.extend(_unlisted_signers(doc, config))
    return found


def signers_path(allowed_signers: str, config_file: str) -> Path:
    """Where ``identity.allowed_signers`` points: relative to the config file's folder."""
    return Path(config_file).parent / allowed_signers


def _identity(doc: Document) -> Identity | None:
    try:
        return Identity.model_validate(doc.get(("identity",)) or {})
    except ValidationError:  # reported by the validation of the whole file
        return None


def _keys(raw: object) -> list[str]:
    return [str(k) for k in raw] if isinstance(raw, dict) else []


def _signers_file(doc: Document, identity: Identity) -> Iterator[Problem]:
    if identity.mode != "ssh":
        return
    if not identity.allowed_signers:
        yield doc.problem(
            ("identity", "mode"),
            "mode ssh needs identity.allowed_signers: the file (ssh-keygen format) of the "
            "keys that may sign",
        )
        return
    where = ("identity", "allowed_signers")
    path = signers_path(identity.allowed_signers, doc.file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        yield doc.problem(where, f"{identity.allowed_signers!r} does not exist (looked at {path})")
        return
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        yield doc.problem(where, f"{identity.allowed_signers!r} cannot be read: {reason}")
        return
    for number, line in _signer_lines(text):
        if _principals(line) is None:
            yield Problem(
                "not an allowed_signers line (PRINCIPALS [OPTIONS] KEYTYPE BASE64-KEY)",
                location=Location(str(path), number, 1),
            )


def _signer_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _principals(line: str) -> list[str] | None:
    """The principals of an allowed_signers line, or None when it has no key.

    The format is ``principals [options] keytype base64 [comment]``; options may hold
    quoted spaces, so the key is found by its type rather than by its position.
    """
    fields = line.split()
    for word in fields[1:-1]:
        if word.startswith(_KEY_TYPES) and '"' not in word and "=" not in word:
            return fields[0].strip('"').split(",")
    return None


def _unlisted_signers(doc: Document, config: Config) -> Iterator[Problem]:
    allowed = config.identity.allowed_signers
    if not allowed:
        return
    path = signers_path(allowed, doc.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # an error already (identity_problems)
        return
    users = list(config.users)
    for number, line in _signer_lines(text):
        for principal in _principals(line) or []:
            if principal not in users and not any(c in principal for c in "*?!"):
                yield Problem(
                    f"signer {principal!r} is not listed in users{did_you_mean(principal, users)}",
                    location=Location(str(path), number, 1),
                )


def _named_roles(config: Config) -> Iterator[tuple[KeyPath, str]]:
    for action, roles in config.permissions.items():
        for i, role in enumerate(roles):
            yield ("permissions", action, i), role
    if "roles" in config.overrides.model_fields_set:
        for i, role in enumerate(config.overrides.roles):
            yield ("overrides", "roles", i), role


def _production_like(config: Config) -> Iterator[tuple[str, str]]:
    """Environments where an unverified name does harm, with the reason they count."""
    sources = {env.promote_from for env in config.environments.values()}
    for name, env in config.environments.items():
        if name.lower() in PRODUCTION_NAMES:
            yield name, f"named {name}"
        elif env.approvals is not None and env.approvals.roles:
            yield name, "it needs approvals"
        elif env.promote_from is not None and name not in sources:
            yield name, "the end of a promotion chain"
