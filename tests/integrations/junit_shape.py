"""The JUnit XML shape GitLab and Jenkins read, checked element by element (the rules of
Jenkins' junit-10.xsd that our files can break), so a file we write that they would
drop or misread fails a test here first."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_INT = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)?$")
SUITE_ATTRS = {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname",
               "id", "package", "disabled", "file"}
CASE_ATTRS = {"name", "classname", "time", "assertions", "status", "file", "line"}
CASE_CHILDREN = ("skipped", "error", "failure", "system-out", "system-err")


def check(data: bytes) -> ET.Element:
    """Parse ``data`` and raise AssertionError naming the first thing out of shape."""
    assert data.startswith(b"<?xml"), "no XML declaration"
    root = ET.fromstring(data)
    assert root.tag == "testsuites", f"root is <{root.tag}>, not <testsuites>"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        assert suite.tag == "testsuite", f"<testsuites> holds <{suite.tag}>"
        assert set(suite.attrib) <= SUITE_ATTRS, f"testsuite attributes {set(suite.attrib) - SUITE_ATTRS}"
        assert suite.get("name"), "a testsuite without a name"
        for key in ("tests", "failures", "errors", "skipped"):
            assert _INT.match(suite.get(key, "")), f"testsuite {key}={suite.get(key)!r}"
        assert _DECIMAL.match(suite.get("time", "")), f"testsuite time={suite.get('time')!r}"
        if suite.get("timestamp"):
            assert _ISO.match(suite.get("timestamp", "")), f"timestamp {suite.get('timestamp')!r}"
        counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        children = list(suite)
        if children and children[0].tag == "properties":
            for prop in children.pop(0):
                assert prop.tag == "property", prop.tag
                assert set(prop.attrib) == {"name", "value"}, prop.attrib
        for case in children:
            if case.tag in ("system-out", "system-err"):
                continue
            assert case.tag == "testcase", f"<testsuite> holds <{case.tag}>"
            assert set(case.attrib) <= CASE_ATTRS, f"testcase attributes {set(case.attrib) - CASE_ATTRS}"
            assert case.get("name"), case.attrib
            assert case.get("classname"), case.attrib
            assert _DECIMAL.match(case.get("time", "0")), case.get("time")
            if case.get("line") is not None:
                assert _INT.match(case.get("line", "")), case.get("line")
            counted["tests"] += 1
            kinds = [c.tag for c in case]
            assert all(k in CASE_CHILDREN for k in kinds), kinds
            outcome = [k for k in kinds if k in ("skipped", "error", "failure")]
            assert len(outcome) <= 1, f"testcase {case.get('name')} has {outcome}"
            for child in case:
                if child.tag in ("failure", "error"):
                    assert set(child.attrib) <= {"message", "type"}, child.attrib
                if child.tag == "skipped":
                    assert set(child.attrib) <= {"message"}, child.attrib
            if outcome:
                key = {"failure": "failures", "error": "errors", "skipped": "skipped"}[outcome[0]]
                counted[key] += 1
        for key, value in counted.items():
            assert int(suite.get(key, "-1")) == value, f"{suite.get('name')}: {key}={suite.get(key)}, counted {value}"
            totals[key] += value
    for key, value in totals.items():
        assert int(root.get(key, "-1")) == value, f"testsuites {key}={root.get(key)}, counted {value}"
    return root
