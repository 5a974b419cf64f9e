"""Counting a stage's intervals into a verdict.

An interval *fails* when any acting (not dry-run) metric fails in it; the stage fails as
soon as more than ``failures_allowed`` intervals have failed. A metric inconclusive in
more than its ``inconclusive_limit`` intervals, or unreadable for more than its
``error_limit`` consecutive intervals, makes the stage inconclusive. A ``rollback.when``
trigger that holds decides at once. A checked metric never measured by the end of the
stage makes it inconclusive too: silence is never a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from releasegate.config.models import VerifyStage
from releasegate.verify.baseline import Baseline
from releasegate.verify.judge import Judgement, Observation, fires, judge
from releasegate.verify.result import Finding, Outcome, StageResult, Verdict
from releasegate.verify.rules import Rule
from releasegate.verify.samples import StageSample

MAX_FINDINGS = 100


@dataclass(frozen=True)
class Decision:
    """Why a stage stopped before its end (or ended as it did)."""

    verdict: Verdict
    reason: str
    finding: Finding | None
    trigger: bool = False


def observe(rule: Rule, samples: Mapping[str, StageSample]) -> Observation:
    """What ``samples`` (by source) say about ``rule``'s metric."""
    sample = samples.get(rule.source)
    if sample is None:
        return Observation(value=None, missing=f"{rule.source} gave no sample")
    if sample.error is not None:
        return Observation(value=None, error=sample.error)
    return Observation(
        value=sample.values.get(rule.metric),
        count=sample.values.get("requests"),
        missing=sample.missing.get(rule.metric),
        caveat=sample.caveat,
        at_least=rule.metric in sample.at_least,
    )


@dataclass
class _Side:
    """The counts of the acting metrics, or of the dry-run ones."""

    dry_run: bool
    failures_allowed: int
    failed_intervals: int = 0
    first_bad: int | None = None
    decision: Decision | None = None
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    streak: dict[str, int] = field(default_factory=dict)

    def count(self, rule: Rule, finding: Finding) -> None:
        self.counts.setdefault(rule.metric, Counter())[finding.outcome] += 1
        self.streak[rule.metric] = self.streak.get(rule.metric, 0) + 1 if finding.outcome == "error" else 0
        if self.decision is not None:
            return
        seen = self.counts[rule.metric]
        if finding.outcome == "inconclusive" and seen["inconclusive"] > rule.inconclusive_limit:
            self.decision = Decision(
                "inconclusive",
                f"{rule.metric} inconclusive in {seen['inconclusive']} interval(s) "
                f"(inconclusive_limit {rule.inconclusive_limit}): {finding.message}",
                finding,
            )
        elif finding.outcome == "error" and self.streak[rule.metric] > rule.error_limit:
            self.decision = Decision(
                "inconclusive",
                f"{rule.source} unreadable for {self.streak[rule.metric]} consecutive intervals "
                f"(error_limit {rule.error_limit}): {finding.message}",
                finding,
            )

    def close_interval(self, interval: int, failed: list[Finding]) -> None:
        if not failed:
            return
        self.failed_intervals += 1
        if self.first_bad is None:
            self.first_bad = interval
        if self.decision is None and self.failed_intervals > self.failures_allowed:
            metrics = ", ".join(dict.fromkeys(f.metric for f in failed))
            self.decision = Decision(
                "fail",
                f"{metrics} failed in {self.failed_intervals} interval(s) "
                f"(failures_allowed {self.failures_allowed}): {failed[0].message}",
                failed[0],
            )


