"""A chart of a verification: latency percentiles and error rate across the stages, with
each stage's thresholds and the baseline drawn in (PNG or SVG, by the file's suffix).

Matplotlib is used through its object API with the Agg renderer, never pyplot: no global
state, safe in a server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.config.models import VerifyStage
from releasegate.errors import ConfigError
from releasegate.verify.baseline import Baseline
from releasegate.verify.conditions import Condition
from releasegate.verify.result import VerificationResult
from releasegate.verify.samples import StageSample

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not before
    from matplotlib.axes import Axes

LATENCY = {"p50": "#1f77b4", "p95": "#ff7f0e", "p99": "#d62728"}
ERRORS = {"error_rate": "#9467bd"}
Thresholds = Mapping[str, Mapping[str, str]]
"""Stage → metric → condition (a stage's ``check``)."""


def thresholds_of(stages: Sequence[VerifyStage]) -> dict[str, dict[str, str]]:
    """The ``check`` of each stage, for :func:`render_chart`."""
    return {s.stage: dict(s.check) for s in stages}


@dataclass(frozen=True)
class _Span:
    stage: str
    start: float
    end: float


def _spans(samples: Sequence[StageSample], t0: float) -> list[_Span]:
    spans: dict[str, _Span] = {}
    for s in samples:
        old = spans.get(s.stage)
        start, end = s.start - t0, s.at - t0
        spans[s.stage] = _Span(s.stage, min(start, old.start if old else start), max(end, old.end if old else end))
    return sorted(spans.values(), key=lambda sp: sp.start)


def _bound(metric: str, text: str, unit: str, baseline: Baseline | None) -> float | None:
    cond = Condition.parse(metric, text, "ms" if unit == "ms" else "%")
    if not cond.relative:
        return cond.number
    figure = baseline.figure(metric) if baseline else None
    return None if figure is None else cond.number * figure.value


def _breaches(samples: Sequence[StageSample], t0: float, metric: str, unit: str,
              thresholds: Thresholds, baseline: Baseline | None) -> list[tuple[float, float]]:
    """The points of ``metric`` that break their stage's condition."""
    found: list[tuple[float, float]] = []
    for s in samples:
        text = thresholds.get(s.stage, {}).get(metric)
        if text is None or metric not in s.values or s.error is not None:
            continue
        bound = _bound(metric, text, unit, baseline)
        cond = Condition.parse(metric, text, "ms" if unit == "ms" else "%")
        if bound is not None and not cond.holds(s.values[metric], bound):
            found.append((s.at - t0, s.values[metric]))
    return found


def _scale(ax: Axes, drawn: list[float], *, log: bool) -> None:
    """Room above the highest line for its label; latencies on a log scale, so that a
    10 ms baseline and a 1000 ms threshold are both readable."""
    top = max(drawn, default=1.0) or 1.0
    if log and any(v > 0 for v in drawn):
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ax.set_yscale("log")
        low = min(v for v in drawn if v > 0) / 1.6
        ax.set_ylim(low, top * 1.8)
        plain = FuncFormatter(lambda v, _pos: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        # minor ticks are labelled only within a decade or so: across several decades their
        # labels (2, 3 … 9 of each) run into each other
        ax.yaxis.set_minor_formatter(plain if top * 1.8 / low < 20 else NullFormatter())
    else:
        ax.set_ylim(0, top * 1.25)


def _panel(ax: Axes, samples: Sequence[StageSample], t0: float, metrics: Mapping[str, str], unit: str,
           spans: list[_Span], thresholds: Thresholds, baseline: Baseline | None, scale: float) -> None:
    drawn: list[float] = []
    for metric, color in metrics.items():
        points = sorted((s.at - t0, s.values[metric]) for s in samples if metric in s.values and s.error is None)
        drawn += [y for _, y in points]
        if points:
            xs = [x / scale for x, _ in points]
            ax.plot(xs, [y for _, y in points], color=color, marker="o", markersize=3, linewidth=1.4, label=metric)
        bad = _breaches(samples, t0, metric, unit, thresholds, baseline)
        if bad:
            ax.plot([x / scale for x, _ in bad], [y for _, y in bad], linestyle="none", marker="x",
                    markersize=8, markeredgewidth=2, color="#cc0000")
        figure = baseline.figure(metric) if baseline else None
        if figure is not None:
            drawn.append(figure.value)
            ax.axhline(figure.value, color=color, linestyle=":", linewidth=1, alpha=0.8,
                       label=f"{metric} baseline")
        for span in spans:
            text = thresholds.get(span.stage, {}).get(metric)
            if text is None:
                continue
            bound = _bound(metric, text, unit, baseline)
            if bound is None:
                continue
            drawn.append(bound)
            ax.hlines(bound, span.start / scale, span.end / scale, colors=color, linestyles="--", linewidth=1.2)
            ax.annotate(f"{metric} {text}", (span.end / scale, bound), fontsize=7, color=color,
                        ha="right", va="bottom", xytext=(-2, 2), textcoords="offset points")
    for s in samples:
        if s.error is not None or s.caveat is not None:
            ax.axvspan((s.start - t0) / scale, (s.at - t0) / scale, color="#bbbbbb" if s.caveat else "#f4cccc", alpha=0.5, linewidth=0)
    for span in spans[1:]:
        ax.axvline(span.start / scale, color="#555555", linewidth=0.8)
    _scale(ax, drawn, log=unit == "ms")
    ax.grid(True, alpha=0.3, which="both" if unit == "ms" else "major")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0)


def render_chart(
    samples: Sequence[StageSample],
    thresholds: Thresholds,
    baseline: Baseline | None,
    path: Path,
    *,
    title: str | None = None,
    result: VerificationResult | None = None,
) -> Path:
    """Draw ``samples`` to ``path`` (``.png`` or ``.svg``) and return it.

    Shaded intervals: red where a source was unreadable, grey where the figures were the
    observer's (the probe behind its schedule). Dashed: each stage's thresholds (a
    relative one as its multiple of the baseline); dotted: the baseline.
    """
    if path.suffix.lower() not in (".png", ".svg"):
        raise ConfigError(f"{path}: a chart is written as .png or .svg")
    if not samples:
        raise ConfigError("no samples to chart: nothing was measured")
    from matplotlib.figure import Figure

    t0 = min(s.start for s in samples)
    spans = _spans(samples, t0)
    total = max(s.end for s in spans)
    scale, unit_name = (60.0, "minutes") if total > 600 else (1.0, "seconds")
    fig = Figure(figsize=(11, 7), dpi=110, layout="constrained")
    latency, errors = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _panel(latency, samples, t0, LATENCY, "ms", spans, thresholds, baseline, scale)
    _panel(errors, samples, t0, ERRORS, "%", spans, thresholds, baseline, scale)
    latency.set_ylabel("latency (ms)")
    errors.set_ylabel("error rate (%)")
    errors.set_xlabel(f"{unit_name} since verification began")
    for span in spans:
        latency.annotate(span.stage, ((span.start + span.end) / 2 / scale, 1.0), xycoords=("data", "axes fraction"),
                         ha="center", va="bottom", fontsize=9, fontweight="bold")
    decisive = result.decisive if result is not None else None
    if decisive is not None and result is not None:
        x = (decisive.end - t0) / scale
        for ax in (latency, errors):
            ax.axvline(x, color="#cc0000", linewidth=1.5)
        errors.annotate(f"{result.action}: {decisive.metric}", (x, 0.5), xycoords=("data", "axes fraction"),
                        ha="right", va="center", fontsize=8, color="#cc0000", xytext=(-4, 0), textcoords="offset points",
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "#cc0000", "linewidth": 0.8})
    if baseline is not None:
        fig.text(0.01, 0.005, f"dotted: baseline {baseline.label}", fontsize=7, color="#555555")
    fig.suptitle(title or "Verification", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
