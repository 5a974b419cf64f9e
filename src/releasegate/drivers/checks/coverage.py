"""``coverage``: the test coverage report's figure, recorded as evidence, held to a minimum.

Reads a Cobertura XML report (``coverage xml``, JaCoCo/Istanbul converters, most CI tools:
``<coverage line-rate="0.83">``) or a coverage.py JSON report (``coverage json``:
``totals.percent_covered``). The figure is recorded as ``coverage_percent`` in the step's
evidence; releasegate's metrics read it from there (test coverage, target > 80 %).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, JsonValue

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.errors import DriverError


class CoverageOptions(Options):
    """Options of ``coverage``."""

    file: str = Field(description="The report, relative to the config file: coverage.xml "
                      "(Cobertura) or coverage.json (coverage.py).")
    min: float = Field(80.0, ge=0, le=100, description="Fail below this percentage.")
    format: Literal["auto", "cobertura", "coverage-json"] = Field(
        "auto", description="auto: by the file's content."
    )


def read_report(path: Path, fmt: str = "auto") -> tuple[float, str, dict[str, JsonValue]]:
    """``(percent, format, details)`` of a coverage report; DriverError says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DriverError(f"coverage report {path.name} does not exist") from None
    except OSError as exc:
        raise DriverError(f"coverage report {path.name} cannot be read: {exc.strerror}") from exc
    if fmt == "auto":
        fmt = "cobertura" if text.lstrip().startswith("<") else "coverage-json"
    if fmt == "cobertura":
        return _cobertura(text, path.name)
    return _coverage_json(text, path.name)


def _cobertura(text: str, name: str) -> tuple[float, str, dict[str, JsonValue]]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DriverError(f"{name} is not XML: {exc}") from exc
    rate = root.get("line-rate")
    if root.tag != "coverage" or rate is None:
        raise DriverError(f"{name} is not a Cobertura report (no <coverage line-rate=...>)")
    try:
        percent = float(rate) * 100
    except ValueError:
        raise DriverError(f"{name}: line-rate {rate!r} is not a number") from None
    details: dict[str, JsonValue] = {
        k.replace("-", "_"): int(v) for k in ("lines-covered", "lines-valid")
        if (v := root.get(k)) is not None and v.isdigit()
    }
    return percent, "cobertura", details


def _coverage_json(text: str, name: str) -> tuple[float, str, dict[str, JsonValue]]:
    try:
        totals = json.loads(text)["totals"]
        percent = float(totals["percent_covered"])
    except (ValueError, KeyError, TypeError):
        raise DriverError(f"{name} is not a coverage.py JSON report (no totals.percent_covered)") from None
    details: dict[str, JsonValue] = {
        k: totals[k] for k in ("covered_lines", "num_statements") if isinstance(totals.get(k), int)
    }
    return percent, "coverage-json", details


class Coverage:
    """Reads the report, records the figure, fails under ``min``."""

    name: ClassVar[str] = "coverage"
    Options: ClassVar[type[CoverageOptions]] = CoverageOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: CoverageOptions, ctx: StepContext) -> StepResult:
        try:
            percent, fmt, details = read_report(ctx.workdir / options.file, options.format)
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        evidence: dict[str, JsonValue] = {
            "coverage_percent": round(percent, 2), "min": options.min, "file": options.file,
            "format": fmt, **details,
        }
        ok = percent >= options.min
        verdict = "at least" if ok else "below"
        return StepResult(ok=ok, summary=f"test coverage {percent:.1f}% ({verdict} {options.min:g}%)",
                          evidence=evidence)
