"""Implementation of policy explain, approve, freeze, incident, campaign."""

from __future__ import annotations

from releasegate.cli.context import Globals
from releasegate.cli.later import not_yet


def explain(g: Globals, env: str, *, at: str | None, version: str | None, kind: str) -> int:
    not_yet("policy explain", "the policy issue (#5)")


def approve(g: Globals, env: str, version: str, *, role: str, note: str | None) -> int:
    not_yet("approve", "the policy issue (#5)")


def freeze_add(g: Globals, *, env: str, start: str, end: str, reason: str, hard: bool) -> int:
    not_yet("freeze add", "the policy issue (#5)")


def freeze_list(g: Globals) -> int:
    not_yet("freeze list", "the policy issue (#5)")


def freeze_remove(g: Globals, id: int) -> int:
    not_yet("freeze remove", "the policy issue (#5)")


def incident_open(g: Globals, title: str, *, severity: str, impact: str, env: str) -> int:
    not_yet("incident open", "the policy issue (#5)")


def incident_close(g: Globals, id: int, *, note: str | None) -> int:
    not_yet("incident close", "the policy issue (#5)")


def incident_list(g: Globals, *, include_closed: bool) -> int:
    not_yet("incident list", "the policy issue (#5)")


def campaign_add(g: Globals, name: str, *, at: str, buffer: str | None, env: str) -> int:
    not_yet("campaign add", "the policy issue (#5)")


def campaign_list(g: Globals) -> int:
    not_yet("campaign list", "the policy issue (#5)")
