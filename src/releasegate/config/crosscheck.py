"""Checks that span more than one value: drivers and their options, ``needs``, step ids,
``promote_from``, freezes, windows, calendars, confirmations, ``if`` expressions and
secret references.

Each environment and calendar that is valid on its own is checked even when another part
of the file is not, so one run reports every problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from pydantic import BaseModel

from releasegate.config.catalog import DriverCatalog
from releasegate.config.countries import holiday_source_problems
from releasegate.config.document import Document, KeyPath
from releasegate.config.environment_check import EnvironmentCheck, item_path
from releasegate.config.identity_check import identity_problems
from releasegate.config.models import Calendar, Config, Environment
from releasegate.config.parts import EnvironmentParts, valid
from releasegate.config.secrets import references_in
from releasegate.config.timespec import did_you_mean, parse_tz
from releasegate.errors import Problem

M = TypeVar("M", bound=BaseModel)


def crosscheck(doc: Document, config: Config | None, catalog: DriverCatalog | None) -> list[Problem]:
    """Every cross-reference problem in the file, located. Without a ``catalog`` the
    drivers that ``uses`` names and their ``with`` options are not checked."""
    env_names = _names(doc, "environments")
    calendar_names = _names(doc, "calendars")
    fast_track = _fast_track(doc)
    holders = _role_holders(doc)
    problems: list[Problem] = []
    for name in env_names:
        raw = doc.get(("environments", name))
        env = config.environments[name] if config else valid(Environment, raw)
        parts = EnvironmentParts.of(env) if env else EnvironmentParts.salvage(raw)
        checker = EnvironmentCheck(
            doc,
            ("environments", name),
            catalog,
            fast_track=fast_track,
            signatures=_signature_ids(doc, name),
        )
        problems.extend(checker.run(parts, env_names, calendar_names))
        if holders is not None:
            problems.extend(_approvers(doc, ("environments", name, "approvals"), holders))
    calendars = config.calendars if config else _each(doc, "calendars", Calendar)
    for name, calendar in calendars.items():
        problems.extend(_calendar(doc, ("calendars", name), calendar))
    problems.extend(_confirmations(doc, env_names))
    for path, text in _strings(doc.data, ()):
        if "${" in text:
            try:
                references_in(text)
            except ValueError as exc:
                problems.append(doc.problem(path, str(exc)))
    problems.extend(identity_problems(doc, config))
    return problems


def _names(doc: Document, key: str) -> list[str]:
    found = doc.get((key,))
    return [str(k) for k in found] if isinstance(found, dict) else []


def _each(doc: Document, key: str, model: type[M]) -> dict[str, M]:
    found = doc.get((key,))
    parsed: dict[str, M] = {}
    if isinstance(found, dict):
        for name, raw in found.items():
            item = valid(model, raw)
            if item is not None:
                parsed[name] = item
    return parsed


def _fast_track(doc: Document) -> frozenset[str] | None:
    """The gates ``emergency.gates`` keeps, or None when it keeps them all (empty or unset)."""
    gates = doc.get(("emergency", "gates"))
    gates = [gates] if isinstance(gates, str) else gates
    if not isinstance(gates, list) or not gates:
        return None
    return frozenset(g for g in gates if isinstance(g, str))


def _signature_ids(doc: Document, env: str) -> dict[str, str]:
    """``sign.ID`` → ID for the required confirmations a plan of ``env`` waits for: the
    plan adds a step of that id, so no step of the environment may have it."""
    found: dict[str, str] = {}
    items = doc.get(("confirmations",))
    for raw in items if isinstance(items, list) else []:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        envs = raw.get("environments") or []
        envs = [envs] if isinstance(envs, str) else envs
        waits = raw.get("required", True) is True and raw.get("phase", "gates") in ("gates", "deploy")
        if waits and (not envs or env in envs):
            found[f"sign.{raw['id']}"] = raw["id"]
    return found


def _role_holders(doc: Document) -> set[str] | None:
    """Every role some user holds; None in single-person mode (no ``users``)."""
    users = doc.get(("users",))
    if not isinstance(users, dict) or not users:
        return None
    held: set[str] = set()
    for user in users.values():
        roles = user.get("roles") if isinstance(user, dict) else None
        roles = [roles] if isinstance(roles, str) else roles
        if isinstance(roles, list):
            held.update(r for r in roles if isinstance(r, str))
    return held


def _approvers(doc: Document, path: KeyPath, holders: set[str]) -> list[Problem]:
    """An approval role that no user holds can never be signed: the environment would
    never take a version."""
    roles = doc.get((*path, "roles"))
    roles = [roles] if isinstance(roles, str) else roles
    return [
        doc.problem(
            item_path(doc, (*path, "roles"), i),
            f"no user holds the role {role!r} (users), so no version could ever be approved"
            f"{did_you_mean(role, sorted(holders))}",
        )
        for i, role in enumerate(roles if isinstance(roles, list) else [])
        if isinstance(role, str) and role not in holders
    ]


def _strings(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    # Iterative: the document may be as deep as the loader allows.
    todo: list[tuple[KeyPath, object]] = [(path, value)]
    while todo:
        where, item = todo.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            todo.extend(((*where, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend(((*where, i), v) for i, v in reversed(list(enumerate(item))))


def _confirmations(doc: Document, env_names: list[str]) -> list[Problem]:
    """A confirmation for an environment that does not exist would never be asked for."""
    problems: list[Problem] = []
    found = doc.get(("confirmations",))
    for i, raw in enumerate(found if isinstance(found, list) else []):
        envs = raw.get("environments") if isinstance(raw, dict) else None
        envs = [envs] if isinstance(envs, str) else envs
        for j, name in enumerate(envs if isinstance(envs, list) else []):
            if isinstance(name, str) and name not in env_names:
                problems.append(
                    doc.problem(
                        item_path(doc, ("confirmations", i, "environments"), j),
                        f"{name!r} is no environment{did_you_mean(name, env_names)}",
                    )
                )
    return problems


def _calendar(doc: Document, path: KeyPath, calendar: Calendar) -> list[Problem]:
    problems: list[Problem] = []
    try:
        parse_tz(calendar.tz)
    except ValueError as exc:
        problems.append(doc.problem((*path, "tz"), str(exc)))
    source = calendar.holidays
    if source is None:
        return problems
    where = (*path, "holidays")
    for inner, message in holiday_source_problems(
        source.country, source.subdiv, tuple(source.categories)
    ):
        if inner[0] == "categories" and isinstance(inner[-1], int):
            inner = item_path(doc, (*where, "categories"), inner[-1])[len(where) :]
        problems.append(doc.problem((*where, *inner), message))
    return problems
