"""Reading markdown checklists: items, ids, nesting, code fences, headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config.checklist import load_checklist, parse_checklist, slugify
from releasegate.errors import ConfigError

HERE = Path(__file__).parent
SHARED_SPEC = Path(__file__).parents[2] / ".." / "shared" / "spec" / "deployment-checklist.md"
SPEC = SHARED_SPEC if SHARED_SPEC.is_file() else HERE / "checklists" / "deployment-checklist.md"


def test_the_deployment_checklist_has_114_items_with_readable_ids() -> None:
    checklist = load_checklist(SPEC)
    assert len(checklist) == 114
    assert len(set(checklist.ids)) == 114
    first = checklist.items[0]
    assert first.id == "pre-deployment/code-quality-testing/all-tests-passing"
    assert first.line == 22
    assert first.headings == ("Deployment Checklist", "Pre-Deployment", "Code Quality & Testing")
    assert first.details[0] == "Unit tests: `npm run test:unit`"
    assert len(first.details) == 4
    # step numbers are stripped; nested items hang under their parent's id
    assert "staging-deployment/deployment-steps/create-deployment-tag" in checklist
    child = checklist["production-deployment/pre-deployment-production-specific/team-assembled/qa-engineer"]
    assert child.parent == "production-deployment/pre-deployment-production-specific/team-assembled"
    flow = checklist[
        "production-deployment/post-deployment-verification-production/"
        "immediate-verification-0-5-minutes/user-login"
    ]
    assert flow.label == "Critical User Flows"
    assert checklist.items[-1].id == "checklist-summary/post-deployment/documentation-updated"


def test_code_blocks_belong_to_their_item_and_hold_no_items() -> None:
    checklist = load_checklist(SPEC)
    item = checklist["staging-deployment/pre-deployment-staging-specific/database-backup-created"]
    assert item.code == ["./backend/scripts/backup-db.sh staging"]
    # the announcement's fenced text has "- [Feature] ..." lines: not items, not headings
    texts = [i.text for i in checklist.items]
    assert not any("[Feature]" in t for t in texts)


def test_nesting_at_any_depth_and_both_bullet_kinds() -> None:
    checklist = parse_checklist(
        "## Release\n"
        "- [ ] **Prepare** everything\n"
        "  * [x] Build\n"
        "    - [ ] Sign the build\n"
        "      - note: with the release key\n"
        "  * [ ] Upload\n"
        "- [ ] Announce\n"
    )
    assert checklist.ids == [
        "release/prepare",
        "release/prepare/build",
        "release/prepare/build/sign-the-build",
        "release/prepare/upload",
        "release/announce",
    ]
    assert checklist["release/prepare/build"].checked is True
    assert checklist["release/prepare/build/sign-the-build"].details == ["note: with the release key"]
    assert checklist["release/prepare"].children == ["release/prepare/build", "release/prepare/upload"]


def test_fences_hide_items_and_headings() -> None:
    checklist = parse_checklist(
        "## Steps\n"
        "```markdown\n"
        "## Not a heading\n"
        "- [ ] not an item\n"
        "```\n"
        "~~~\n"
        "- [ ] nor this\n"
        "~~~\n"
        "- [ ] Real item\n"
    )
    assert checklist.ids == ["steps/real-item"]
    assert checklist.items[0].line == 9


def test_heading_levels_from_h2_to_h4_and_a_lone_title_left_out() -> None:
    checklist = parse_checklist(
        "# My Checklist\n"
        "- [ ] Top\n"
        "## A\n"
        "### B\n"
        "#### C\n"
        "- [ ] Deep\n"
        "### D\n"
        "- [ ] After\n"
        "## E\n"
        "#### F\n"
        "- [ ] Skipping a level\n"
    )
    assert checklist.ids == ["top", "a/b/c/deep", "a/d/after", "e/f/skipping-a-level"]


def test_several_h1_headings_are_kept_in_ids() -> None:
    checklist = parse_checklist("# Staging\n- [ ] Deploy\n# Production\n- [ ] Deploy\n")
    assert checklist.ids == ["staging/deploy", "production/deploy"]


def test_duplicates_get_a_number() -> None:
    checklist = parse_checklist(
        "## Checks\n- [ ] Tests pass\n- [ ] Tests pass\n  - [ ] Unit\n- [ ] **Tests pass** again\n"
    )
    assert checklist.ids == [
        "checks/tests-pass",
        "checks/tests-pass-2",
        "checks/tests-pass-2/unit",
        "checks/tests-pass-3",
    ]


def test_slugs_are_short_and_cut_at_a_word_boundary() -> None:
    assert slugify("Code Quality & Testing") == "code-quality-testing"
    assert slugify("Internal team notified (Slack #announcements)") == "internal-team-notified-slack"
    assert slugify("Status page updated (https://status.example.com)") == "status-page-updated"
    assert slugify("Ünïcode Ça va") == "unicode-ca-va"
    assert len(slugify("x" * 60)) == 40


def test_a_paragraph_ends_the_list() -> None:
    checklist = parse_checklist("## S\n- [ ] One\n\nA paragraph.\n  - [ ] Two\n")
    assert checklist.ids == ["s/one", "s/two"]
    assert checklist["s/one"].details == []


def test_a_missing_checklist_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"checklist not found: .*nope\.md"):
        load_checklist(tmp_path / "nope.md")
