"""The smoke-flow format: models, loading from YAML files, ``{{variable}}`` interpolation."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, JsonValue, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from releasegate.drivers.api import Options
from releasegate.drivers.httpcheck_common import Expect
from releasegate.errors import DriverError

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class SmokeRequest(Options):
    """One request of a flow."""

    name: str | None = Field(None, description="A title; defaults to 'METHOD path'.")
    method: str = Field("GET", description="HTTP method.")
    path: str = Field(description="Path relative to the environment's url, or a full URL.")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    json_: JsonValue = Field(None, alias="json", description="A JSON body.")
    form: dict[str, str] = Field(default_factory=dict, description="A form-encoded body.")
    files: dict[str, str] = Field(
        default_factory=dict,
        description="Multipart file fields: field name → file path relative to the config.",
    )
    capture: dict[str, str] = Field(
        default_factory=dict,
        description="Variables to capture: name → json.PATH, header.NAME or status.",
    )
    expect: Expect = Field(default_factory=Expect, description="What the response must satisfy.")

    @property
    def title(self) -> str:
        return self.name or f"{self.method.upper()} {self.path}"


class Flow(Options):
    """A named list of requests run in order; the first failing request ends the flow."""

    name: str = Field(description="The flow's name, e.g. login.")
    requests: list[SmokeRequest] = Field(min_length=1, description="The requests, in order.")


def interpolate(value: JsonValue, variables: dict[str, str]) -> JsonValue:
    """Replace ``{{name}}`` in every string inside ``value``; an unknown name raises."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                raise DriverError(f"unknown variable {{{{{name}}}}}")
            return variables[name]

        return _VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    return value


def _flows_in_file(path: Path, shown: str) -> list[Flow]:
    try:
        data = YAML(typ="safe").load(path.read_text())
    except (OSError, YAMLError) as exc:
        raise DriverError(f"{shown}: cannot read smoke flows: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    flows: list[Flow] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and "name" not in item:
            item = {"name": path.stem if len(items) == 1 else f"{path.stem}[{index}]", **item}
        try:
            flows.append(Flow.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DriverError(f"{shown}: {where}: {first['msg']}") from exc
    return flows


def load_flows(spec: str, workdir: Path) -> list[Flow]:
    """Flows from a YAML file, or every ``*.yaml``/``*.yml`` file of a directory (sorted)."""
    path = workdir / spec
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise DriverError(f"{spec}: no *.yaml smoke flows in this directory")
    elif path.is_file():
        files = [path]
    else:
        raise DriverError(f"{spec}: no such smoke flow file or directory")
    flows: list[Flow] = []
    for file in files:
        flows.extend(_flows_in_file(file, str(file.relative_to(workdir))))
    return flows
