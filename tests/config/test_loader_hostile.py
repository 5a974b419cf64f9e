"""Hostile input: every file ends in a config or one ConfigError — never a traceback, a
hang, a crash or exit 70.

The corpus in ``hostile/`` holds the inputs that broke the loader or could (100,000 nested
``[`` segfaulted it; oversized durations raised OverflowError). It is loaded in a separate
process, so a crash fails the test instead of killing pytest. Named pipes and devices are
made here, since git cannot keep them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.config.document import read_document
from releasegate.config.loader import load_config
from releasegate.config.models import Config
from releasegate.errors import ConfigError, Problem

SETTINGS = settings(
    max_examples=int(os.environ.get("RG_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HOSTILE = Path(__file__).parent / "hostile"
CORPUS = sorted(HOSTILE.glob("*.yaml"))
RUN = """
import json, sys
from pathlib import Path
from releasegate.config.loader import load_config
from releasegate.drivers.api import load_registry
from releasegate.errors import ConfigError, Problem

catalog = load_registry()
for name in sys.argv[1:]:
    path = Path(name)
    try:
        load_config(path, catalog=catalog)
        found = {"file": path.name, "problems": []}
    except ConfigError as exc:
        found = {"file": path.name, "problems": [str(p).replace(str(path), "F") for p in exc.problems]}
    print(json.dumps(found), flush=True)
"""
FIRST_PROBLEM = {
    "nested-brackets.yaml": "F:1:73: nests deeper than 64 levels",
    "nested-braces.yaml": "F:2:267: nests deeper than 64 levels",
    "nested-blocks.yaml": "F:66:129: nests deeper than 64 levels",
    "nested-sequences.yaml": "F:4:127: nests deeper than 64 levels",
    "billion-laughs.yaml": "F:3:18: has more than 500000 values (aliases that expand too far?)",
    "recursive-alias.yaml": "F:2:15: environments.production: an alias refers to a value that contains it",
    "huge-durations.yaml": "F:5:59: environments.production.gates[0].timeout: "
    "'9999999999999999999999999999999999999999d' is longer than 366d",
    "huge-numbers.yaml": "F:4:18: environments.production.concurrency: "
    "10000000000000000000000000000000000000000 must be less than or equal to 256",
    "many-keys.yaml": "F:4:3: users: has more than 10000 keys",
    "python-tags.yaml": "F:1:10: project: the YAML tag "
    "'tag:yaml.org,2002:python/object/apply:os.system' is not supported here",
    "binary-garbage.yaml": "F:1:1: is not UTF-8 text",
    "nul-bytes.yaml": "F:1:12: invalid YAML: special characters are not allowed",
    "target-in-gates.yaml": "F:5:31: environments.production.gates[0].uses: 'uses: target' "
    "deploys the version: it belongs in deploy, where a rollback undoes it, not in the gates",
    "windows-never-open.yaml": "F:4:20: environments.production.window.days: no days: the "
    "window would never open",
}


def test_every_file_of_the_corpus_is_a_config_or_located_problems() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN, *map(str, CORPUS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # a signal is a negative code
    results = {r["file"]: r["problems"] for r in map(json.loads, done.stdout.splitlines())}
    assert sorted(results) == [p.name for p in CORPUS]
    for name, first in FIRST_PROBLEM.items():
        assert results[name][:1] == [first], name
    for name, problems in results.items():
        assert problems, f"{name} loaded as a config"
        assert all(p.startswith("F:") and len(p) < 400 for p in problems), (name, problems)


@pytest.mark.parametrize(
    "name",
    ["nested-brackets.yaml", "billion-laughs.yaml", "huge-durations.yaml", "if-bombs.yaml",
     "number-beyond-int-digits.yaml", "bad-version-pattern.yaml"],
)
def test_validate_exits_2_with_one_line_per_problem(name: str) -> None:
    path = HOSTILE / name
    done = subprocess.run(
        [sys.executable, "-m", "releasegate", "-c", str(path), "validate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert lines
    assert all(line.startswith(f"error: {path}:") for line in lines), done.stderr[-2000:]


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "releasegate.yaml"
    os.mkfifo(fifo)
    assert _problems(fifo) == [f"{fifo}: is a named pipe, not a regular file"]


def test_a_device_is_refused_without_reading_it() -> None:
    assert _problems(Path("/dev/zero")) == ["/dev/zero: is a device, not a regular file"]


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "releasegate.yaml"
    link.symlink_to("/dev/urandom")
    assert _problems(link) == [f"{link}: is a device, not a regular file"]


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "releasegate.yaml"
    with big.open("wb") as fh:
        fh.truncate(9 * 1024 * 1024)  # sparse: nothing is written
    assert _problems(big) == [f"{big}: is larger than 8 MiB"]


def test_a_checklist_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    from releasegate.config.checklist import load_checklist

    fifo = tmp_path / "checklist.md"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as caught:
        load_checklist(fifo)
    assert str(caught.value) == f"cannot read checklist {fifo}: it is a named pipe, not a regular file"


@SETTINGS
@given(depth=st.integers(0, 300), style=st.sampled_from(["flow-list", "flow-map", "block"]))
def test_nesting_of_any_depth_is_read_or_refused_at_its_place(depth: int, style: str) -> None:
    if style == "flow-list":
        nested = "[" * depth + "x" + "]" * depth
    elif style == "flow-map":
        nested = "{a: " * depth + "x" + "}" * depth
    else:
        nested = "\n  " + "- " * depth + "x"
    text = f"project: shop\nenvironments: {{}}\nx-nested: {nested}\n"
    if depth >= 64:  # with the top-level mapping, 65 levels
        with pytest.raises(ConfigError) as caught:
            read_document(text, "f.yaml")
        assert [p.message for p in caught.value.problems] == ["nests deeper than 64 levels"]
    else:
        assert read_document(text, "f.yaml").problems == []


numbers = (
    st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([10**400, -(10**400), "9" * 80 + "d", "1e400s", ".inf", ".nan", "-0"])
)
NUMERIC = [
    ("gates", 0, "timeout"), ("gates", 0, "retries"), ("gates", 0, "retry_delay"),
    ("concurrency",), ("soak", "normal"), ("approvals", "distinct_people"),
]


@SETTINGS
@given(value=numbers, where=st.sampled_from(NUMERIC))
def test_any_number_anywhere_is_a_value_or_a_located_error(
    tmp_path_factory: pytest.TempPathFactory, value: object, where: tuple[str | int, ...]
) -> None:
    env: dict[str, object] = {"gates": [{"id": "a", "uses": "command", "with": {"run": ["x"]}}]}
    node: object = env
    for part in where[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            assert isinstance(node, list)
            assert isinstance(part, int)
            node = node[part]
    assert isinstance(node, dict)
    node[where[-1]] = value
    data = {"project": "shop", "environments": {"production": env}}
    path = tmp_path_factory.mktemp("n") / "releasegate.yaml"
    path.write_text(json.dumps(data).replace("Infinity", ".inf").replace("NaN", ".nan"))
    problems: tuple[Problem, ...] = ()
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as exc:
        problems = exc.problems
    assert all(str(p).startswith(f"{path}:") for p in problems)
