"""The exported JSON Schema: keys as written in YAML, and it agrees with the loader."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from releasegate.config.document import read_document
from releasegate.config.schema import SCHEMA_ID, json_schema

VALID = Path(__file__).parent / "data" / "valid.yaml"


def _data(text: str) -> object:
    return read_document(text, "releasegate.yaml").data


def test_the_schema_names_keys_as_they_are_written() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] == "releasegate.yaml"
    assert {"$schema", "project", "environments"} <= set(schema["properties"])
    assert schema["required"] == ["project", "environments"]
    step = schema["$defs"]["Step"]["properties"]
    assert {"with", "if", "needs", "uses"} <= set(step)
    assert "for" in schema["$defs"]["VerifyStage"]["properties"]
    assert step["on_failure"]["enum"] == ["stop", "rollback", "warn"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_example_config_validates_against_the_schema() -> None:
    text = VALID.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=./releasegate.schema.json\n")
    jsonschema.validate(_data(text), json_schema())


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("on_failure: rollback}", "on_failure: rollbak}"), "'rollbak' is not one of"),
        (("soak: {normal: 2h", "soak: {normal: 2 hours"), "'2 hours' does not match"),
        (
            ("promote_from: staging", "promote_fro: staging"),
            "Additional properties are not allowed",
        ),
        (("project: ca-marketplace\n", ""), "'project' is a required property"),
    ],
)
def test_an_invalid_config_does_not_validate(change: tuple[str, str], complaint: str) -> None:
    text = VALID.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(jsonschema.ValidationError, match=r".") as caught:
        jsonschema.validate(_data(text.replace(*change, 1)), json_schema())
    assert complaint in caught.value.message
