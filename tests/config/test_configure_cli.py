"""`releasegate validate` and `releasegate schema`, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.cli.main import run

RELEASEGATE = str(Path(sys.executable).parent / "releasegate")
GOOD = """\
# yaml-language-server: $schema=./releasegate.schema.json
$schema: ./releasegate.schema.json
project: shop
environments:
  staging:
    window: {days: [mon-fri], hours: "09:00-18:00", tz: Asia/Kolkata}
    target: {uses: command, with: {deploy: [./deploy.sh, "{version}"]}}
    deploy:
      - {id: release, uses: target}
  production:
    promote_from: staging
    target: {uses: command, with: {deploy: [./deploy.sh, "{version}"]}}
    gates:
      - {id: sign-off, uses: command, with: {run: [./sign-off.sh]}, if: "kind == 'major'"}
    deploy:
      - {id: release, uses: target, needs: [sign-off]}
"""
BAD = """\
project: shop
environments:
  production:
    window:
      days: [mon, tusday]
    gatse: []
"""


def cli(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [RELEASEGATE, *args], capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stdout, done.stderr


def test_validate_says_ok_with_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "releasegate.yaml"
    config.write_text(GOOD, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        run(["-c", str(config), "validate"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"{config}: OK (2 environments, 3 steps)\n"
    with pytest.raises(SystemExit) as exited:
        run(["-c", str(config), "--json", "validate"])
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out) == {
        "ok": True,
        "config": str(config),
        "environments": 2,
        "steps": 3,
    }


def test_validate_prints_every_problem_on_its_own_line_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "releasegate.yaml"
    config.write_text(BAD, encoding="utf-8")
    code, out, err = cli("-c", str(config), "validate")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: {config}:5:19: environments.production.window.days[1]: 'tusday' is not a day "
        "(did you mean 'tuesday'?)",
        f"error: {config}:6:5: environments.production: unknown key 'gatse' (did you mean 'gates'?)",
    ]


def test_validate_json_reports_problems_as_data(tmp_path: Path) -> None:
    config = tmp_path / "releasegate.yaml"
    config.write_text(BAD, encoding="utf-8")
    code, out, _ = cli("-c", str(config), "--json", "validate")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False
    assert report["problems"][1] == {
        "message": "unknown key 'gatse' (did you mean 'gates'?)",
        "path": "environments.production",
        "file": str(config),
        "line": 6,
        "column": 5,
        "text": f"{config}:6:5: environments.production: unknown key 'gatse' (did you mean 'gates'?)",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{path}: no config file here (create one with 'releasegate init')"),
        (
            b"project: [shop\n",
            "{path}:2:1: invalid YAML: while parsing a flow sequence expected ',' or ']', but got '<stream end>'",
        ),
        (
            b"- just\n- a list\n",
            "{path}:1:1: the top level must be a mapping with 'project' and 'environments', but the file is a list",
        ),
        (b"\xff\xfe", "{path}:1:1: is not UTF-8 text"),
    ],
)
def test_unusable_files_are_one_clear_error_never_a_traceback(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    config = tmp_path / "releasegate.yaml"
    if content is not None:
        config.write_bytes(content)
    code, out, err = cli("-c", str(config), "validate")
    assert (code, out, err) == (2, "", f"error: {message.format(path=config)}\n")


def test_schema_is_printed_or_written(tmp_path: Path) -> None:
    code, out, _ = cli("schema")
    assert code == 0
    assert json.loads(out)["title"] == "releasegate.yaml"
    target = tmp_path / "releasegate.schema.json"
    code, out, _ = cli("schema", "--out", str(target))
    assert (code, out) == (0, f"wrote {target}\n")
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(cli("schema")[1])
    code, _, err = cli("schema", "--out", str(tmp_path / "no" / "such" / "dir.json"))
    assert code == 2
    assert (
        err
        == f"error: cannot write the schema to {tmp_path / 'no' / 'such' / 'dir.json'}: No such file or directory\n"
    )
