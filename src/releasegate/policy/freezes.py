"""Everything that freezes an environment, as one shape: a :class:`Blocker` over a UTC span.

Sources: the calendars an environment names, the built-ins ``incidents`` (an open incident
at or above ``incidents.freeze_at``) and ``campaigns`` (a buffer around each campaign),
and the ad-hoc freezes recorded in the store (which always apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from releasegate.config.models import Config
from releasegate.config.timespec import did_you_mean
from releasegate.config.types import format_duration
from releasegate.errors import ConfigError, Problem
from releasegate.policy.calendars import CompiledCalendar, compile_calendar
from releasegate.policy.facts import PolicyFacts, applies_to
from releasegate.policy.intervals import FAR_FUTURE
from releasegate.policy.labels import utc_label

SEVERITIES = ("low", "medium", "high", "critical")
BUILTIN_FREEZES = ("incidents", "campaigns")
ADHOC_RULE = "freeze:ad-hoc"
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Blocker:
    """One reason deployments are frozen during ``[start, end)``.

    ``open_ended`` blockers (an open incident) have no known end: ``end`` is far away.
    ``kind`` is ``calendar``, ``incident``, ``campaign`` or ``ad-hoc``.
    """

    rule: str
    start: datetime
    end: datetime
    reason: str
    hard: bool
    kind: str
    open_ended: bool = False

    def active(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def severity_rank(severity: str) -> int:
    """``low`` → 0 … ``critical`` → 3; a ValueError for anything else."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"{severity!r} is not a severity (use {', '.join(SEVERITIES)})"
            f"{did_you_mean(severity, SEVERITIES)}"
        ) from None


class FreezeSources:
    """The freeze sources of one environment, given the config and the store facts."""

    def __init__(self, config: Config, env: str, facts: PolicyFacts) -> None:
        environment = config.environments[env]
        self.env = env
        self.calendars: list[CompiledCalendar] = []
        self.rules: list[str] = []
        self._incidents = False
        self._campaigns = False
        for i, name in enumerate(environment.freezes):
            if name == "incidents":
                self._incidents = True
            elif name == "campaigns":
                self._campaigns = True
            elif name in config.calendars:
                self.calendars.append(compile_calendar(name, config.calendars[name]))
            else:
                choices = [*config.calendars, *BUILTIN_FREEZES]
                raise ConfigError(
                    [
                        Problem(
                            f"{name!r} is neither a calendar nor a built-in freeze "
                            f"(incidents, campaigns){did_you_mean(name, choices)}",
                            f"environments.{env}.freezes[{i}]",
                        )
                    ]
                )
            self.rules.append(f"freeze:{name}")
        self.rules.append(ADHOC_RULE)
        self._freeze_at = severity_rank(config.incidents.freeze_at)
        self._facts = facts

    def blockers(self, start: datetime, end: datetime) -> list[Blocker]:
        """Every blocker overlapping ``[start, end)``."""
        found: list[Blocker] = []
        for cal in self.calendars:
            for (s, e), why in cal.frozen_spans(start, end):
                if s < end and e > start:
                    found.append(Blocker(f"freeze:{cal.name}", s, e, why, cal.hard, "calendar"))
        if self._incidents:
            for incident in self._facts.incidents:
                if (
                    incident.is_open
                    and applies_to(incident.environment, self.env)
                    and incident.severity in SEVERITIES
                    and severity_rank(incident.severity) >= self._freeze_at
                    and incident.opened_at < end
                ):
                    why = (
                        f"incident #{incident.id} ({incident.severity}) is open: "
                        f"{incident.title!r}, since {utc_label(incident.opened_at)}"
                    )
                    found.append(
                        Blocker(
                            "freeze:incidents", incident.opened_at, FAR_FUTURE, why,
                            False, "incident", open_ended=True,
                        )
                    )
        if self._campaigns:
            for campaign in self._facts.campaigns:
                s, e = campaign.at - campaign.buffer, campaign.at + campaign.buffer
                if applies_to(campaign.environment, self.env) and s < end and e > start:
                    why = (
                        f"campaign {campaign.name!r} at {utc_label(campaign.at)}: no deploys "
                        f"within {format_duration(campaign.buffer)} of it"
                    )
                    found.append(Blocker("freeze:campaigns", s, e, why, False, "campaign"))
        for freeze in self._facts.freezes:
            if applies_to(freeze.environment, self.env) and freeze.start < end and freeze.end > start:
                hard = " (hard)" if freeze.hard else ""
                why = (
                    f"freeze #{freeze.id}{hard} from {utc_label(freeze.start)} to "
                    f"{utc_label(freeze.end)}: {freeze.reason}"
                )
                found.append(Blocker(ADHOC_RULE, freeze.start, freeze.end, why, freeze.hard, "ad-hoc"))
        return found

    def active(self, instant: datetime) -> list[Blocker]:
        """The blockers in force at ``instant``."""
        probe_end = instant + _TINY
        return [b for b in self.blockers(instant, probe_end) if b.active(instant)]

