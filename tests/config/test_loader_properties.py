"""Whatever the file holds, the loader returns a Config or raises ConfigError: nothing else."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from releasegate.config.document import read_document
from releasegate.config.loader import load_config
from releasegate.config.models import Config
from releasegate.drivers.api import Registry
from releasegate.errors import ConfigError, Problem

VALID = (Path(__file__).parent / "data" / "valid.yaml").read_text(encoding="utf-8")
# The registry fixture is only read, never changed: sharing it between examples is safe.
# RG_FUZZ_EXAMPLES=5000 for a longer hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("RG_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
keys = st.sampled_from(
    [
        "project",
        "environments",
        "gates",
        "deploy",
        "id",
        "uses",
        "with",
        "needs",
        "if",
        "window",
        "days",
        "hours",
        "tz",
        "calendars",
        "holidays",
        "country",
        "freezes",
        "promote_from",
        "steps",
        "rollback",
        "$schema",
        "x-any",
    ]
) | st.text(max_size=8)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)


def _dump(value: object) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(value, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _load(folder: Path, content: bytes, registry: Registry) -> None:
    path = folder / "releasegate.yaml"
    path.write_bytes(content)
    problems: tuple[Problem, ...] = ()
    try:
        assert isinstance(load_config(path, catalog=registry), Config)
    except ConfigError as exc:
        problems = exc.problems
        assert problems, "a ConfigError must carry at least one problem"
    assert all(str(p.location).startswith(str(path)) for p in problems)


@SETTINGS
@given(tree=trees)
def test_random_yaml_documents(folder: Path, registry: Registry, tree: object) -> None:
    _load(folder, _dump(tree).encode(), registry)


@SETTINGS
@given(tree=st.dictionaries(keys, trees, max_size=6))
def test_random_mappings_under_a_valid_header(
    folder: Path, registry: Registry, tree: dict[str, object]
) -> None:
    _load(folder, _dump({"project": "shop", "environments": {"prod": tree}}).encode(), registry)


@SETTINGS
@given(content=st.binary(max_size=300))
def test_random_bytes(folder: Path, registry: Registry, content: bytes) -> None:
    _load(folder, content, registry)


@SETTINGS
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 40), st.text(max_size=12)),
        min_size=1,
        max_size=4,
    )
)
def test_mutations_of_a_valid_config(
    folder: Path, registry: Registry, cuts: list[tuple[int, int, str]]
) -> None:
    text = VALID
    for at, length, insert in cuts:
        text = text[:at] + insert + text[at + length :]
    _load(folder, text.encode("utf-8", "surrogatepass"), registry)


@SETTINGS
@given(data=st.data())
def test_a_subtree_of_a_valid_config_replaced(
    folder: Path, registry: Registry, data: st.DataObject
) -> None:
    doc = read_document(VALID, "valid.yaml")
    paths = sorted(doc.values, key=str)
    path = data.draw(st.sampled_from(paths))
    replacement = data.draw(trees)
    root = doc.data
    if not path:
        root = replacement
    else:
        parent = doc.get(path[:-1])
        parent[path[-1]] = replacement  # type: ignore[index]
    _load(folder, _dump(root).encode(), registry)
