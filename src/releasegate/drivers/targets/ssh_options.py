"""Options of the ``ssh`` target, and how its hosts are cut into batches.

Kept apart from the rolling logic so that validating a config (every command does) imports
only pydantic models, never asyncio subprocess code.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Literal, TypeVar

from pydantic import Field, JsonValue, field_validator, model_validator

from releasegate.config.types import Duration
from releasegate.drivers.api import Options
from releasegate.drivers.balancers import BalancerSpec

T = TypeVar("T")
_PERCENT = re.compile(r"^\s*(\d{1,3})\s*%\s*$")
# OpenSSH options that would switch off the host-key check or the known_hosts file
_UNSAFE = re.compile(
    r"^\s*(stricthostkeychecking\s*[= ]\s*(no|off|accept-new)"
    r"|userknownhostsfile\s*[= ]\s*/dev/null"
    r"|globalknownhostsfile\s*[= ]\s*/dev/null)\s*$",
    re.I,
)
# what the app on each host is given by the ssh target itself
_OWNED_APP_KEYS = ("app", "versions", "state_dir")


class HostSpec(Options):
    """One host: where ssh reaches it, and what the load balancer calls it."""

    host: str = Field(description="Host name or address ssh connects to.")
    port: int | None = Field(None, ge=1, le=65535, description="ssh port (default: `port`).")
    user: str | None = Field(None, description="ssh user (default: `user`).")
    address: str | None = Field(
        None, description="Where the app on this host is reached (default: `host`)."
    )
    server: str | None = Field(
        None, description="The load balancer's name for this host (default: `host`)."
    )
    group: str | None = Field(
        None,
        description="Hosts of a group are rolled together, groups one after another "
        "(in the order they first appear); `batch` applies within each group.",
    )

    @property
    def name(self) -> str:
        return self.server or self.host


class SshOptions(Options):
    """Options of ``target: {uses: ssh, with: {...}}``."""

    hosts: list[HostSpec] = Field(
        min_length=1,
        description="The hosts, in rolling order: names, or "
        "`{host, port, user, address, server, group}`.",
    )
    batch: int | str = Field(
        1, description="Hosts switched at a time: `1`, `N`, or a share like `25%` (rounded up)."
    )
    max_failed_hosts: int = Field(
        0, ge=0, description="Hosts that may fail before the roll stops and is rolled back."
    )
    user: str | None = Field(None, description="ssh user (default: ssh's own choice).")
    port: int = Field(22, ge=1, le=65535, description="ssh port.")
    identity_file: str | None = Field(
        None, description="Private key file (relative to the config file); default: the agent."
    )
    known_hosts: str | None = Field(
        None,
        description="known_hosts file checked for every host key (relative to the config "
        "file); default: OpenSSH's own. Host keys are always checked.",
    )
    ssh_options: list[str] = Field(
        default_factory=list,
        description="Extra `-o` options for ssh (never one that disables host-key checking).",
    )
    connect_timeout: Duration = Field(
        timedelta(seconds=10), description="ssh's ConnectTimeout and each transfer's bound."
    )
    transfer: Literal["rsync", "scp"] = Field("rsync", description="How the artifact is shipped.")
    artifact: str = Field(
        "versions/{version}",
        description="The version's directory on this machine, relative to the config file; "
        "shipped as a tar archive and verified by sha256 on each host.",
    )
    dir: str = Field(
        ".releasegate/{environment}",
        description="releasegate's directory on each host (relative: to the ssh user's "
        "home); `{environment}` and `{host}` are replaced.",
    )
    python: str = Field(
        sys.executable,
        description="The interpreter on each host that has releasegate installed "
        "(default: the one running this releasegate).",
    )
    agent_env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment of releasegate on each host (e.g. `PYTHONPATH`); the "
        "supervisor it starts inherits it.",
    )
    app: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="The `local` target's options for the app on each host (not `app`, "
        "`versions`, `state_dir`); `host` defaults to `0.0.0.0`, `{address}` is replaced.",
    )
    health_url: str | None = Field(
        "http://{address}:{port}{health_path}",
        description="Checked from here on every host of a batch after its swap (2xx); "
        "`{address}`, `{port}`, `{health_path}` are replaced; null: none.",
    )
    smoke: list[str] | None = Field(
        None,
        description="A command run here for every host of a batch after its swap; "
        "`{host}`, `{address}`, `{port}`, `{version}` are replaced; non-zero fails the host.",
    )
    balancer: BalancerSpec | None = Field(
        None,
        description="The load balancer in front: each host is drained before its swap and "
        "made ready after (`{uses: haproxy|command, with: {...}}`).",
    )
    drain_timeout: Duration = Field(
        timedelta(seconds=30),
        description="How long a drained host's connections may take to finish.",
    )
    host_timeout: Duration = Field(
        timedelta(minutes=5), description="Bound on one host's whole swap."
    )

    @field_validator("hosts", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"host": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("batch")
    @classmethod
    def _batch(cls, value: int | str) -> int | str:
        parse_batch(value, 1)  # raises on a bad spelling
        return value

    @field_validator("ssh_options")
    @classmethod
    def _safe(cls, value: list[str]) -> list[str]:
        for option in value:
            if _UNSAFE.match(option):
                raise ValueError(
                    f"ssh option {option!r} would switch off host-key checking; "
                    "add the hosts' keys to known_hosts instead"
                )
        return value

    @model_validator(mode="after")
    def _app(self) -> SshOptions:
        owned = [k for k in _OWNED_APP_KEYS if k in self.app]
        if owned:
            raise ValueError(f"app: {', '.join(owned)} are set by the ssh target, not in app")
        app_options(self, address="host")  # the local target's own validation
        names = [h.name for h in self.hosts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"hosts: {', '.join(twice)} appear more than once")
        return self


def parse_batch(value: int | str, hosts: int) -> int:
    """Hosts per batch for ``value`` (``3`` or ``"25%"``) out of ``hosts``: at least 1."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"batch {value} must be at least 1")
        return min(value, max(hosts, 1))
    if isinstance(value, str):
        if value.strip().isdigit():
            return parse_batch(int(value), hosts)
        match = _PERCENT.match(value)
        if match and 0 < int(match.group(1)) <= 100:
            return max(1, math.ceil(hosts * int(match.group(1)) / 100))
    raise ValueError(f"batch {value!r} is not a number of hosts or a share like 25%")


def batches(items: list[T], value: int | str, group: Callable[[T], str | None]) -> list[list[T]]:
    """``items`` cut into batches: group by group (in the order groups first appear), each
    group in batches of :func:`parse_batch` of its own size; a batch never spans groups."""
    groups: dict[str | None, list[T]] = {}
    for item in items:
        groups.setdefault(group(item), []).append(item)
    cut: list[list[T]] = []
    for members in groups.values():
        size = parse_batch(value, len(members))
        cut += [members[i : i + size] for i in range(0, len(members), size)]
    return cut


def app_options(opts: SshOptions, *, address: str) -> dict[str, JsonValue]:
    """The ``local`` target's options for the app on the host reached at ``address``,
    validated (a ValueError says what is wrong)."""
    from releasegate.drivers.targets.local import LocalOptions

    raw = dict(opts.app)
    host = raw.get("host", "0.0.0.0")
    raw["host"] = host.replace("{address}", address) if isinstance(host, str) else host
    raw["app"] = "."
    LocalOptions.model_validate(raw)
    return raw
