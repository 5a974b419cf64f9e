"""``releasegate checklist coverage`` and ``checklist items``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.cli.main import run

HERE = Path(__file__).parent
SHARED_SPEC = Path(__file__).parents[2] / ".." / "shared" / "spec" / "deployment-checklist.md"
SPEC = SHARED_SPEC if SHARED_SPEC.is_file() else HERE / "checklists" / "deployment-checklist.md"

CHECKLIST = """\
## Release
- [ ] Tests pass
- [ ] Backup taken
- [ ] Stakeholders told
  - [ ] Product
  - [ ] Support
- [ ] Dashboards watched
"""

CONFIG = """\
project: shop
checklist: release.md
environments:
  production:
    target: {uses: command, with: {deploy: [./deploy.sh, "{version}"]}}
    deploy:
      - {id: release, uses: target, checklist: [release/tests-pass, release/bakcup-taken]}
    approvals: {roles: [qa], checklist: release/nonsense-item-entirely}
confirmations:
  - {id: told-product, text: Product told, checklist: [release/stakeholders-told/product]}
  - {id: told-support, text: Support told, checklist: [release/stakeholders-told/support]}
"""


def rg(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        run(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "release.md").write_text(CHECKLIST, encoding="utf-8")
    config = tmp_path / "releasegate.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def test_missing_items_are_listed_and_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = rg(capsys, "-c", str(project), "checklist", "coverage")
    assert code == 1
    assert "6 items: 1 automated (17%), 0 policy, 3 signed, 0 suggested (to do), 2 missing" in out
    assert "release/backup-taken (line 3): Backup taken" in out
    assert "release/dashboards-watched (line 7): Dashboards watched" in out
    assert "release/stakeholders-told (line" not in out  # covered by its children
    assert err.splitlines() == [
        "warning: environments.production.deploy.release: unknown checklist id "
        "'release/bakcup-taken' (did you mean 'release/backup-taken'?)",
        "warning: environments.production.approvals: unknown checklist id "
        "'release/nonsense-item-entirely'",
    ]


def test_coverage_as_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = rg(capsys, "-c", str(project), "--json", "checklist", "coverage")
    assert code == 1
    report = json.loads(out)
    assert (report["total"], report["automated"], report["signed"], report["missing"]) == (6, 1, 3, 2)
    statuses = {i["id"]: i["status"] for i in report["items"]}
    assert statuses == {
        "release/tests-pass": "automated",
        "release/backup-taken": "missing",
        "release/stakeholders-told": "signed",
        "release/stakeholders-told/product": "signed",
        "release/stakeholders-told/support": "signed",
        "release/dashboards-watched": "missing",
    }
    assert report["items"][0]["covered_by"] == ["environments.production.deploy.release"]
    assert len(report["warnings"]) == 2


def test_a_confirmation_id_may_name_the_item(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project.parent / "other.md"
    spec.write_text("- [ ] told-product\n- [ ] release\n", encoding="utf-8")
    code, out, _ = rg(capsys, "-c", str(project), "checklist", "coverage", "--spec", str(spec))
    assert code == 1
    assert "2 items: 0 automated (0%), 0 policy, 1 signed, 0 suggested (to do), 1 missing" in out
    assert "release (line 2): release" in out


def test_the_generated_config_covers_all_114_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "releasegate.yaml"
    code, _, _ = rg(capsys, "-c", str(config), "init", "--from-checklist", str(SPEC))
    assert code == 0
    code, out, err = rg(capsys, "-c", str(config), "checklist", "coverage")
    assert code == 0, out + err
    assert "114 items: 43 automated (38%), 12 policy, 55 signed, 4 suggested (to do), 0 missing" in out
    assert "warning" not in err
    code, out, _ = rg(capsys, "-c", str(config), "--json", "checklist", "coverage")
    report = json.loads(out)
    assert (report["total"], report["missing"], report["warnings"]) == (114, 0, [])


def test_items_lists_ids_lines_and_texts(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = rg(capsys, "-c", str(project), "checklist", "items")
    assert code == 0
    assert out.splitlines()[0] == "    2  release/tests-pass  Tests pass"
    assert len(out.splitlines()) == 6
    code, out, _ = rg(capsys, "--json", "checklist", "items", "--spec", str(SPEC))
    assert code == 0
    assert len(json.loads(out)["items"]) == 114


def test_without_a_checklist_coverage_says_how_to_give_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "releasegate.yaml"
    config.write_text("project: x\nenvironments: {prod: {}}\n", encoding="utf-8")
    code, out, err = rg(capsys, "-c", str(config), "checklist", "coverage")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {config}: no checklist: set `checklist: FILE.md` in the config or pass --spec\n"
    )
    code, _, err = rg(capsys, "-c", str(config), "checklist", "coverage", "--spec", str(tmp_path / "no.md"))
    assert code == 2
    assert err == f"error: checklist not found: {tmp_path / 'no.md'}\n"


def test_drivers_not_installed_only_warn_but_bad_options_fail(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONFIG.replace("uses: target, checklist", "uses: teleport, checklist")
    project.write_text(text, encoding="utf-8")
    code, out, err = rg(capsys, "-c", str(project), "checklist", "coverage")
    assert code == 1
    assert "6 items: 1 automated (17%), 0 policy, 3 signed, 0 suggested (to do), 2 missing" in out
    assert "environments.production.deploy[0].uses: unknown step driver 'teleport'" in err
    project.write_text(text.replace("roles: [qa]", "roles: 3"), encoding="utf-8")
    code, out, err = rg(capsys, "-c", str(project), "checklist", "coverage")
    assert (code, out) == (2, "")
    assert "environments.production.approvals.roles" in err


def test_items_why_says_where_each_item_belongs_and_what_covers_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = rg(capsys, "-c", str(project), "--json", "checklist", "items", "--why")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)["items"]}
    told = rows["release/stakeholders-told/product"]
    assert (told["kind"], told["status"]) == ("step", "signed")
    assert told["why"] == "its heading 'Release' says 'Release'"
    assert told["covered_by"] == ["confirmations.told-product"]
    assert rows["release/dashboards-watched"]["status"] == "missing"
    code, out, _ = rg(capsys, "-c", str(project), "checklist", "items", "--why")
    assert "       missing: nothing\n" in out
    assert "       step: its heading 'Release' says 'Release'\n" in out
