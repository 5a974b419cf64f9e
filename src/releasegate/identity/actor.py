"""The actor: a person (or token) acting through the CLI, the web API or a worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import JsonValue

Via = Literal["single-person", "trust", "os", "ssh", "token", "sso", "system"]
"""How the identity was established:

* ``single-person`` — the config has no ``users:``: whoever runs releasegate may do
  everything, and the records say so;
* ``trust`` — a name given with ``--as`` / ``RELEASEGATE_USER`` (unverified);
* ``os`` — the operating-system user;
* ``ssh`` — the operating-system (or named) user, whose sign-offs carry an SSH signature
  verified against ``identity.allowed_signers``;
* ``token`` — an API token (the web API);
* ``sso`` — a header set by a trusted single-sign-on proxy (the web API);
* ``system`` — releasegate itself (a worker resuming a deployment, the engine).
"""


@dataclass(frozen=True)
class Actor:
    """Who asks for a use case, with the roles the config gives them."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    via: Via = "trust"
    os_user: str = "unknown"
    token_id: int | None = None

    @property
    def verified(self) -> bool:
        """False when the name is only what someone typed: ``mode: trust``, or a name other
        than the OS user's in single-person mode."""
        if self.via == "single-person":
            return self.name == self.os_user
        return self.via != "trust"

    @property
    def single_person(self) -> bool:
        """True when the config has no ``users:``: this actor may do everything."""
        return self.via == "single-person"

    def to_json(self) -> dict[str, JsonValue]:
        """What every record keeps about who acted."""
        return {
            "user": self.name,
            "roles": list[JsonValue](sorted(self.roles)),
            "via": self.via,
            "verified": self.verified,
            "os_user": self.os_user,
            **({"token_id": self.token_id} if self.token_id is not None else {}),
        }
