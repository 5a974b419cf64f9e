"""What the loader needs to know about drivers: a :class:`DriverCatalog`.

``config/`` sits below ``drivers/``: it never imports a driver. Whoever loads a config and
wants the ``uses``/``with`` of its steps and targets checked hands the loader a catalog;
:class:`releasegate.drivers.api.Registry` is one.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel

DriverKind = Literal["step", "target", "source", "notifier"]
DRIVER_KINDS: tuple[DriverKind, ...] = ("step", "target", "source", "notifier")


class DriverCatalog(Protocol):
    """The installed drivers, by kind and name, and the options model of each."""

    def names(self, kind: DriverKind) -> list[str]:
        """The names ``uses`` may give for drivers of ``kind``."""
        ...

    def options_model(self, kind: DriverKind, name: str) -> type[BaseModel]:
        """The pydantic model of the ``with`` options of driver ``name`` (one of
        :meth:`names`). May import the driver's module: ``ImportError`` says it cannot."""
        ...
