"""The JSON Schema of ``releasegate.yaml`` (for editors), and what the models allow where.

Editors pick the schema up from a first line such as::

    # yaml-language-server: $schema=./releasegate.schema.json
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from releasegate.config.models import Config

SCHEMA_ID = "https://releasegate.dev/schema/releasegate.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, keyed by the names written in YAML (aliases)."""
    body = Config.model_json_schema(by_alias=True, mode="validation")
    body.pop("title", None)
    body["patternProperties"] = {"^x-": {"description": "Ignored: a place for YAML anchors."}}
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        **body,
        "title": "releasegate.yaml",
        "description": "The configuration of releasegate: environments, gates, deploy "
        "steps, verification, rollback, windows, freezes and approvals.",
    }


def keys_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys a mapping may have at ``loc`` (a pydantic error location under ``model``)."""
    found = _model_at(model, loc)
    if found is None:
        return []
    return [field.alias or name for name, field in found.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    tp: object = model
    for segment in loc:
        tp = _step(tp, segment)
        if tp is None:
            return None
    for candidate in (_unwrap(tp), *_union_args(_unwrap(tp))):
        # e.g. Window | list[Window]: a mapping there is the model
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _step(tp: object, segment: str | int) -> object:
    tp = _unwrap(tp)
    members = _union_args(tp)
    if members:
        for arg in members:  # a union tag names the member pydantic tried
            if isinstance(segment, str) and _tag_names(arg, segment):
                return arg
        for arg in members:
            found = _step(arg, segment)
            if found is not None:
                return found
        return None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if segment in (name, field.alias):
                return field.annotation
        return None
    origin, args = get_origin(tp), get_args(tp)
    if origin is list and args and isinstance(segment, int):
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def tag_core(tag: str) -> str:
    """A pydantic union-member tag without validator wrappers:
    ``function-after[_ordered(), DateRange]`` → ``DateRange``."""
    while tag.startswith("function-") and tag.endswith("]") and "[" in tag:
        tag = tag[tag.index("[") + 1 : -1].rsplit(", ", 1)[-1]
    return tag


def _tag_names(arg: object, tag: str) -> bool:
    arg, tag = _unwrap(arg), tag_core(tag)
    if isinstance(arg, type) and issubclass(arg, BaseModel):
        return tag == arg.__name__
    if get_origin(arg) is list:
        return tag.startswith("list[")
    if get_origin(arg) is dict:
        return tag.startswith("dict[")
    return isinstance(arg, type) and tag == arg.__name__


def _unwrap(tp: object) -> object:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _union_args(tp: object) -> tuple[object, ...]:
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(a for a in get_args(tp) if a is not type(None))
    return ()
