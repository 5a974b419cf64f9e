"""Real public checklists (tests/config/checklists/corpus/, see its SOURCES.md) import to
configs that validate, with every box where it belongs."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.checklist import load_checklist
from releasegate.config.checklist_classify import classify
from releasegate.config.checklist_coverage import compute_coverage
from releasegate.config.init_writer import write_from_checklist
from releasegate.config.loader import load_config
from releasegate.config.models import Config
from releasegate.drivers.api import load_registry

CORPUS = sorted((Path(__file__).parent / "checklists" / "corpus").glob("*__*.md"))
AFTER_RELEASE = {"verify", "rollback-trigger", "rollback", "periodic"}


def imported(tmp_path: Path, spec: Path) -> Config:
    path = tmp_path / "releasegate.yaml"
    write_from_checklist(path, spec)
    return load_config(path, catalog=load_registry())  # what `validate` checks


def holding_before_release(config: Config) -> dict[str, str]:
    """Item id → the gate step or required gates/deploy confirmation that holds it."""
    held: dict[str, str] = {}
    for name, env in config.environments.items():
        for step in env.gates:
            held.update({i: f"{name}.gates.{step.id}" for i in step.checklist})
    for confirmation in config.confirmations:
        holds = confirmation.required and confirmation.phase in ("gates", "deploy")
        if holds and "normal" in confirmation.kinds:
            held.update({i: f"confirmations.{confirmation.id}" for i in confirmation.checklist})
    return held


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) == 7


@pytest.mark.parametrize("spec", CORPUS, ids=lambda p: p.name.split("__")[0])
def test_each_checklist_imports_to_a_valid_config_covering_every_box(
    tmp_path: Path, spec: Path
) -> None:
    config = imported(tmp_path, spec)
    coverage = compute_coverage(config, load_checklist(spec))
    assert coverage.missing == []
    assert coverage.warnings == []


@pytest.mark.parametrize("spec", CORPUS, ids=lambda p: p.name.split("__")[0])
def test_post_release_checks_and_rollback_triggers_never_hold_a_deployment(
    tmp_path: Path, spec: Path
) -> None:
    checklist = load_checklist(spec)
    placements = classify(checklist)
    held = holding_before_release(imported(tmp_path, spec))
    wrong = {i: held[i] for i, p in placements.items() if p.kind in AFTER_RELEASE and i in held}
    assert wrong == {}


@pytest.mark.parametrize("spec", CORPUS, ids=lambda p: p.name.split("__")[0])
def test_nothing_after_the_release_is_proven_by_a_step_before_it(tmp_path: Path, spec: Path) -> None:
    placements = classify(load_checklist(spec))
    config = imported(tmp_path, spec)
    early: dict[str, str] = {}
    for name, env in config.environments.items():
        ids = [step.id for step in env.deploy]
        for step in env.deploy[:ids.index("release")]:
            if step.on_failure != "rollback":  # a step whose failure is the rollback trigger
                early.update({i: f"{name}.deploy.{step.id}" for i in step.checklist})
    # "migrations applied", checked after the release, is proven by the migrate step
    outside = AFTER_RELEASE - {"verify"}
    assert {i: early[i] for i, p in placements.items() if p.kind in outside and i in early} == {}


def test_rollback_triggers_with_thresholds_become_rollback_conditions(tmp_path: Path) -> None:
    spec = next(p for p in CORPUS if p.name.startswith("dlearley"))
    config = imported(tmp_path, spec)
    for env in config.environments.values():
        assert env.rollback.when["error_rate"] == "> 5%"
        assert any("high-error-rate" in i for i in env.rollback.checklist)
    corruption = next(c for c in config.confirmations
                      if any(i.endswith("data-corruption-detected") for i in c.checklist))
    assert (corruption.phase, corruption.required) == ("verify", False)


def test_overclaimed_automation_is_only_suggested(tmp_path: Path) -> None:
    spec = next(p for p in CORPUS if p.name.startswith("dlearley"))
    coverage = compute_coverage(imported(tmp_path, spec), load_checklist(spec))
    status = {c.item.id: c.status for c in coverage.items}
    snyk = next(i for i in status if "snyk" in i)
    stability = next(i for i in status if "24-hour-stability" in i)
    assert status[snyk] == "suggested"
    assert status[stability] != "automated"


def test_sign_offs_are_grouped_per_role_and_section(tmp_path: Path) -> None:
    spec = next(p for p in CORPUS if p.name.startswith("dlearley"))
    config = imported(tmp_path, spec)
    staging_asks = [c for c in config.confirmations if c.required
                    and c.phase in ("gates", "deploy") and "normal" in c.kinds
                    and (not c.environments or "staging" in c.environments)]
    assert 0 < len(staging_asks) <= 25
    assert sum(len(c.checklist) for c in staging_asks) > 3 * len(staging_asks)


def test_holidays_use_only_categories_the_country_has() -> None:
    from releasegate.config.checklist_assemble import holiday_categories

    assert holiday_categories("US") == ["public"]
    assert holiday_categories("IN") == ["public", "optional"]


# (file prefix, a heading the item sits under, the kind every item there must have)
SECTIONS = [
    ("dlearley", "Immediate Rollback Triggers", "rollback-trigger"),
    ("dlearley", "Rollback Execution", "rollback"),
    ("dlearley", "Immediate Verification (0-30 minutes)", "verify"),
    ("dlearley", "Extended Monitoring (1-4 hours)", "verify"),
    ("dlearley", "Environment Validation", "gate"),
    ("elzakari", "Pre-Deployment", "gate"),
    ("elzakari", "Post-Deployment", "verify"),
    ("elzakari", "Rollback Plan", "rollback"),
    ("ideasasylum", "When to Consider Rollback", "rollback-trigger"),
    ("ideasasylum", "Review Deployment History", "periodic"),
    ("ideasasylum", "When Deploying Critical Fix", "emergency"),
    ("ideasasylum", "Immediate Checks (Within 5 Minutes)", "verify"),
    ("khovan123", "🏷️ Versioning", "gate"),
    ("khovan123", "Internal Communication", "communication"),
    ("khovan123", "Monitoring", "verify"),
    ("zarr", "After release", "verify"),
    ("zarr", "Before release", "gate"),
]


@pytest.mark.parametrize(("prefix", "heading", "kind"), SECTIONS)
def test_a_section_that_says_what_its_items_are_classifies_them(
    prefix: str, heading: str, kind: str
) -> None:
    checklist = load_checklist(next(p for p in CORPUS if p.name.startswith(prefix)))
    placements = classify(checklist)
    items = [i for i in checklist.items if heading in (*i.headings, i.section)]
    assert items, heading
    wrong = {i.title: placements[i.id].kind for i in items
             if placements[i.id].kind not in (kind, "communication")}
    assert wrong == {}
