"""Judging one metric in one interval against its condition (and baseline).

The rules that keep a verdict honest live here:

* no data is never 0: it counts as the rule's ``no_data`` says (inconclusive by default);
* a relative check (``< 2x baseline``) needs ``min_samples`` observations on both sides,
  else the interval is inconclusive; without any baseline it is skipped, and says so;
* against a baseline of 0 (or any baseline whose multiple is below the floor), a relative
  upper bound allows only the floor (0 unless set): a release with errors fails where a
  zero-error baseline would have hidden them;
* figures that describe the observer (the probe behind its schedule) are inconclusive;
* a value that is only a lower bound (requests timed out) fails an upper bound it already
  breaks and is inconclusive against one it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from releasegate.verify.baseline import Figure
from releasegate.verify.conditions import format_value
from releasegate.verify.result import Outcome
from releasegate.verify.rules import Rule


@dataclass(frozen=True)
class Observation:
    """What a stage saw of one metric in one interval."""

    value: float | None
    count: float | None = None
    """Observations behind the value (the probe's requests); None for a single reading."""
    missing: str | None = None
    error: str | None = None
    caveat: str | None = None
    at_least: bool = False
    """The value is a lower bound: the true figure may be higher."""


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    threshold: float | None
    baseline: Figure | None
    detail: str
    holds: bool = False
    """For a trigger: its condition held."""


def _fmt(rule: Rule, value: float) -> str:
    return format_value(value, rule.unit)


@dataclass(frozen=True)
class _Bound:
    threshold: float
    basis: str
    """How the threshold was reached: ``absolute``, ``2 × 120ms, the p95 of 1.2.0``."""
    floor: bool = False
    """The floor applies: the value may equal it."""


def _relative_bound(rule: Rule, figure: Figure) -> _Bound:
    factor = rule.condition.number
    scaled = factor * figure.value
    if rule.condition.upper and scaled <= rule.floor:
        floor = _fmt(rule, rule.floor)
        if figure.value == 0:
            why = f"the baseline {figure.label} had {_fmt(rule, 0)}, so only the floor {floor} is allowed"
        else:
            why = f"{factor:g} × the baseline {figure.label} is below the floor {floor}"
        return _Bound(rule.floor, why, floor=True)
    basis = f"threshold {_fmt(rule, scaled)} = {factor:g} × {_fmt(rule, figure.value)}, the {rule.metric} of {figure.label}"
    return _Bound(scaled, basis)


def _bound(rule: Rule, obs: Observation, figure: Figure | None) -> Judgement | _Bound:
    """The bound to apply, or a judgement reached without comparing."""
    cond = rule.condition
    if not cond.relative:
        return _Bound(cond.number, "absolute")
    if figure is None:
        return Judgement(
            "skipped", None, None,
            f"{rule.metric} {cond.text} skipped: no baseline (absolute thresholds only)",
        )  # fmt: skip
    if figure.count < rule.min_samples:
        return Judgement(
            "inconclusive", None, figure,
            f"{rule.metric} not compared: the baseline {figure.label} has {figure.count:g} "
            f"observations (needs {rule.min_samples})",
        )  # fmt: skip
    if obs.count is not None and obs.count < rule.min_samples:
        return Judgement(
            "inconclusive", None, figure,
            f"{rule.metric} not compared: {obs.count:g} observations in the interval "
            f"(needs {rule.min_samples})",
        )  # fmt: skip
    return _relative_bound(rule, figure)


def judge(rule: Rule, obs: Observation, figure: Figure | None) -> Judgement:
    """The outcome of ``rule``'s check for one interval."""
    if obs.error is not None:
        return Judgement("error", None, None, f"{rule.source} unreadable: {obs.error}")
    if obs.value is None or math.isnan(obs.value):
        why = obs.missing or ("NaN" if obs.value is not None else "absent")
        outcome: Outcome = rule.no_data
        return Judgement(outcome, None, None, f"{rule.metric}: no data ({why}); no_data: {rule.no_data}")
    if obs.caveat is not None:
        return Judgement("inconclusive", None, None, f"{rule.metric} not judged: {obs.caveat}")
    bound = _bound(rule, obs, figure)
    if isinstance(bound, Judgement):
        return bound
    cond = rule.condition
    ok = obs.value <= bound.threshold if bound.floor else cond.holds(obs.value, bound.threshold)
    if obs.at_least and ok == cond.upper:
        # "< 500ms" on "at least 300ms" cannot be told; "> 2x" on "at least 3x" can
        return Judgement(
            "inconclusive", bound.threshold, figure if cond.relative else None,
            f"{rule.metric} is at least {_fmt(rule, obs.value)} (requests timed out): "
            f"cannot tell whether {cond.text}",
        )  # fmt: skip
    verb = "meets" if ok else "breaks"
    detail = f"{rule.metric} {_fmt(rule, obs.value)} {verb} {cond.text}"
    detail += " (absolute)" if not cond.relative else f": {bound.basis}"
    used = figure if cond.relative else None
    return Judgement("pass" if ok else "fail", bound.threshold, used, detail, holds=ok)


def fires(rule: Rule, obs: Observation, figure: Figure | None) -> Judgement:
    """Does the trigger ``rule`` (a ``rollback.when`` condition) hold in this interval?

    Without data, or without enough evidence for a relative trigger, it does not fire.
    """
    judged = judge(rule, obs, figure)
    if judged.outcome not in ("pass", "fail"):
        return Judgement("skipped", None, judged.baseline, judged.detail)
    holds = judged.outcome == "pass"
    detail = judged.detail.replace(" meets ", " hits ", 1).replace(" breaks ", " stays within ", 1)
    return Judgement("fail" if holds else "pass", judged.threshold, judged.baseline, detail, holds=holds)
