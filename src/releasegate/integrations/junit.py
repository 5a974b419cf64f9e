"""The gates and steps of a deployment as JUnit XML, the format GitLab, Jenkins, Azure
DevOps, CircleCI and Buildkite read for test reports.

One ``<testsuite>`` per phase (``production.gates``, ``production.deploy``, …), one
``<testcase>`` per step: a failed or timed-out step carries ``<failure>``, a cancelled one
``<error>``, a skipped one (or one the deployment never reached) ``<skipped>``. The step's
captured output (already redacted when it was recorded) is the case's ``<system-out>``.
The shape is the one Jenkins' ``junit-10.xsd`` describes and GitLab's parser accepts::

    testsuites(name, tests, failures, errors, skipped, time)
      testsuite(name, tests, failures, errors, skipped, time, timestamp)
        properties/property(name, value)
        testcase(classname, name, time[, file, line])
          failure(message, type) | error(message, type) | skipped(message)
          system-out
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from releasegate.integrations.cases import Case

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry at all (not even escaped): dropped from output."""
MESSAGE_MAX = 1000


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _seconds(value: float | None) -> str:
    return f"{max(value or 0.0, 0.0):.3f}"


def render(
    cases: Sequence[Case], *, environment: str, name: str, timestamp: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> bytes:
    """The JUnit XML document (UTF-8, with its declaration) of ``cases``."""
    root = ET.Element("testsuites", name=_text(name))
    phases: dict[str, list[Case]] = {}
    for case in cases:
        phases.setdefault(case.phase, []).append(case)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for phase, members in phases.items():
        suite = ET.SubElement(root, "testsuite", name=f"{environment}.{phase}")
        counts = {
            "tests": len(members),
            "failures": sum(c.failed for c in members),
            "errors": sum(c.broken for c in members),
            "skipped": sum(c.skipped for c in members),
        }
        took = sum(c.duration_s or 0.0 for c in members)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", _seconds(took))
        if timestamp:
            suite.set("timestamp", timestamp)
        total_time += took
        if properties:
            props = ET.SubElement(suite, "properties")
            for prop, text in properties.items():
                ET.SubElement(props, "property", name=prop, value=_text(text))
        for case in members:
            _case(suite, case, environment)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(total_time))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _case(suite: ET.Element, case: Case, environment: str) -> None:
    element = ET.SubElement(
        suite, "testcase", classname=f"{environment}.{case.phase}", name=_text(case.step),
        time=_seconds(case.duration_s),
    )
    if case.file:
        element.set("file", case.file)
        if case.line:
            element.set("line", str(case.line))
    message = _text(case.summary)[:MESSAGE_MAX]
    if case.failed:
        child = ET.SubElement(element, "failure", message=message, type=case.status)
        child.text = _text(case.output) or message
    elif case.broken:
        child = ET.SubElement(element, "error", message=message, type=case.status)
        child.text = _text(case.output) or message
    elif case.skipped:
        reason = "not run: the deployment ended before this step" if case.status == "not_run" else message
        ET.SubElement(element, "skipped", message=reason or "skipped")
    if case.output and not (case.failed or case.broken):
        ET.SubElement(element, "system-out").text = _text(case.output)