class StageTally:
    """The running count of one stage's intervals."""

    def __init__(
        self,
        stage: VerifyStage,
        rules: Sequence[Rule],
        triggers: Sequence[Rule],
        baseline: Baseline | None,
        *,
        planned: int,
    ) -> None:
        self.stage = stage
        self.rules = list(rules)
        self.triggers = list(triggers)
        self.baseline = baseline
        self.planned = planned
        self.intervals = 0
        self.acting = _Side(dry_run=False, failures_allowed=stage.failures_allowed)
        self.dry = _Side(dry_run=True, failures_allowed=stage.failures_allowed)
        self.findings: list[Finding] = []
        self.notes: dict[str, str] = {}
        self.last_outcome: dict[str, Outcome] = {}
        """Metric → its outcome in the latest interval (what a live display shows)."""

    def _finding(self, rule: Rule, sample: StageSample | None, interval: int, j: Judgement, value: float | None, *, trigger: bool = False) -> Finding:
        end = sample.at if sample else 0.0
        start = sample.start if sample else 0.0
        return Finding(
            stage=self.stage.stage, metric=rule.metric, interval=interval, start=start, end=end,
            outcome=j.outcome, value=value, condition=rule.condition.text, threshold=j.threshold,
            baseline=j.baseline, detail=j.detail, dry_run=rule.dry_run, trigger=trigger,
        )  # fmt: skip

    def _keep(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)

    def add(self, interval: int, samples: Sequence[StageSample]) -> Decision | None:
        """Count one interval; returns the acting decision once there is one."""
        by_source = {s.source: s for s in samples}
        self.intervals += 1
        failed: dict[bool, list[Finding]] = {True: [], False: []}
        for rule in self.rules:
            obs = observe(rule, by_source)
            figure = self.baseline.figure(rule.metric) if self.baseline else None
            j = judge(rule, obs, figure)
            self.last_outcome[rule.metric] = j.outcome
            finding = self._finding(rule, by_source.get(rule.source), interval, j, obs.value)
            if j.outcome == "skipped":
                self.notes.setdefault(rule.metric, j.detail)
            elif j.outcome != "pass":
                self._keep(finding)
            (self.dry if rule.dry_run else self.acting).count(rule, finding)
            if j.outcome == "fail":
                failed[rule.dry_run].append(finding)
        for trig in self.triggers:
            obs = observe(trig, by_source)
            figure = self.baseline.figure(trig.metric) if self.baseline else None
            j = fires(trig, obs, figure)
            if not j.holds:
                continue
            finding = self._finding(trig, by_source.get(trig.source), interval, j, obs.value, trigger=True)
            self._keep(finding)
            side = self.dry if trig.dry_run else self.acting
            failed[trig.dry_run].append(finding)
            if side.decision is None:
                side.decision = Decision("fail", f"rollback.when holds: {finding.message}", finding, trigger=True)
        self.dry.close_interval(interval, failed[True])
        self.acting.close_interval(interval, failed[False])
        return self.acting.decision

    def first_bad(self) -> int | None:
        return self.acting.first_bad

    def _verdict(self, side: _Side, rules: list[Rule]) -> tuple[Verdict, str, Finding | None]:
        if side.decision is not None:
            return side.decision.verdict, side.decision.reason, side.decision.finding
        for rule in rules:
            seen = side.counts.get(rule.metric, Counter())
            if seen["pass"] + seen["fail"] == 0 and seen["skipped"] == 0 and self.intervals:
                how = ", ".join(f"{n} {o}" for o, n in sorted(seen.items()))
                return "inconclusive", f"{rule.metric} was never measured ({how})", None
        return "pass", "", None

    def result(self) -> tuple[StageResult, Decision | None]:
        """The stage's result, and the acting decision it rests on (None: passed)."""
        stage = self.stage
        acting_rules = [r for r in self.rules if not r.dry_run]
        dry_rules = [r for r in self.rules if r.dry_run]
        verdict, reason, finding = self._verdict(self.acting, acting_rules)
        dry_verdict = self._verdict(self.dry, dry_rules)[0] if dry_rules or self.dry.decision else None
        if verdict == "pass":
            judged = [r.metric for r in acting_rules if r.metric not in self.notes]
            reason = f"{len(judged)} metric(s) within their conditions for {self.intervals} interval(s)"
            if not acting_rules:
                reason = "nothing to act on (every check is a dry run)"
        decision = None if verdict == "pass" else Decision(verdict, reason, finding)
        if self.acting.decision is not None:
            decision = self.acting.decision
        counts = {m: dict(c) for m, c in {**self.dry.counts, **self.acting.counts}.items()}
        return (
            StageResult(
                stage=stage.stage, verdict=verdict, reason=reason, intervals=self.intervals,
                planned=self.planned, on_fail=stage.on_fail, findings=tuple(self.findings),
                counts=counts, dry_run=stage.dry_run, dry_run_verdict=dry_verdict,
                notes=tuple(self.notes.values()), confirm_by=tuple(stage.confirm_by),
                confirm_within_s=stage.confirm_within.total_seconds(),
            ),
            decision,
        )  # fmt: skip
