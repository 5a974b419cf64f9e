"""The dashboard's metrics page: the figures of ``releasegate metrics`` as rows of text,
and the HTML report's charts as SVG — one read of the store, drawn off-screen.

Kept apart from :mod:`releasegate.service.metrics` because it loads matplotlib (slow to
import), which no command needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releasegate.identity import Actor
from releasegate.service.metrics import Scope, sql_engine
from releasegate.service.workspace import Workspace

CHART_TEXT = {
    "outcomes": "Deployments per week, stacked by outcome",
    "lead-time": "Lead time for changes: how many changes took how long from first commit to live",
    "trends": "Change failure rate and time to restore, week by week, against their targets",
    "targets": "Each figure against its target",
}
"""What each chart shows, for the page's text alternative."""


@dataclass(frozen=True)
class FigureRow:
    """One figure as the page prints it."""

    name: str
    title: str
    value: str
    target: str
    status: str
    n: int
    dora: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsView:
    """What the metrics page shows for one scope."""

    scope: dict[str, Any]
    rows: list[FigureRow]
    charts: dict[str, str]
    """Chart name → SVG text."""
    levels: list[str]
    """The DORA reports the ``dora`` columns name."""


def metrics_view(ws: Workspace, actor: Actor, where: Scope) -> MetricsView:
    """The figures of ``where`` graded against ``metrics.targets``, and their charts."""
    from releasegate.metrics import charts, queries
    from releasegate.metrics import format as fmt
    from releasegate.metrics.bands import REPORTS
    from releasegate.metrics.compute import compute_metrics
    from releasegate.metrics.report import draw_charts
    from releasegate.metrics.report_data import read_series

    settings = ws.config.metrics
    with sql_engine(ws.store).connect() as conn:
        report = compute_metrics(
            conn, project=where.project, environment=where.environment, since=where.since,
            until=where.until, targets=settings, include_unlabelled=where.include_unlabelled,
        )
        series = read_series(conn, queries.Scope(
            where.project, where.environment, where.since, where.until, where.include_unlabelled
        ))
    drawn = draw_charts(report, series, settings)
    rows = [
        FigureRow(
            m.name, fmt.TITLES[m.name], fmt.value(m), m.target or "—", fmt.status(m), m.n,
            _levels(m.extra.get("dora")),
        )
        for m in report.metrics.values()
    ]
    scope = report.to_json()["scope"]
    assert isinstance(scope, dict)
    return MetricsView(dict(scope), rows, {k: charts.to_svg(f) for k, f in drawn.items()}, list(REPORTS))


def _levels(found: object) -> dict[str, Any]:
    return dict(found) if isinstance(found, dict) else {}


def has_verification(ws: Workspace, actor: Actor, id: int) -> bool:
    """Whether deployment ``id`` kept verification samples (its page then shows the chart)."""
    return bool(ws.store.list_samples(id))


def verification_svg(ws: Workspace, actor: Actor, id: int) -> str:
    """Deployment ``id``'s verification chart (``releasegate show --chart``) as SVG text."""
    import tempfile
    from pathlib import Path

    from releasegate.service import verify

    with tempfile.TemporaryDirectory(prefix="releasegate-chart-") as folder:
        path = Path(folder) / f"deployment-{id}.svg"
        verify.chart(ws, actor, id, path)
        return path.read_text(encoding="utf-8")


def view_key(ws: Workspace, actor: Actor, where: Scope) -> tuple[object, ...]:
    """What a metrics view depends on: its scope to the minute and the newest recorded
    event (every deployment, incident and change is one), so a cached view with the same
    key shows the same figures; drawing them again costs most of a second."""
    head = ws.store.chain_head().event_id
    since = where.since.replace(second=0, microsecond=0)
    until = where.until.replace(second=0, microsecond=0)
    return (where.project, where.environment, since, until, where.include_unlabelled, head)
