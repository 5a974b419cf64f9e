"""Pydantic models of ``releasegate.yaml``.

The models check shape and types only. Cross-references (``needs`` pointing to a step,
a freeze naming a calendar, ``with`` matching a driver's options) are checked by
:func:`releasegate.config.loader.load_config`, which knows where each value sits in the
file. Secret references (``${env:NAME}``, ``${file:PATH}``) stay unresolved here.
"""

# No ``from __future__ import annotations`` in this module: pydantic would then evaluate
# every annotation from its text, one compile() each (~15 ms of every command's start-up).

import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from releasegate.config.types import Duration, Identifier, Name, StrList

Kind = Literal["normal", "major", "hotfix", "rollback"]
OnFailure = Literal["stop", "rollback", "warn"]
Phase = Literal["gates", "deploy", "verify", "post"]
Severity = Literal["low", "medium", "high", "critical"]

KINDS: tuple[Kind, ...] = ("normal", "major", "hotfix", "rollback")
DEFAULT_VERSION_PATTERN = r"[0-9A-Za-z][0-9A-Za-z._+-]{0,127}"


def _no_items() -> list[Any]:
    """An empty list: a field's default. pydantic reads a default factory's signature, and
    ``inspect.signature(list)`` parses ``list``'s text signature (~0.15 ms, 26 fields)."""
    return []


def _kinds(*kinds: Kind) -> list[Kind]:
    return list(kinds)


class Model(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable.

    Validators are built on first use (``defer_build``): a command that never reads a
    config does not pay the ~20 ms of building them.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, defer_build=True
    )


class Step(Model):
    """One gate, deploy or rollback step: a driver (``uses``) with its options (``with``)."""

    id: Identifier = Field(description="Unique id of the step within its environment.")
    name: str | None = Field(None, description="A human title; defaults to the id.")
    uses: str = Field(description="The driver that performs it, e.g. command, http-check.")
    with_: dict[str, JsonValue] = Field(
        default_factory=dict, alias="with", description="The driver's options."
    )
    needs: StrList = Field(default_factory=_no_items, description="Ids of steps that must succeed first.")
    if_: str | None = Field(
        None,
        alias="if",
        description="Run only when this expression is true, e.g. \"kind == 'major'\".",
    )
    timeout: Duration = Field(timedelta(minutes=10), description="Give up after this long.")
    retries: int = Field(0, ge=0, le=100, description="Extra attempts after a failure.")
    retry_delay: Duration = Field(
        timedelta(seconds=1), description="First backoff delay; doubles each retry, with jitter."
    )
    on_failure: OnFailure = Field("stop", description="stop, rollback or warn.")
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this step proves."
    )

    @property
    def title(self) -> str:
        return self.name or self.id


class TargetRef(Model):
    """How a version is deployed to an environment."""

    uses: str = Field(description="The target driver: local, command, ...")
    with_: dict[str, JsonValue] = Field(default_factory=dict, alias="with")


class Window(Model):
    """Days and hours in a time zone when deployments may start."""

    days: StrList = Field(
        default_factory=lambda: ["mon-sun"],
        description="Days or ranges: mon, tue-thu, weekdays, weekend.",
    )
    hours: StrList = Field(
        default_factory=lambda: ["00:00-24:00"],
        description="One or more HH:MM-HH:MM ranges, local to tz.",
    )
    tz: str = Field("UTC", description="IANA time zone, e.g. Asia/Kolkata.")


class HolidaySource(Model):
    """Public holidays from the ``holidays`` package."""

    country: str = Field(description="ISO 3166 code, e.g. IN, US, DE.")
    subdiv: str | None = Field(None, description="State or province code.")
    categories: StrList = Field(
        default_factory=lambda: ["public"],
        description="Holiday categories, e.g. public, optional (India's New Year is optional).",
    )
    only: StrList = Field(
        default_factory=_no_items, description="Keep only holidays whose name contains one of these."
    )


class PeriodEnd(Model):
    """The last days of each month or quarter."""

    last_days: int = Field(ge=1, le=31)
    business_days: bool = Field(False, description="Count business days (Mon-Fri) instead.")


class DateRange(Model):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    reason: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "DateRange":
        if self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class Calendar(Model):
    """A named set of freeze days."""

    reason: str | None = Field(None, description="Said when this calendar blocks a deployment.")
    holidays: HolidaySource | None = None
    dates: list[date | DateRange] = Field(default_factory=_no_items)
    month_end: PeriodEnd | None = None
    quarter_end: PeriodEnd | None = None
    hard: bool = Field(
        False, description="A hard freeze: the emergency path cannot override it."
    )
    tz: str = Field("UTC", description="Time zone in which the freeze days are whole days.")


