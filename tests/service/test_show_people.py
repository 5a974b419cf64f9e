"""``show`` in every format names who approved, who signed, and what policy decided."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.cli.main import run

CONFIG = """\
project: shop
users:
  alice: {roles: [qa]}
  dave: {roles: [devops]}
environments:
  staging:
    approvals: {roles: [qa]}
    target:
      uses: command
      with: {deploy: [sh, -c, "echo {version} > live.txt"]}
    deploy:
      - {id: release, uses: target}
confirmations:
  - {id: smoke-ok, text: "Smoke tested by hand", by: [qa], phase: post, required: false}
"""


def _cli(folder: Path, capsys: pytest.CaptureFixture[str], user: str, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        run(["-c", str(folder / "releasegate.yaml"), "--as", user, *args])
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out + out.err


def test_show_names_approvals_sign_offs_and_the_policy_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "releasegate.yaml").write_text(CONFIG)
    assert _cli(tmp_path, capsys, "alice", "approve", "staging", "1.0.0", "--role", "qa",
                "--note", "regression suite green")[0] == 0
    code, out = _cli(tmp_path, capsys, "dave", "deploy", "staging", "1.0.0", "--yes")
    assert code == 0, out
    code, out = _cli(tmp_path, capsys, "alice", "confirm", "1", "smoke-ok", "--note", "checked")
    assert code == 0, out

    code, shown = _cli(tmp_path, capsys, "dave", "--json", "show", "1")
    report = json.loads(shown)
    [approval] = report["approvals"]
    assert (approval["user"], approval["role"]) == ("alice", "qa")
    assert any(c["user"] == "alice" and c["item"] == "smoke-ok" for c in report["confirmations"])
    assert report["policy"]["allowed"] is True
    assert {"rule": "approval:qa", "verdict": "allow"}.items() <= next(
        r for r in report["policy"]["results"] if r["rule"] == "approval:qa"
    ).items()

    for fmt in ("md", "text"):
        code, text = _cli(tmp_path, capsys, "dave", "show", "1", "--format", fmt)
        assert code == 0, text
        assert "approved as qa by alice" in text
        assert "regression suite green" in text
        assert "smoke-ok signed by alice" in text
        assert "policy allowed" in text
        assert "approval:qa allow" in text.split("policy allowed", 1)[1]
