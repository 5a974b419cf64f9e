"""write_report over a synthetic history: one self-contained HTML file with its charts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.metrics.history import History
from tests.metrics.synthetic import thirteen_weeks

from releasegate.metrics.compute import compute_metrics
from releasegate.metrics.report import write_report


def test_a_report_with_its_charts(history: History, tmp_path: Path) -> None:
    start = history.clock.now
    thirteen_weeks(history)
    period = {"project": "shop", "environment": "production", "since": start,
              "until": start + timedelta(weeks=13)}
    path = write_report(history.store._engine, tmp_path / "out", png=True, **period)
    html = path.read_text(encoding="utf-8")
    assert path.name == f"report-shop-production-{period['until']:%Y%m%d}.html"
    assert html.count("<svg") == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//|[\w./-]+\.(png|css|js))""", html)  # self-contained
    for title in ("Deployments per week, by outcome", "Lead time for changes",
                  "Change failure rate (overall", "Each figure against its target"):
        assert title in html
    figures = compute_metrics(history.store._engine, **period).metrics  # type: ignore[arg-type]
    assert f"<td>{figures['success_rate'].n}</td>" in html
    assert "State of DevOps 2024" in html
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
