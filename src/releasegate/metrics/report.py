"""``write_report``: one self-contained HTML file — the figures against their targets, and
charts inlined as SVG (deployments per week by outcome, the lead-time distribution, the
change failure rate and recovery time trends, each figure against its target)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment
from sqlalchemy import Connection, Engine

from releasegate.config.records_models import MetricsSettings
from releasegate.errors import ConfigError
from releasegate.metrics import charts
from releasegate.metrics import format as fmt
from releasegate.metrics.bands import REPORTS
from releasegate.metrics.compute import compute_metrics
from releasegate.metrics.model import MetricsReport
from releasegate.metrics.queries import Scope
from releasegate.metrics.report_data import Series, read_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>releasegate report — {{ title }}</title>
<style>
 body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #212121; }
 table { border-collapse: collapse; width: 100%; margin: 1em 0 2em; }
 th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e0e0e0; }
 td.met { color: #2e7d32; } td.missed { color: #c62828; font-weight: 600; }
 td.not-enough-data, td.no-target { color: #757575; }
 figure { margin: 1.5em 0; } svg { max-width: 100%; height: auto; }
 .muted { color: #757575; font-size: 12px; }
</style></head><body>
<h1>Deployment records — {{ title }}</h1>
<p>{{ since }} to {{ until }} (UTC) · generated {{ generated }} · a figure is graded from
{{ min_n }} observations on; below that it is <em>not enough data</em>.</p>
<table><thead><tr><th>Figure</th><th>Value</th><th>Target</th><th>Status</th><th>n</th>
{% for r in reports %}<th>{{ r }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr><td>{{ row.title }}</td><td>{{ row.value }}</td><td>{{ row.target }}</td>
<td class="{{ row.css }}">{{ row.status }}</td><td>{{ row.n }}</td>
{% for r in reports %}<td>{{ row.dora.get(r) or "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% for svg in charts %}<figure>{{ svg | safe }}</figure>
{% endfor %}
<p class="muted">Every term is defined in releasegate's docs/metrics.md. DORA levels: the
software delivery performance tables of the Accelerate State of DevOps reports named in
the columns.</p>
</body></html>
"""


def draw_charts(
    report: MetricsReport, series: Series, settings: MetricsSettings
) -> dict[str, Figure]:
    """The report's charts by name (the HTML report and the dashboard's metrics page)."""
    figures = {name: t.figure for name, t in settings.parsed().items()}
    m = report.metrics
    return {
        "outcomes": charts.outcomes_chart(series),
        "lead-time": charts.lead_time_chart(series, m["lead_time"], figures.get("lead_time")),
        "trends": charts.trend_chart(series, m["change_failure_rate"], figures.get("change_failure_rate"),
                                     m["recovery_time"], figures.get("recovery_time")),
        "targets": charts.targets_chart(list(m.values()), figures),
    }


def write_report(
    conn: Connection | Engine,
    out_dir: Path,
    *,
    project: str | None,
    environment: str | None,
    since: datetime,
    until: datetime,
    targets: MetricsSettings | None = None,
    include_unlabelled: bool = False,
    png: bool = False,
) -> Path:
    """Write ``report-<project>-<environment>-<until>.html`` into ``out_dir`` and return
    its path; ``png`` also writes each chart as a PNG beside it."""
    settings = targets or MetricsSettings()
    if isinstance(conn, Engine):
        with conn.connect() as opened:
            return write_report(opened, out_dir, project=project, environment=environment,
                                since=since, until=until, targets=settings,
                                include_unlabelled=include_unlabelled, png=png)
    report = compute_metrics(conn, project=project, environment=environment, since=since,
                             until=until, targets=settings, include_unlabelled=include_unlabelled)
    series = read_series(conn, Scope(project, environment, since, until, include_unlabelled))
    drawn = draw_charts(report, series, settings)
    m = report.metrics
    title = f"{project or 'all projects'} · {environment or 'all environments'}"
    slug = f"{project or 'all'}-{environment or 'all'}-{until:%Y%m%d}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if png:
            for name, fig in drawn.items():
                charts.save_png(fig, out_dir / f"report-{slug}-{name}.png")
        rows = [{
            "title": fmt.TITLES[x.name], "value": fmt.value(x), "target": x.target or "—",
            "status": fmt.status(x), "css": x.status.replace(" ", "-"), "n": x.n,
            "dora": x.extra.get("dora") or {},
        } for x in m.values()]
        html = Environment(autoescape=True).from_string(_PAGE).render(
            title=title, since=f"{since:%Y-%m-%d %H:%M}", until=f"{until:%Y-%m-%d %H:%M}",
            generated=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", min_n=settings.min_n,
            rows=rows, reports=list(REPORTS), charts=[charts.to_svg(f) for f in drawn.values()],
        )
        path = out_dir / f"report-{slug}.html"
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out_dir}: {exc.strerror}") from exc
    return path
