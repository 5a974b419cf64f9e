"""Load balancers in front of a rolling deploy: ``haproxy`` (its runtime API) and ``command``.

A balancer is named in a config as ``{uses: haproxy|command, with: {...}}`` (the ``ssh``
target's ``balancer``, the ``lb-healthy`` and ``lb-maintenance`` steps). This module holds
only that spec, so validating a config imports no driver; :func:`open_balancer` in
``balancers.api`` builds the driver.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue, model_validator

from releasegate.drivers.api import Options


class BalancerSpec(Options):
    """``{uses: haproxy|command, with: {...}}``: which balancer, and its options."""

    uses: Literal["haproxy", "command"] = Field(description="The balancer driver.")
    with_: dict[str, JsonValue] = Field(
        default_factory=dict, alias="with", description="The driver's options."
    )

    @model_validator(mode="after")
    def _options(self) -> BalancerSpec:
        from releasegate.drivers.balancers.api import options_model

        options_model(self.uses).model_validate(self.with_)
        return self
