"""The ``coverage`` step: Cobertura XML and coverage.py JSON, recorded and held to a minimum."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.drivers.checks.coverage import Coverage
from releasegate.testing import run_driver

COBERTURA = """<?xml version="1.0" ?>
<coverage version="7.6.1" timestamp="1767600000000" lines-valid="1200" lines-covered="1002"
          line-rate="0.835" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
  <packages/>
</coverage>
"""


def test_cobertura_above_the_minimum(tmp_path: Path) -> None:
    (tmp_path / "coverage.xml").write_text(COBERTURA)
    result = run_driver(Coverage(), {"file": "coverage.xml"}, workdir=tmp_path)
    assert (result.ok, result.summary) == (True, "test coverage 83.5% (at least 80%)")
    assert result.evidence == {"coverage_percent": 83.5, "min": 80.0, "file": "coverage.xml",
                               "format": "cobertura", "lines_covered": 1002, "lines_valid": 1200}


def test_coverage_json_below_the_minimum(tmp_path: Path) -> None:
    report = {"meta": {"version": "7.6.1"}, "files": {},
              "totals": {"covered_lines": 700, "num_statements": 1000, "percent_covered": 70.0,
                         "percent_covered_display": "70"}}
    (tmp_path / "coverage.json").write_text(json.dumps(report))
    result = run_driver(Coverage(), {"file": "coverage.json", "min": 75}, workdir=tmp_path)
    assert (result.ok, result.summary) == (False, "test coverage 70.0% (below 75%)")
    assert result.evidence["coverage_percent"] == 70.0


def test_bad_reports_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text('{"files": {}}')
    (tmp_path / "c.xml").write_text("<report/>")
    cases = {
        "missing.xml": "coverage report missing.xml does not exist",
        "c.json": "c.json is not a coverage.py JSON report (no totals.percent_covered)",
        "c.xml": "c.xml is not a Cobertura report (no <coverage line-rate=...>)",
    }
    for name, message in cases.items():
        result = run_driver(Coverage(), {"file": name}, workdir=tmp_path)
        assert (result.ok, result.summary) == (False, message)
