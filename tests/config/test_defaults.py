"""A section left out of the config gets the same values as its model built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from releasegate.config.loader import load_config
from releasegate.config.models import Config, Environment, MatrixRow


def _minimal(tmp_path: Path) -> Config:
    path = tmp_path / "releasegate.yaml"
    path.write_text("project: p\nenvironments:\n  staging: {}\n", encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize(
    "section",
    ["notifications", "emergency", "incidents", "campaigns", "metrics", "backups",
     "announcement", "identity", "overrides", "samples", "audit", "versions"],
)
def test_an_omitted_section_equals_its_validated_defaults(tmp_path: Path, section: str) -> None:
    config = _minimal(tmp_path)
    found = getattr(config, section)
    model = type(found)
    assert isinstance(found, BaseModel)
    assert found == model.model_validate({})
    assert found.model_dump() == model.model_validate({}).model_dump()


def test_an_omitted_rollback_and_matrix_equal_their_validated_defaults(tmp_path: Path) -> None:
    config = _minimal(tmp_path)
    staging: Environment = config.environments["staging"]
    assert staging.rollback == type(staging.rollback).model_validate({})
    rows = config.incidents.matrix
    assert [r.severity for r in rows] == ["critical", "high", "medium", "low"]
    assert rows == [MatrixRow.model_validate(r.model_dump()) for r in rows]
    assert all(isinstance(r.min_impact, float) for r in rows)