class Soak(Model):
    """How long a version must have run in the source environment, per release kind."""

    normal: Duration = timedelta(hours=2)
    major: Duration = timedelta(hours=24)
    hotfix: Duration = timedelta(0)
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this proves."
    )


class Approvals(Model):
    roles: StrList = Field(default_factory=_no_items, description="Roles that must each sign.")
    distinct_people: bool = Field(True, description="Each role signed by a different person.")
    self_approval: bool = Field(False, description="May the deployer be one of the approvers?")
    kinds: list[Kind] = Field(
        default_factory=lambda: _kinds("normal", "major"), description="Release kinds that need them."
    )
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this proves."
    )


_NUMBER = r"(?P<number>\d+(?:\.\d+)?)\s*"
_UNIT = r"(?P<unit>ms|s|%|KB|MB|GB)"
VALUE_PATTERN = re.compile(rf"^\s*{_NUMBER}{_UNIT}?\s*$")
"""A metric value: ``120ms``, ``0.5%``, ``512MB``, ``3``."""
CONDITION_PATTERN = re.compile(
    rf"^\s*(?P<op><=|>=|==|!=|<|>|=)\s*{_NUMBER}(?:{_UNIT}|(?P<relative>x\s*baseline))?\s*$"
)
"""A check or trigger: ``< 1%``, ``<= 200ms``, ``> 2x baseline``, ``== 0``."""

NoData = Literal["pass", "inconclusive", "fail"]


def _condition(text: str) -> str:
    if not CONDITION_PATTERN.match(text):
        raise ValueError(
            f"{text!r} is not a condition (write e.g. < 1%, < 200ms, < 2x baseline, == 0)"
        )
    return text


def _value(text: str) -> str:
    if not VALUE_PATTERN.match(text):
        raise ValueError(f"{text!r} is not a metric value (write e.g. 120ms, 0.5%, 512MB, 3)")
    return text


Condition = Annotated[str, AfterValidator(_condition)]
MetricValue = Annotated[str, AfterValidator(_value)]


class MetricSettings(Model):
    """Settings of one metric of a stage that override the stage's own."""

    floor: MetricValue | None = Field(
        None,
        description='Relative checks: a value the metric may always reach whatever the '
        'baseline, e.g. "0.5%"; against a zero baseline only this is allowed (default 0).',
    )
    no_data: NoData | None = Field(None, description="Overrides the stage's no_data.")
    inconclusive_limit: int | None = Field(None, ge=0, description="Overrides the stage's.")
    error_limit: int | None = Field(None, ge=0, description="Overrides the stage's.")
    min_samples: int | None = Field(None, ge=1, description="Overrides the stage's.")
    dry_run: bool | None = Field(None, description="Evaluate and record, never act.")


class VerifyStage(Model):
    """A window after the deploy during which metrics are checked."""

    stage: Identifier
    for_: Duration = Field(alias="for")
    every: Duration = Field(timedelta(seconds=15))
    check: dict[str, Condition] = Field(
        default_factory=dict, description='Metric → condition, e.g. p95: "< 500ms".'
    )
    per_metric: dict[str, MetricSettings] = Field(
        default_factory=dict, description="Metric → settings overriding the stage's."
    )
    failures_allowed: int = Field(0, ge=0)
    source: str | None = Field(None, description="Metric source; the built-in probe by default.")
    with_: dict[str, JsonValue] = Field(
        default_factory=dict, alias="with", description="The source's options."
    )
    sources: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict,
        description="More sources read in the same intervals: name → options.",
    )
    inconclusive_limit: int = Field(
        0, ge=0, description="Inconclusive intervals of a metric tolerated before the stage is."
    )
    error_limit: int = Field(
        4, ge=0, description="Consecutive intervals a source may be unreadable."
    )
    no_data: NoData = Field("inconclusive", description="How an interval without data counts.")
    min_samples: int = Field(
        20, ge=1, description="Observations both sides need before a relative check counts."
    )
    baseline: dict[str, MetricValue] = Field(
        default_factory=dict, description='Fixed baseline values, e.g. {p95: "120ms"}.'
    )
    dry_run: bool = Field(False, description="Evaluate and record, never act.")
    on_fail: Literal["rollback", "pause"] = Field("rollback", description="What a failed stage does.")
    confirm_by: StrList = Field(
        default_factory=lambda: ["on-call"],
        description="Roles asked to decide when the stage is inconclusive.",
    )
    confirm_within: Duration = Field(
        timedelta(minutes=30), description="After this long without a decision, roll back."
    )
    checklist: StrList = Field(default_factory=_no_items)


