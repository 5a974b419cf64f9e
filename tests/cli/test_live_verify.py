"""The live view shows each verify stage's metrics beside their thresholds, with a
progress bar: as plain lines in a log, and in the tree a terminal redraws."""

from __future__ import annotations

import io

from rich.console import Console

from releasegate.cli.live import LiveTree

STARTED = {"stage": "immediate", "status": "started", "for_s": 10.0, "every_s": 5.0,
           "checks": {"error_rate": "< 1%", "p95": "< 500ms"}}
HALF = {"stage": "immediate", "done": 1, "planned": 2, "elapsed_s": 5.0, "for_s": 10.0,
        "values": {"error_rate": 50.0, "p95": 12.5, "requests": 50.0},
        "checks": {"error_rate": "< 1%", "p95": "< 500ms"},
        "outcomes": {"error_rate": "fail", "p95": "pass"}, "replayed": False}


def test_a_log_gets_a_line_per_interval_with_values_beside_thresholds() -> None:
    out = io.StringIO()
    view = LiveTree(Console(file=out, force_terminal=False, width=200), title="deploy")
    with view:
        view.event("verify.stage", STARTED)
        view.event("verify.progress", HALF)
        view.event("verify.stage", {"stage": "immediate", "status": "finished", "verdict": "fail",
                                    "reason": "stage immediate failed: error_rate 50% breaks < 1%"})
    lines = out.getvalue().splitlines()
    assert lines == [
        "  verify immediate: 10s against error_rate < 1%, p95 < 500ms",
        "  verify immediate [##########----------] 5/10s 1/2: error_rate 50 (< 1%) FAIL, p95 12.5 (< 500ms) ok",
        "  verify immediate: fail — stage immediate failed: error_rate 50% breaks < 1%",
    ]


def test_a_terminal_tree_shows_the_stage_with_its_bar_and_metrics() -> None:
    out = io.StringIO()
    view = LiveTree(Console(file=out, force_terminal=False, width=120), title="deploy")
    view.event("verify.stage", STARTED)
    view.event("verify.progress", HALF)
    printer = Console(file=io.StringIO(), width=120)
    printer.print(view.render())
    drawn = printer.file.getvalue()  # type: ignore[attr-defined]
    assert "immediate [##########----------] 5/10s 1/2" in drawn
    assert "error_rate 50 (< 1%) fail" in drawn
    assert "p95 12.5 (< 500ms) pass" in drawn
