"""The checklist's deployment announcement, from a deployment's own records.

>>> facts = announcement_facts(conn, 42, links={"Monitoring": "https://sentry.io/…"})
>>> print(render_announcement(facts))            # or a team's Jinja2 template
✅ Production Deployment Complete
<BLANKLINE>
Version: v1.2.0
…
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Connection, select

from releasegate.errors import ConfigError, StoreError
from releasegate.metrics import format as fmt
from releasegate.metrics.changelog import entry_changes
from releasegate.metrics.sql import deployments, seconds_between, step_runs
from releasegate.store.facts_records import outages, release_changes, release_facts

TEMPLATE = """\
{{ "✅" if status == "succeeded" else "❌" }} {{ environment | title }} Deployment \
{{ "Complete" if status == "succeeded" else status | replace("_", " ") | title }}

Version: {{ "" if version.startswith("v") else "v" }}{{ version }}
Deployed: {{ deployed_at.strftime("%Y-%m-%d %H:%M UTC") if deployed_at else "not live" }}
Duration: {{ duration or "unknown" }}
Downtime: {{ downtime }}
{% if changes %}
Changes:
{% for change in changes %}- {{ change }}
{% endfor %}{% endif %}
Verification:
{% for check in verification %}{{ "✓" if check.ok else "✗" }} {{ check.text }}
{% else %}(no verification recorded)
{% endfor %}{% for name, url in links.items() %}
{{ name }}: {{ url }}{% endfor %}
"""
"""The built-in template: the checklist's "Production Deployment Complete" message."""

_ENV = SandboxedEnvironment(autoescape=False, trim_blocks=False)

@dataclass(frozen=True)
class Check:
    """One verification result: a step that proved something after the deploy."""

    ok: bool
    text: str


@dataclass(frozen=True)
class AnnouncementFacts:
    """What the announcement says, all from the records."""

    deployment_id: int
    environment: str
    version: str
    kind: str
    status: str
    deployed_at: datetime | None
    duration_s: float | None
    downtime_s: float
    changes: list[str] = field(default_factory=list)
    verification: list[Check] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)


def announcement_facts(
    conn: Connection, deployment_id: int, *, links: Mapping[str, str] | None = None
) -> AnnouncementFacts:
    """Read one deployment's announcement facts: its times, outages, release changes
    (the changelog entry recorded with the release, else the commit subjects) and the
    last attempt of every deploy, verify and post step."""
    d = conn.execute(select(deployments).where(deployments.c.id == deployment_id)).first()
    if d is None:
        raise StoreError(f"deployment {deployment_id} does not exist")
    downtime = conn.execute(
        select(seconds_between(outages.c.ended_at, outages.c.started_at))
        .where(outages.c.deployment_id == deployment_id)
    ).scalars().all()
    release = conn.execute(
        select(release_facts.c.id, release_facts.c.changelog).where(
            release_facts.c.environment == d.environment, release_facts.c.version == d.version,
            *([release_facts.c.project == d.project] if d.project else []),
        ).order_by(release_facts.c.id)
    ).first()
    changes: list[str] = []
    if release is not None:
        changes = entry_changes(release.changelog) if release.changelog else []
        if not changes:
            changes = list(conn.execute(
                select(release_changes.c.subject).where(release_changes.c.release_id == release.id)
                .order_by(release_changes.c.id)
            ).scalars())
    last: dict[str, Check] = {}
    for row in conn.execute(
        select(step_runs.c.step_id, step_runs.c.status, step_runs.c.summary)
        .where(step_runs.c.deployment_id == deployment_id,
               step_runs.c.phase.in_(("deploy", "verify", "post")))
        .order_by(step_runs.c.id)
    ):
        if row.status != "skipped":
            last[row.step_id] = Check(row.status in ("succeeded", "warned"), row.summary)
    duration = (d.finished_at - d.started_at).total_seconds() if d.finished_at and d.started_at else None
    return AnnouncementFacts(
        deployment_id=deployment_id, environment=d.environment, version=d.version, kind=d.kind,
        status=d.status, deployed_at=d.finished_at if d.status == "succeeded" else None,
        duration_s=duration, downtime_s=float(sum(downtime)), changes=changes,
        verification=list(last.values()), links=dict(links or {}),
    )


def render_announcement(facts: AnnouncementFacts, template: str | None = None) -> str:
    """The announcement text: the built-in :data:`TEMPLATE` or a team's own Jinja2 text,
    which sees every field of ``facts`` plus ``duration`` and ``downtime`` as words."""
    try:
        compiled = _ENV.from_string(template or TEMPLATE)
        text = compiled.render(
            **{k: getattr(facts, k) for k in facts.__dataclass_fields__},
            duration=fmt.duration(facts.duration_s) if facts.duration_s is not None else None,
            downtime="None (zero-downtime deployment)" if facts.downtime_s == 0
            else fmt.duration(facts.downtime_s),
        )
    except TemplateError as exc:
        raise ConfigError(f"announcement template: {exc}") from exc
    return text.rstrip() + "\n"