class Rollback(Model):
    when: dict[str, Condition] = Field(
        default_factory=dict, description='Conditions that trigger rollback, e.g. error_rate: "> 5%".'
    )
    automatic: bool = True
    steps: list[Step] = Field(default_factory=_no_items, description="Extra steps run on rollback.")
    restore_backup: Literal["never", "if-irreversible", "always"] = "if-irreversible"
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this proves."
    )


class Environment(Model):
    url: str | None = Field(None, description="Base URL of the deployed service.")
    target: TargetRef | None = None
    window: Window | list[Window] | None = None
    freezes: StrList = Field(
        default_factory=_no_items,
        description="Calendar names, plus the built-ins 'incidents' and 'campaigns'.",
    )
    promote_from: Identifier | None = None
    soak: Soak | None = None
    approvals: Approvals | None = None
    concurrency: int = Field(4, ge=1, le=256, description="Steps run at once.")
    gates: list[Step] = Field(default_factory=_no_items)
    deploy: list[Step] = Field(default_factory=_no_items)
    verify: list[VerifyStage] = Field(default_factory=_no_items)
    rollback: Rollback = Field(default_factory=lambda: Rollback.model_construct())
    post: list[Step] = Field(default_factory=_no_items, description="Steps after verification.")
    checklist: StrList = Field(
        default_factory=_no_items,
        description="Ids of the checklist items this environment's window and freezes prove.",
    )
    github: "GitHubSettings | None" = Field(
        None, description="GitHub for this environment: Deployments mirrored (docs/ci.md)."
    )

    @property
    def windows(self) -> list[Window]:
        if self.window is None:
            return []
        if isinstance(self.window, Window):
            return [self.window]
        return list(self.window)


class User(Model):
    name: str | None = None
    roles: StrList = Field(default_factory=_no_items)


class Confirmation(Model):
    """A checklist item a person signs: who may, and what it covers."""

    id: Identifier
    text: str
    by: StrList = Field(default_factory=_no_items, description="Roles allowed to sign.")
    environments: StrList = Field(default_factory=_no_items, description="Empty means every one.")
    phase: Phase = Field(
        "gates",
        description="gates: signed while the gates run; deploy: before the deploy phase "
        "changes anything; verify/post: recorded, never waited for.",
    )
    kinds: list[Kind] = Field(default_factory=lambda: _kinds("normal", "major", "hotfix"))
    required: bool = Field(
        True, description="A required gates/deploy confirmation holds the deployment until signed."
    )
    wait: Duration = Field(
        timedelta(hours=1), description="How long a deployment waits for the signature."
    )
    checklist: StrList = Field(default_factory=_no_items)


class Emergency(Model):
    """The hotfix path of the checklist."""

    roles: StrList = Field(default_factory=lambda: ["on-call", "devops-lead"])
    override_freeze_roles: StrList = Field(default_factory=lambda: ["admin"])
    gates: StrList = Field(
        default_factory=_no_items, description="Gate ids that still run on the fast track."
    )
    staging_verify_max: Duration = timedelta(minutes=15)
    monitor_for: Duration = timedelta(hours=2)
    postmortem_within: Duration = timedelta(hours=24)
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this proves."
    )


class MatrixRow(Model):
    severity: Severity
    min_impact: float = Field(0, ge=0, le=100, description="Share of users affected, percent.")
    action: str
    within: Duration


def _default_matrix() -> list[MatrixRow]:
    row = MatrixRow.model_construct  # valid values: building the validator is not needed
    return [
        row(severity="critical", min_impact=0.0, action="immediate rollback", within=timedelta(minutes=5)),
        row(severity="high", min_impact=0.0, action="quick rollback", within=timedelta(minutes=15)),
        row(severity="medium", min_impact=0.0, action="evaluate fix vs rollback", within=timedelta(minutes=30)),
        row(severity="low", min_impact=0.0, action="fix forward", within=timedelta(hours=24)),
    ]


class Incidents(Model):
    freeze_at: Severity = Field("high", description="Open incidents this severe freeze deploys.")
    matrix: list[MatrixRow] = Field(default_factory=_default_matrix)
    checklist: StrList = Field(
        default_factory=_no_items, description="Ids of the checklist items this proves."
    )


class Campaigns(Model):
    buffer: Duration = timedelta(hours=2)


class Sso(Model):
    """A single-sign-on proxy in front of ``releasegate serve`` (oauth2-proxy and the like)."""

    header: str = Field(
        "X-Forwarded-User",
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$",
        description="The request header in which the proxy names the signed-in user.",
    )
    trusted_proxies: Annotated[list[str], Field(min_length=1)] = Field(
        description="Addresses or CIDR blocks of the proxies: the header is believed only "
        "on a request whose peer address is in one of them, and ignored otherwise.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR block") from None
        return value


