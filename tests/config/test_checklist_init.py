"""``releasegate init``: the template, examples, and configs generated from a checklist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from releasegate.cli.main import run
from releasegate.config.checklist import load_checklist, parse_checklist
from releasegate.config.loader import load_config
from releasegate.config.models import Config
from releasegate.drivers.api import load_registry

HERE = Path(__file__).parent
SHARED_SPEC = Path(__file__).parents[2] / ".." / "shared" / "spec" / "deployment-checklist.md"
SPEC = SHARED_SPEC if SHARED_SPEC.is_file() else HERE / "checklists" / "deployment-checklist.md"


def rg(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the releasegate command in-process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        run(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def references(config: Config) -> dict[str, list[str]]:
    """Item id → the config elements whose checklist names it."""
    from releasegate.config.checklist_coverage import references as refs

    found: dict[str, list[str]] = {}
    for item_id, where, _ in refs(config):
        found.setdefault(item_id, []).append(where)
    return found


def test_init_writes_a_commented_template_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "releasegate.yaml"
    code, out, _ = rg(capsys, "-c", str(path), "init")
    assert code == 0
    assert out == f"wrote {path} (from the template); next: releasegate validate\n"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# releasegate.yaml")
    config = load_config(path, catalog=load_registry())
    assert list(config.environments) == ["staging", "production"]
    production = config.environments["production"]
    assert production.promote_from == "staging"
    assert production.approvals is not None
    assert production.approvals.roles == ["qa", "product-owner", "tech-lead"]
    assert [s.id for s in production.deploy][-1] == "smoke"
    assert config.roles_of("carol") == {"product-owner"}


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_text("project: mine\n", encoding="utf-8")
    code, out, err = rg(capsys, "-c", str(path), "init")
    assert (code, out) == (2, "")
    assert err == f"error: {path} already exists: pass --force to overwrite it\n"
    assert path.read_text(encoding="utf-8") == "project: mine\n"
    code, _, _ = rg(capsys, "-c", str(path), "init", "--from-checklist", str(SPEC))
    assert code == 2
    assert path.read_text(encoding="utf-8") == "project: mine\n"
    code, _, _ = rg(capsys, "-c", str(path), "init", "--force")
    assert code == 0
    assert "environments:" in path.read_text(encoding="utf-8")


def test_init_from_an_unknown_example_says_which_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "releasegate.yaml"
    code, _, err = rg(capsys, "-c", str(path), "init", "--example", "nosuch")
    assert code == 2
    assert err.startswith(
        "error: --example: no example named 'nosuch': examples/nosuch/releasegate.yaml is not in "
        "this installation"
    )
    assert not path.exists()


def test_init_from_the_spec_covers_every_item_once_per_element(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "releasegate.yaml"
    code, _, _ = rg(capsys, "-c", str(path), "init", "--from-checklist", str(SPEC))
    assert code == 0
    config = load_config(path, catalog=load_registry())
    checklist = load_checklist(SPEC)
    named = references(config)
    # every item is named by the config, except parents whose children all are
    for item in checklist.items:
        assert item.id in named or (item.children and all(c in named for c in item.children)), item.id
    assert set(named) <= set(checklist.ids)
    # no element names an item twice; people are asked once per role and section
    for item_id, where in named.items():
        assert len(where) == len(set(where)), item_id
    grouped = [c for c in config.confirmations if c.text.endswith(" items")]
    assert grouped
    assert all(c.text.endswith(f": {len(c.checklist)} items") for c in grouped)
    assert len({c.id for c in grouped}) == len(grouped)

    staging, production = config.environments["staging"], config.environments["production"]
    tests = {s.id: s for s in production.gates if s.uses == "command"}
    assert tests["unit-tests"].with_ == {"run": ["npm", "run", "test:unit"]}
    assert tests["typescript"].with_ == {"run": ["npx", "tsc", "--noEmit"]}
    health = next(s for s in production.deploy if s.uses == "http-check")
    assert health.with_["paths"] == ["/monitoring/health", "/monitoring/health/db", "/monitoring/health/redis"]
    assert health.on_failure == "rollback"
    assert "rollback-procedures/automatic-rollback/health-checks-fail-automatic-rollback" in health.checklist
    assert [s.uses for s in staging.deploy] == [
        "git", "backup", "migrate", "target", "http-check", "version-check", "smoke"]
    assert production.approvals is not None
    assert production.approvals.roles == ["qa", "product-owner", "tech-lead"]
    assert production.approvals.checklist == [
        "staging-deployment/approval-for-production/qa-sign-off-received",
        "staging-deployment/approval-for-production/product-owner-approval",
        "staging-deployment/approval-for-production/technical-lead-approval",
    ]
    assert production.soak is not None
    assert production.soak.checklist
    assert production.checklist == [
        "production-deployment/pre-deployment-production-specific/deployment-window-scheduled"]
    assert [(v.stage, int(v.for_.total_seconds() // 60)) for v in production.verify] == [
        ("immediate", 5), ("short-term", 25), ("extended", 90)]
    assert production.rollback.when == {"p95": "> 2x baseline", "error_rate": "> 5%"}
    assert config.incidents.checklist == ["production-deployment/pre-flight-checks/review-recent-incidents"]
    assert int(config.emergency.staging_verify_max.total_seconds()) == 15 * 60
    assert "unit-tests" in config.emergency.gates
    by_text = {c.text: c for c in config.confirmations}
    assert by_text["QA engineer"].by == ["qa"]
    assert by_text["On-call support"].by == ["on-call"]
    assert by_text["Performance testing"].kinds == ["major"]
    fix = next(c for c in config.confirmations
               if any(i.endswith("/make-minimal-fix") for i in c.checklist))
    assert fix.kinds == ["hotfix"]
    # the item's text is written above the element that covers it
    text = path.read_text(encoding="utf-8")
    assert (
        "      # line 22: **All tests passing**\n"
        "      # line 676: Tests passing\n"
        "      - id: unit-tests\n"
    ) in text


CUSTOM = """\
# Release checklist

