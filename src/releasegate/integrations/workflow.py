"""GitHub Actions' workflow commands: ``::error`` annotations and the job summary.

An annotation is one line the runner reads from a step's output (stdout or stderr)::

    ::error file=releasegate.yaml,line=41,title=gate tests failed::3 tests failed

Its data escapes ``%``, CR and LF; its properties also ``:`` and ``,`` (the runner's own
escaping rules: without them a summary with a newline or a comma would be cut short).
The job summary is markdown appended to the file ``$GITHUB_STEP_SUMMARY`` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from releasegate.integrations.cases import Case

SUMMARY_MAX = 1024 * 1024
"""GitHub refuses a step summary above 1 MiB: ours is cut to fit."""


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line, e.g. ``::error file=a.yaml,line=3::message``."""
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def error_annotations(cases: Iterable[Case], *, environment: str) -> list[str]:
    """An ``::error`` for each step that failed (or was stopped), at the step in the config
    when the config says where it is; a step that only warned is a ``::warning``."""
    lines = []
    for case in cases:
        if case.failed or case.broken:
            kind = "error"
        elif case.status == "warned":
            kind = "warning"
        else:
            continue
        what = {"gates": "gate"}.get(case.phase, f"{case.phase} step")
        title = f"{environment}: {what} {case.step} {case.status.replace('_', ' ')}"
        if case.phase == "policy":
            title = f"{environment}: refused by policy"
        lines.append(command(kind, case.summary or case.status, file=case.file, line=case.line,
                             title=title))
    return lines


def append_summary(path: Path, markdown: str) -> None:
    """Append ``markdown`` to the job summary file (GitHub shows every step's, in order)."""
    data = markdown.encode()
    if len(data) > SUMMARY_MAX:
        cut = b"\n\n(cut: the summary is larger than GitHub shows)\n"
        data = data[: SUMMARY_MAX - len(cut)].decode(errors="ignore").encode() + cut
    with path.open("ab") as out:
        out.write(data)
