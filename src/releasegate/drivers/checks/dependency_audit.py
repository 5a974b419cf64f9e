"""``dependency-audit``: no vulnerable dependencies at or above a severity.

Reads the JSON of ``npm audit --json`` (v6 and v7+ formats) or ``pip-audit -f json``,
from a command it runs or from a file. pip-audit reports no severity: each of its
vulnerabilities counts as ``pip_audit_severity`` (high by default).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import Command, command_problem, run_command
from releasegate.errors import DriverError

Severity = Literal["info", "low", "moderate", "high", "critical"]
_RANK: dict[str, int] = {"info": 0, "low": 1, "moderate": 2, "medium": 2, "high": 3, "critical": 4}


class DependencyAuditOptions(Options):
    """Options of ``dependency-audit``: give exactly one of ``run`` and ``file``."""

    run: Command | None = Field(
        None, description="A command printing the audit JSON, e.g. [npm, audit, --json]."
    )
    shell: bool = Field(False, description="Run `run` (a string) through /bin/sh.")
    cwd: str | None = Field(None, description="Working directory, relative to the config file.")
    file: str | None = Field(None, description="A file holding the audit JSON instead.")
    format: Literal["auto", "npm", "pip-audit"] = Field(
        "auto", description="The JSON's format; auto recognises both."
    )
    fail_on: Severity = Field("high", description="Fail on vulnerabilities of this severity or worse.")
    pip_audit_severity: Severity = Field(
        "high", description="The severity given to pip-audit findings (it reports none)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> DependencyAuditOptions:
        if (self.run is None) == (self.file is None):
            raise ValueError("give exactly one of run and file")
        problem = command_problem(self.run, shell=self.shell, field="run")
        if problem:
            raise ValueError(problem)
        return self


Finding = tuple[str, str, str]
"""(package, severity, advisory)"""


def _npm(data: dict[str, JsonValue]) -> list[Finding]:
    found: list[Finding] = []
    vulns = data.get("vulnerabilities")
    if isinstance(vulns, dict):  # npm 7+
        for name, vuln in vulns.items():
            if not isinstance(vuln, dict):
                continue
            titles = [v["title"] for v in vuln.get("via") or [] if isinstance(v, dict) and "title" in v]  # type: ignore[union-attr]
            advisory = str(titles[0]) if titles else "via " + ", ".join(
                str(v) for v in vuln.get("via") or [] if isinstance(v, str)  # type: ignore[union-attr]
            )
            found.append((name, str(vuln.get("severity", "high")), advisory))
    advisories = data.get("advisories")
    if isinstance(advisories, dict):  # npm 6
        for adv in advisories.values():
            if isinstance(adv, dict):
                found.append(
                    (str(adv.get("module_name")), str(adv.get("severity", "high")), str(adv.get("title", "")))
                )
    return found


def _pip_audit(data: JsonValue, severity: str) -> list[Finding]:
    deps = data.get("dependencies") if isinstance(data, dict) else data
    found: list[Finding] = []
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict):
            continue
        for vuln in dep.get("vulns") or []:  # type: ignore[union-attr]
            if isinstance(vuln, dict):
                found.append((f"{dep.get('name')} {dep.get('version')}", severity, str(vuln.get("id"))))
    return found


def parse_audit(text: str, *, format: str, pip_audit_severity: str) -> list[Finding]:
    """Every finding in an audit report; raises DriverError when it is not one."""
    try:
        data: JsonValue = json.loads(text)
    except ValueError as exc:
        raise DriverError(f"the audit output is not JSON ({exc})") from exc
    is_pip = (isinstance(data, dict) and "dependencies" in data) or isinstance(data, list)
    is_npm = isinstance(data, dict) and ("vulnerabilities" in data or "advisories" in data)
    if format == "npm" or (format == "auto" and is_npm):
        assert isinstance(data, dict)
        return _npm(data)
    if format == "pip-audit" or (format == "auto" and is_pip):
        return _pip_audit(data, pip_audit_severity)
    raise DriverError("the audit output is neither npm audit --json nor pip-audit -f json")


class DependencyAudit:
    """Counts findings by severity and fails on any at or above ``fail_on``."""

    name: ClassVar[str] = "dependency-audit"
    Options: ClassVar[type[DependencyAuditOptions]] = DependencyAuditOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: DependencyAuditOptions, ctx: StepContext) -> StepResult:
        try:
            text = await _read_report(options, ctx)
            findings = parse_audit(
                text, format=options.format, pip_audit_severity=options.pip_audit_severity
            )
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        counts: dict[str, JsonValue] = {}
        for _, severity, _ in findings:
            counts[severity] = int(counts.get(severity, 0)) + 1  # type: ignore[arg-type]
        threshold = _RANK[options.fail_on]
        blocking = [f for f in findings if _RANK.get(f[1], 3) >= threshold]
        evidence: dict[str, JsonValue] = {
            "counts": counts,
            "blocking": [f"{p}: {s}: {a}" for p, s, a in blocking],
            "fail_on": options.fail_on,
        }
        if blocking:
            shown = ", ".join(f"{p} ({s})" for p, s, _ in blocking[:5])
            more = f" and {len(blocking) - 5} more" if len(blocking) > 5 else ""
            return StepResult(
                ok=False,
                summary=f"{len(blocking)} {options.fail_on} or worse: {shown}{more}",
                output="\n".join(f"{p}: {s}: {a}" for p, s, a in blocking),
                evidence=evidence,
            )
        below = f" ({len(findings)} below {options.fail_on})" if findings else ""
        return StepResult(ok=True, summary=f"no {options.fail_on} or worse vulnerabilities{below}", evidence=evidence)


async def _read_report(options: DependencyAuditOptions, ctx: StepContext) -> str:
    if options.file is not None:
        try:
            return (ctx.workdir / options.file).read_text()
        except OSError as exc:
            raise DriverError(f"{options.file} cannot be read: {exc.strerror}") from exc
    assert options.run is not None
    with tempfile.TemporaryDirectory(prefix="rg-audit-") as tmp:
        out = Path(tmp) / "audit.json"
        result = await run_command(ctx, options.run, shell=options.shell, cwd=options.cwd, stdout_file=out)
        # npm audit and pip-audit exit non-zero when they find something: judge the JSON.
        if result.error is not None or (result.returncode or 0) < 0:
            raise DriverError(f"audit command failed: {result.describe()}")
        text = out.read_text()
        if not text.strip():
            raise DriverError(f"audit command printed nothing ({result.describe()}): {result.last_line()}")
        return text
