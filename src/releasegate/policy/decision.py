"""The answer policy gives: each rule allowed or denied with its reason, and when next.

A :class:`Decision` is what ``policy explain`` prints and what ``deploy``/``check`` print
when they refuse (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from releasegate.policy.labels import utc_label


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict.

    ``overridden``: the rule denies, but the emergency path overrides it (``allowed`` is
    then true and the override must be recorded). ``skipped``: the rule does not apply
    here (no version given, a kind that does not need it). ``time_based``: the rule's
    verdict changes with the clock alone (windows, freezes, soak).
    """

    rule: str
    allowed: bool
    reason: str
    overridden: bool = False
    skipped: bool = False
    time_based: bool = False

    @property
    def mark(self) -> str:
        if self.skipped:
            return "skip"
        if self.overridden:
            return "override"
        return "allow" if self.allowed else "deny"


@dataclass(frozen=True)
class Decision:
    """Whether a deployment may start at ``at``, why, and the next time it could.

    ``next_allowed_at`` is ``at`` itself when allowed now; otherwise the earliest instant at
    which every *time-based* rule allows (approvals and promotion are not time-based and
    must still be satisfied), or ``None`` — ``next_allowed_note`` then says why.
    """

    environment: str
    at: datetime
    allowed: bool
    results: tuple[RuleResult, ...]
    next_allowed_at: datetime | None
    next_allowed_note: str = ""
    version: str | None = None
    kind: str = "normal"
    emergency: bool = False
    obligations: tuple[str, ...] = field(default=())

    @property
    def denied(self) -> tuple[RuleResult, ...]:
        """The rules that refuse."""
        return tuple(r for r in self.results if not r.allowed)

    @property
    def overrides(self) -> tuple[RuleResult, ...]:
        """The rules the emergency path overrides (to be recorded)."""
        return tuple(r for r in self.results if r.overridden)

    def summary(self) -> str:
        """One line: ``allowed`` or the denied rules, for an error message."""
        if self.allowed:
            return f"{self.environment}: allowed at {utc_label(self.at)}"
        names = ", ".join(r.rule for r in self.denied)
        return f"{self.environment}: deployment blocked by policy ({names})"

    def explain(self) -> str:
        """Multi-line text for the terminal: every rule, then the verdict and next time."""
        what = f"version {self.version}" if self.version else "any version"
        mode = ", emergency" if self.emergency else ""
        lines = [f"Policy for {self.environment} at {utc_label(self.at)} ({what}, kind {self.kind}{mode}):"]
        width = max((len(r.rule) for r in self.results), default=0)
        for result in self.results:
            lines.append(f"  {result.mark:<8} {result.rule:<{width}}  {result.reason}")
        if self.allowed:
            lines.append("Allowed now.")
        else:
            lines.append("Blocked.")
            pending = ", ".join(r.rule for r in self.denied if not r.time_based)
            if self.next_allowed_at == self.at:
                lines.append(f"Windows and freezes allow it now; still needed: {pending}.")
            elif self.next_allowed_at is not None:
                tail = f" (still needed: {pending})" if pending else ""
                lines.append(f"Next allowed time: {utc_label(self.next_allowed_at)}{tail}")
            if self.next_allowed_note:
                lines.append(self.next_allowed_note)
        for obligation in self.obligations:
            lines.append(f"Obligation: {obligation}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (``--json`` output)."""
        return {
            "environment": self.environment,
            "at": self.at.isoformat(),
            "version": self.version,
            "kind": self.kind,
            "emergency": self.emergency,
            "allowed": self.allowed,
            "results": [
                {
                    "rule": r.rule,
                    "verdict": r.mark,
                    "allowed": r.allowed,
                    "reason": r.reason,
                    "time_based": r.time_based,
                }
                for r in self.results
            ],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "next_allowed_note": self.next_allowed_note or None,
            "obligations": list(self.obligations),
        }
