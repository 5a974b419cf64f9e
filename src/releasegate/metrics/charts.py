"""The report's charts (matplotlib, drawn off-screen), as SVG text and optionally PNG files.

matplotlib is imported only when a report is written: it takes longer to load than every
other command needs to run.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.metrics import format as fmt
from releasegate.metrics.model import Metric
from releasegate.metrics.report_data import OUTCOMES, Series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLORS = {
    "succeeded": "#2e7d32", "failed": "#c62828", "rolled back": "#ef6c00",
    "stopped at gates": "#9e9e9e", "rollback run": "#6a1b9a",
}
STATUS_COLORS = {"met": "#2e7d32", "missed": "#c62828", "not enough data": "#9e9e9e",
                 "no target": "#607d8b"}
TARGET_STYLE: dict[str, Any] = {"color": "#1565c0", "linestyle": "--", "linewidth": 1.2}
_HOUR_TICKS = ((0.25, "15m"), (1, "1h"), (4, "4h"), (12, "12h"), (24, "1d"), (72, "3d"),
               (168, "1w"), (336, "2w"), (720, "1mo"), (2160, "3mo"))
_ROLLING_WEEKS = 4
_OUTSIDE: dict[str, Any] = {"fontsize": 8, "frameon": False, "loc": "upper left",
                            "bbox_to_anchor": (1.0, 1.0)}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _week_labels(ax: Any, series: Series) -> None:
    step = max(1, len(series.weeks) // 12)
    ticks = list(range(0, len(series.weeks), step))
    ax.set_xticks(ticks, [series.weeks[i].strftime("%d %b") for i in ticks], rotation=45, ha="right")
    ax.set_xlim(-0.6, len(series.weeks) - 0.4)


def outcomes_chart(series: Series) -> Figure:
    """Runs per week, stacked by outcome."""
    fig = _figure(9, 3.6)
    ax = fig.add_subplot()
    bottom = [0] * len(series.weeks)
    x = list(range(len(series.weeks)))
    for name in OUTCOMES:
        counts = series.outcomes[name]
        if any(counts):
            ax.bar(x, counts, bottom=bottom, color=COLORS[name], label=name, width=0.8)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_title("Deployments per week, by outcome")
    ax.set_ylabel("runs")
    _week_labels(ax, series)
    ax.legend(**_OUTSIDE)
    ax.set_ylim(0, max([*bottom, 1]) * 1.1)
    return fig


def lead_time_chart(series: Series, metric: Metric, target_s: float | None) -> Figure:
    """Histogram of lead times (hours, log scale) with the median, p90 and target."""
    import numpy as np

    fig = _figure(9, 3.6)
    ax = fig.add_subplot()
    hours = [v / 3600 for v in series.lead_times_s if v > 0]
    if hours:
        low, high = max(min(hours), 0.05), max(max(hours), 1.0)
        bins = np.logspace(np.log10(low * 0.9), np.log10(high * 1.1), 30).tolist()
        ax.hist(hours, bins=bins, color="#90a4ae", edgecolor="white")
        ax.set_xscale("log")
        ticks = [(h, t) for h, t in _HOUR_TICKS if low * 0.9 <= h <= high * 1.1]
        ax.set_xticks([h for h, _ in ticks], [t for _, t in ticks])
        ax.minorticks_off()
        if metric.value is not None:
            ax.axvline(metric.value / 3600, color="#37474f", linewidth=1.5,
                       label=f"median {fmt.duration(metric.value)}")
        p90 = metric.extra.get("p90")
        if isinstance(p90, float):
            ax.axvline(p90 / 3600, color="#37474f", linestyle=":", linewidth=1.5,
                       label=f"p90 {fmt.duration(p90)}")
        if target_s:
            ax.axvline(target_s / 3600, **TARGET_STYLE, label=f"target {metric.target}")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, "no changes recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"Lead time for changes (first commit → live), {len(hours)} changes")
    ax.set_xlabel("time from first commit to live (log scale)")
    ax.set_ylabel("changes")
    return fig


def _rolling(series: Series) -> list[float | None]:
    """Change failure rate over the last four weeks at each week: a week's few deployments
    make a noisy rate on their own."""
    out: list[float | None] = []
    for i in range(len(series.weeks)):
        lo = max(0, i - _ROLLING_WEEKS + 1)
        failed = sum(series.failures[lo:i + 1])
        deployed = sum(series.deployed[lo:i + 1])
        out.append(failed / deployed if deployed else None)
    return out


def trend_chart(series: Series, cfr: Metric, cfr_target: float | None,
                recovery: Metric, recovery_target_s: float | None) -> Figure:
    """Change failure rate (weekly points, four-week rolling line), and each recovery time
    with its weekly median."""
    fig = _figure(9, 5.4)
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = list(range(len(series.weeks)))
    weekly = [(i, v * 100) for i, v in zip(x, series.change_failure_rate, strict=True) if v is not None]
    rolling = [(i, v * 100) for i, v in zip(x, _rolling(series), strict=True) if v is not None]
    if weekly:
        top.scatter([p[0] for p in weekly], [p[1] for p in weekly], color="#ef9a9a", s=18,
                    label="one week")
        top.plot([p[0] for p in rolling], [p[1] for p in rolling], color="#c62828", linewidth=1.8,
                 label=f"{_ROLLING_WEEKS}-week rolling")
    if cfr_target is not None:
        top.axhline(cfr_target * 100, **TARGET_STYLE, label=f"target {cfr.target}")
    top.set_ylim(0, max([p[1] for p in weekly] + [(cfr_target or 0) * 100, 10]) * 1.1)
    top.set_ylabel("% of deployments")
    top.set_title(f"Change failure rate (overall {fmt.value(cfr)})")
    top.legend(**_OUTSIDE)
    index = {w: i for i, w in enumerate(series.weeks)}
    if series.recoveries:
        bottom.scatter([index[w] for w, _ in series.recoveries],
                       [max(s / 60, 0.1) for _, s in series.recoveries],
                       color="#ef6c00", alpha=0.6, s=16, label="one recovery")
        med = [(i, m / 60) for i, m in zip(x, series.recovery_median_s, strict=True) if m is not None]
        bottom.scatter([p[0] for p in med], [max(p[1], 0.1) for p in med], color="#37474f",
                       marker="_", s=300, linewidths=2, label="weekly median")
        bottom.set_yscale("log")
    else:
        bottom.text(0.5, 0.5, "no failed deployments", ha="center", va="center",
                    transform=bottom.transAxes)
    if recovery_target_s:
        bottom.axhline(recovery_target_s / 60, **TARGET_STYLE, label=f"target {recovery.target}")
    bottom.legend(**_OUTSIDE)
    bottom.set_ylabel("minutes (log scale)")
    bottom.set_title(f"Failed deployment recovery time (median {fmt.value(recovery)})")
    _week_labels(bottom, series)
    return fig


_CAP = 2.5
"""The targets chart shows a figure up to 2.5 times its target; beyond, the bar stops."""


def targets_chart(metrics: list[Metric], figures: dict[str, float]) -> Figure:
    """One row per metric: its value as a bar, its target as a dashed line, coloured by
    met / missed / not enough data; scaled so the target sits at the same place."""
    fig = _figure(9, 0.45 * len(metrics) + 1.0)
    ax = fig.add_subplot()
    for row, metric in enumerate(reversed(metrics)):
        target = figures.get(metric.name)
        if metric.value is None or target is None:
            ratio = 0.0  # nothing to compare: only the label
        elif target == 0:  # "= 0": any value is as far off as the chart shows
            ratio = 0.0 if not metric.value else float("inf")
        else:
            ratio = metric.value / target
        shown = min(ratio, _CAP)
        if metric.status == "not enough data":
            # not graded: an outline, so a figure from a handful of runs does not read
            # like a measured miss (a grey bar at the cap looked like the worst figure)
            ax.barh(row, shown, height=0.6, fill=False, hatch="///",
                    edgecolor=STATUS_COLORS[metric.status], linewidth=0.8)
        else:
            ax.barh(row, shown, color=STATUS_COLORS[metric.status], height=0.6)
        label = f"{fmt.value(metric)} — {fmt.status(metric)}"
        if ratio > _CAP:
            label = "» " + label  # off the scale: the bar stops at the chart's edge
        ax.text(shown + 0.03, row, label, va="center", fontsize=8)
    ax.axvline(1.0, **TARGET_STYLE)
    ax.set_yticks(range(len(metrics)), [fmt.TITLES[m.name] for m in reversed(metrics)], fontsize=9)
    ax.set_xlim(0, 4.6)
    ax.set_xticks([0, 1, 2, _CAP], ["0", "target", "2×", f"{_CAP}×"])
    ax.set_title("Each figure against its target")
    return fig


def to_svg(fig: Figure) -> str:
    """The figure as inline SVG (no XML prolog, so it embeds in HTML)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def save_png(fig: Figure, path: Path) -> None:
    """The figure as a PNG file (to look at)."""
    fig.savefig(path, format="png")