## Before
- [ ] **Tests pass**
  - Unit: `pytest -q`
- [ ] Dependencies audited (pip-audit)
- [ ] Ops lead approval
- [ ] Feature toggles reviewed

## Production
- [ ] Health checks green
  ```
  curl https://shop.example.com/healthz
  ```
- [ ] Watch dashboards
  - [ ] Errors
  - [ ] Latency
"""


def test_a_small_custom_checklist_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "docs" / "release.md"
    spec.parent.mkdir()
    spec.write_text(CUSTOM, encoding="utf-8")
    path = tmp_path / "releasegate.yaml"
    code, _, _ = rg(capsys, "-c", str(path), "init", "--from-checklist", str(spec))
    assert code == 0
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    config = Config.model_validate(data)
    assert config.checklist == "docs/release.md"
    assert config.project == "release"
    gates = {s.id: s for s in config.environments["staging"].gates}
    assert gates["unit"].with_ == {"run": ["pytest", "-q"]}
    assert gates["dependency-audit"].with_ == {"run": ["pip-audit", "--format", "json"]}
    production = config.environments["production"]
    health = next(s for s in production.deploy if s.id == "health")
    assert health.with_ == {"paths": ["/healthz"]}
    assert production.url == "https://shop.example.com"
    assert [(c.text, c.checklist) for c in config.confirmations] == [
        ("Before: 2 items", ["before/ops-lead-approval", "before/feature-toggles-reviewed"]),
        ("Production: 2 items",
         ["production/watch-dashboards/errors", "production/watch-dashboards/latency"])]
    code, out, err = rg(capsys, "-c", str(path), "--json", "checklist", "coverage")
    assert code == 0, err
    report = json.loads(out)
    assert (report["total"], report["missing"]) == (len(parse_checklist(CUSTOM)), 0)
    assert {i["id"]: i["status"] for i in report["items"]}["production/watch-dashboards"] == "signed"


def test_init_example_into_a_directory_copies_the_whole_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    workspace = tmp_path / "tour"
    code, out, _ = rg(capsys, "init", "--example", "camarketplace", str(workspace))
    assert code == 0
    assert out.startswith(f"wrote the camarketplace example to {workspace}, a git repository")
    for name in ("releasegate.yaml", "checklist.md", "app", "versions/1.2.0", "scripts/migrate.py",
                 "smoke", "tour.py", ".demo-origin.git"):
        assert (workspace / name).exists(), name
    status = subprocess.run(["git", "status", "--porcelain"], cwd=workspace,
                            capture_output=True, text=True, check=True)
    assert status.stdout == ""  # everything committed, the tour's files ignored
    config = str(workspace / "releasegate.yaml")
    code, out, err = rg(capsys, "-c", config, "checklist", "coverage")
    assert code == 0, err
    assert "114 items:" in out
    code, _, err = rg(capsys, "init", "--example", "camarketplace", str(workspace))
    assert code == 2
    assert err == f"error: {workspace} is not empty: choose a new directory, or pass --force\n"
    code, _, err = rg(capsys, "init", str(tmp_path / "elsewhere"))
    assert code == 2
    assert "a directory is for a whole example" in err
