"""Conditions on metrics: ``< 1%``, ``<= 200ms``, ``> 2x baseline``, ``== 0``.

The grammar is :data:`releasegate.config.models.CONDITION_PATTERN` (the config is checked
with it when it is loaded); here a condition is parsed, converted to the unit of the
metric it applies to, and tested against a value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from releasegate.config.models import CONDITION_PATTERN, VALUE_PATTERN
from releasegate.drivers.api import MetricUnit
from releasegate.errors import ConfigError

_SCALE: dict[str, tuple[MetricUnit, float]] = {
    "ms": ("ms", 1.0),
    "s": ("ms", 1000.0),
    "%": ("%", 1.0),
    "KB": ("MB", 1 / 1024),
    "MB": ("MB", 1.0),
    "GB": ("MB", 1024.0),
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _convert(number: float, unit: str | None, metric: str, metric_unit: MetricUnit, text: str) -> float:
    if unit is None:
        return number
    target, factor = _SCALE[unit]
    if target != metric_unit:
        measured = f"in {metric_unit}" if metric_unit else "a plain number"
        raise ConfigError(f"{metric}: {text!r} does not apply: {metric} is {measured}")
    return number * factor


@dataclass(frozen=True)
class Condition:
    """A parsed condition, its threshold already in the metric's unit."""

    text: str
    metric: str
    op: str
    number: float
    """The threshold in the metric's unit, or the factor of a relative condition."""
    relative: bool

    @classmethod
    def parse(cls, metric: str, text: str, unit: MetricUnit) -> Condition:
        """Parse ``text`` for ``metric`` measured in ``unit``; a bad one raises ConfigError."""
        match = CONDITION_PATTERN.match(text)
        if match is None:
            raise ConfigError(
                f"{metric}: {text!r} is not a condition "
                "(write e.g. < 1%, < 200ms, < 2x baseline, == 0)"
            )
        op = "==" if match["op"] == "=" else match["op"]
        number = float(match["number"])
        relative = match["relative"] is not None
        if not relative:
            number = _convert(number, match["unit"], metric, unit, text)
        return cls(text=text.strip(), metric=metric, op=op, number=number, relative=relative)

    @property
    def upper(self) -> bool:
        """Does the condition bound the metric from above (``<``, ``<=``)?"""
        return self.op in ("<", "<=")

    def holds(self, value: float, threshold: float) -> bool:
        """``value <op> threshold``."""
        return _OPS[self.op](value, threshold)


def parse_value(metric: str, text: str, unit: MetricUnit) -> float:
    """A value such as ``120ms`` or ``0.5%`` in the metric's unit."""
    match = VALUE_PATTERN.match(text)
    if match is None:
        raise ConfigError(f"{metric}: {text!r} is not a metric value (write e.g. 120ms, 0.5%)")
    return _convert(float(match["number"]), match["unit"], metric, unit, text)


def format_value(value: float, unit: MetricUnit) -> str:
    """``412.3ms``, ``1.25%``, ``12MB``, ``3``: short and in the metric's unit."""
    if value != value:  # NaN
        return "NaN"
    if unit == "%" and abs(value) < 10:
        digits = f"{value:.2f}"
    else:
        digits = f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return f"{digits}{unit}"