class Identity(Model):
    """How releasegate knows who is acting."""

    mode: Literal["trust", "os", "ssh"] = Field(
        "trust",
        description="trust: --as / RELEASEGATE_USER, recorded as unverified; os: the "
        "operating-system user, --as another name is refused; ssh: the OS user, whose "
        "approvals and confirmations carry an SSH signature.",
    )
    allowed_signers: str | None = Field(
        None,
        description="mode ssh: the allowed_signers file (ssh-keygen format) in the "
        "repository, relative to the config file.",
    )
    os_users: dict[str, str] = Field(
        default_factory=dict,
        description="modes os and ssh: operating-system user → name in users, for people "
        "whose login differs from their releasegate name.",
    )
    sso: Sso | None = Field(
        None,
        description="releasegate serve behind a single-sign-on proxy: a header naming the "
        "user, believed from the listed proxy addresses only.",
    )


class Samples(Model):
    """How long verification samples are kept."""

    keep: Duration = Field(
        timedelta(days=90),
        description="Samples older than this are deleted when a deployment ends, except "
        "those of each environment's newest successful deployment (the baseline).",
    )


class Overrides(Model):
    """Break-glass: who may deploy past named policy rules (``deploy --override``)."""

    roles: StrList = Field(default_factory=lambda: ["admin"])


class AuditSettings(Model):
    """Where the event chain's head is anchored outside the database."""

    anchor: str = Field(
        "git",
        description="git: a ref in the config's git repository; file:PATH: a file "
        "(relative to the config file); none: not anchored.",
    )

    @field_validator("anchor")
    @classmethod
    def _known_anchor(cls, value: str) -> str:
        if value in ("git", "none") or (value.startswith("file:") and value[5:].strip()):
            return value
        raise ValueError(f"{value!r} is not git, file:PATH or none")


class Versions(Model):
    """Which strings may name a version (checked by ``releasegate.config.versions``)."""

    pattern: str = Field(
        DEFAULT_VERSION_PATTERN,
        max_length=1000,
        description="A Python regular expression a whole version must match.",
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value


class Config(Model):
    """The whole of ``releasegate.yaml``.

    A section left out gets its model's defaults through ``model_construct()``: the same
    values as ``Section()`` (defaults are not validated either way), without building that
    model's own validator, which a command would otherwise pay for each section it omits.
    """

    schema_: str | None = Field(None, alias="$schema")
    project: str = Field(min_length=1, max_length=200)
    users: dict[Name, User] = Field(default_factory=dict, description="Who holds which roles.")
    calendars: dict[Identifier, Calendar] = Field(default_factory=dict)
    environments: dict[Identifier, Environment]
    confirmations: list[Confirmation] = Field(default_factory=_no_items)
    notify: "list[NotifyRoute]" = Field(
        default_factory=_no_items, description="Where events are announced (apprise URLs)."
    )
    contacts: "list[Contact]" = Field(
        default_factory=_no_items, description="The emergency contacts: who is reached, how, when."
    )
    notifications: "NotificationSettings" = Field(default_factory=lambda: NotificationSettings.model_construct())
    emergency: Emergency = Field(default_factory=lambda: Emergency.model_construct())
    incidents: Incidents = Field(default_factory=lambda: Incidents.model_construct())
    campaigns: Campaigns = Field(default_factory=lambda: Campaigns.model_construct())
    metrics: "MetricsSettings" = Field(default_factory=lambda: MetricsSettings.model_construct())
    backups: "BackupRetention" = Field(default_factory=lambda: BackupRetention.model_construct())
    announcement: "AnnouncementSettings" = Field(default_factory=lambda: AnnouncementSettings.model_construct())
    checklist: str | None = Field(
        None, description="Path of the markdown checklist this config implements."
    )
    identity: Identity = Field(default_factory=lambda: Identity.model_construct())
    permissions: dict[str, StrList] = Field(
        default_factory=dict,
        description="Action → roles that may perform it, replacing that action's default; "
        "'*' means anyone listed in users.",
    )
    overrides: Overrides = Field(default_factory=lambda: Overrides.model_construct())
    samples: Samples = Field(default_factory=lambda: Samples.model_construct())
    audit: AuditSettings = Field(default_factory=lambda: AuditSettings.model_construct())
    versions: Versions = Field(default_factory=lambda: Versions.model_construct())

    def roles_of(self, user: str) -> set[str]:
        found = self.users.get(user)
        return set(found.roles) if found else set()


# the records' models build on Model and Window above; Config refers to them by name
from releasegate.config.github_models import GitHubSettings  # noqa: E402
from releasegate.config.records_models import (  # noqa: E402
    AnnouncementSettings,
    BackupRetention,
    Contact,
    MetricsSettings,
    NotificationSettings,
    NotifyRoute,
)

Environment.model_rebuild()
Config.model_rebuild()
