"""Config models for the records that count: metric targets, notifications, emergency
contacts, backup retention. The lead adds them to :class:`~releasegate.config.models.Config`
as the top-level keys ``metrics``, ``notify``, ``notifications``, ``contacts``, ``announcement``
and ``backups``.

A metric target is a comparison and a figure with its unit: ``"< 30m"``, ``"> 95%"``,
``">= 2/week"``, ``"= 0"``, ``"2-4/week"`` (a range, both ends included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from releasegate.config.models import Model, Window
from releasegate.config.types import Duration, StrList, parse_duration

Unit = Literal["seconds", "ratio", "per_week", "per_deployment"]
"""How a metric is measured: a duration, a share (0..1), deployments per week, a count."""

METRIC_UNITS: dict[str, Unit] = {
    "deployment_frequency": "per_week",
    "lead_time": "seconds",
    "change_failure_rate": "ratio",
    "recovery_time": "seconds",
    "mttr": "seconds",
    "rollback_rate": "ratio",
    "success_rate": "ratio",
    "deployment_duration": "seconds",
    "downtime": "seconds",
    "rework_rate": "ratio",
    "test_coverage": "ratio",
    "bugs": "per_deployment",
    "security_issues": "per_deployment",
    "performance_regressions": "per_deployment",
    "customer_complaints": "per_deployment",
}
"""Every metric releasegate computes, with the unit its value and target are in."""

_TARGET = re.compile(
    r"^\s*(?:(?P<op><=|>=|<|>|=)\s*(?P<value>[\d.]+\s*[a-z%/]*)"
    r"|(?P<low>[\d.]+)\s*-\s*(?P<high>[\d.]+\s*[a-z%/]*))\s*$"
)
_RATES = {"/day": 7.0, "/week": 1.0, "/month": 7 / 30.4375}


@dataclass(frozen=True)
class Target:
    """A parsed target: ``value op figure`` (or ``low <= value <= high``), in base units."""

    text: str
    op: str
    figure: float
    high: float | None = None

    def met(self, value: float) -> bool:
        """Whether ``value`` (in the metric's base unit) meets the target."""
        if self.op == "between":
            assert self.high is not None
            return self.figure <= value <= self.high
        return {
            "<": value < self.figure, "<=": value <= self.figure, ">": value > self.figure,
            ">=": value >= self.figure, "=": abs(value - self.figure) < 1e-9,
        }[self.op]


def _figure(text: str, unit: Unit) -> float:
    text = text.strip()
    number = re.match(r"[\d.]+", text)
    if number is None:
        raise ValueError(f"{text!r} is not a number")
    suffix = text[number.end():].strip()
    value = float(number.group(0))
    if unit == "seconds":
        if not suffix:
            if value != 0:
                raise ValueError(f"{text!r} needs a unit (write e.g. 30m, 24h)")
            return 0.0
        return parse_duration(text.replace(" ", "")).total_seconds()
    if unit == "ratio":
        if suffix != "%":
            raise ValueError(f"{text!r} is a share: write it as a percentage, e.g. 5%")
        return value / 100
    if unit == "per_week":
        if suffix not in _RATES:
            raise ValueError(f"{text!r} is a frequency: write e.g. 2/week, 1/day, 3/month")
        return value * _RATES[suffix]
    if suffix not in ("", "/deployment"):
        raise ValueError(f"{text!r} is a count per deployment: write e.g. < 1")
    return value


def parse_target(text: str, unit: Unit) -> Target:
    """Parse ``text`` for a metric measured in ``unit``; ValueError says what is wrong."""
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a target (write e.g. '< 30m', '> 95%', '2-4/week')")
    if match.group("op"):
        return Target(text.strip(), match.group("op"), _figure(match.group("value"), unit))
    high_text = match.group("high")
    suffix = re.sub(r"^[\d.]+", "", high_text.strip())
    low, high = _figure(match.group("low") + suffix, unit), _figure(high_text, unit)
    if low > high:
        raise ValueError(f"{text!r}: the range runs backwards")
    return Target(text.strip(), "between", low, high)


def _default_targets() -> dict[str, str]:
    # the checklist's "Deployment Metrics" section; recovery_time and rework_rate are DORA's
    return {
        "deployment_duration": "< 30m",
        "downtime": "= 0",
        "rollback_rate": "< 5%",
        "mttr": "< 15m",
        "recovery_time": "< 1h",
        "success_rate": "> 95%",
        "deployment_frequency": "2-4/week",
        "lead_time": "< 24h",
        "change_failure_rate": "< 10%",
        "test_coverage": "> 80%",
        "bugs": "< 1",
        "security_issues": "= 0",
        "performance_regressions": "= 0",
        "customer_complaints": "< 5",
    }


class MetricsSettings(Model):
    """``metrics:`` — the targets each figure is graded against."""

    targets: dict[str, str] = Field(
        default_factory=_default_targets,
        description="Metric → target, e.g. lead_time: '< 24h', success_rate: '> 95%'. "
        "Metrics left out keep their default target.",
    )
    min_n: int = Field(
        10, ge=1, le=10_000,
        description="Fewest deployments (or changes, failures, incidents) a figure needs "
        "before it is graded; below it the figure is 'not enough data'.",
    )

    @field_validator("targets")
    @classmethod
    def _known_and_parseable(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name not in METRIC_UNITS:
                raise ValueError(f"{name!r} is not a metric (one of {', '.join(METRIC_UNITS)})")
            parse_target(text, METRIC_UNITS[name])
        return {**_default_targets(), **value}

    def parsed(self) -> dict[str, Target]:
        """Every target, parsed into base units."""
        return {name: parse_target(text, METRIC_UNITS[name]) for name, text in self.targets.items()}


EVENTS = (
    "deployment.started",
    "deployment.blocked",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.rolled_back",
    "approval.requested",
    "confirmation.requested",
    "freeze.started",
    "obligation.overdue",
)
"""The events releasegate notifies about; ``on:`` patterns may use ``*`` (``deployment.*``)."""


class NotifyRoute(Model):
    """``notify:`` — a channel (Slack, Teams, Mattermost, email, a webhook…) and its events."""

    name: str | None = Field(None, description="What the `notify` step calls this route "
                             "(`to: NAME`); optional.")

    url: str = Field(description="An apprise URL (slack://, mmost://, json://, mailto://…); "
                     "usually a secret reference. Never printed.")
    on: StrList = Field(
        default_factory=lambda: ["deployment.*"],
        description="Event patterns: deployment.*, approval.requested, obligation.overdue…",
    )
    template: str | None = Field(
        None, description="A Jinja2 file (relative to the config) replacing the built-in "
        "message for these events.",
    )


class Contact(Model):
    """``contacts:`` — an emergency contact of the checklist, reached through apprise."""

    role: str = Field(description="What the person is to the team: DevOps Lead, On-Call Engineer…")
    name: str | None = Field(None, description="Who it is (or a rotation's name).")
    reach: str = Field(description="An apprise URL that reaches them (PagerDuty, Slack DM, "
                       "email…); usually a secret reference.")
    availability: Literal["24/7", "business-hours"] = Field(
        "business-hours", description="24/7, or only within hours."
    )
    hours: Window = Field(
        default_factory=lambda: Window(days=["mon-fri"], hours=["09:00-18:00"], tz="UTC"),
        description="Business hours (days, hours, tz) when availability is business-hours.",
    )
    on: StrList = Field(
        default_factory=lambda: ["deployment.failed", "deployment.rolled_back", "obligation.overdue"],
        description="Event patterns this person is told about.",
    )


class NotificationSettings(Model):
    """``notifications:`` — how messages are sent: queue, retries, urgency."""

    queue_size: int = Field(100, ge=1, le=100_000, description="Messages waiting at most; "
                            "more are dropped (and recorded as dropped), never waited for.")
    retries: int = Field(3, ge=0, le=20, description="Extra attempts after a failed send.")
    retry_delay: Duration = Field(timedelta(seconds=2), description="First pause; doubles.")
    timeout: Duration = Field(timedelta(seconds=10), description="One send gives up after this.")
    urgent: StrList = Field(
        default_factory=lambda: ["deployment.failed", "deployment.rolled_back"],
        description="Events that reach contacts available now; other events wait for a "
        "contact's business hours.",
    )


class AnnouncementSettings(Model):
    """``announcement:`` — the checklist's deployment announcement, as the team writes it."""

    template: str | None = Field(
        None, description="A Jinja2 file (relative to the config) replacing the built-in "
        "announcement; it sees version, environment, deployed_at, duration, downtime, changes, "
        "verification and links. Used by show --announcement and the deployment.succeeded "
        "notification.",
    )
    links: dict[str, str] = Field(
        default_factory=dict, description="Name → URL listed under the announcement "
        "(monitoring, release notes…), after the environment's own url.",
    )


class BackupRetention(Model):
    """``backups:`` — how long backups stay, and where older ones go."""

    keep_days: int = Field(90, ge=1, description="Keep backups this many days (the checklist's 90).")
    archive: str | None = Field(
        None, description="A directory (relative to the config) or s3://bucket/prefix that "
        "older backups move to; unset: older backups are deleted.",
    )
