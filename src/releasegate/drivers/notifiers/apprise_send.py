"""Sending one message through apprise, with errors that never show the URL's secrets.

apprise knows Slack, Teams, Mattermost, email, PagerDuty, Discord, generic JSON webhooks
and a hundred more by URL scheme. The ``apprise`` notifier driver is the same thing behind
the :class:`~releasegate.drivers.api.NotifierDriver` protocol.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from releasegate.drivers.api import Options
from releasegate.errors import DriverError

with warnings.catch_warnings():
    # apprise 2.x's email plugin (loaded on first use) imports the deprecated imghdr module, which is not ours to fix and must not fail a strict test run
    warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
    import apprise
    import apprise.utils.pgp  # the module that imports imghdr, loaded here once


@dataclass(frozen=True)
class Destination:
    """A parsed apprise URL: the URL itself (secret) and a label safe to print and record."""

    url: str
    label: str


def destination(url: str, *, where: str = "notify") -> Destination:
    """Parse ``url``; a malformed URL or an unknown scheme is a DriverError that names the
    scheme only."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        raise DriverError(f"{where}: not an apprise URL (write e.g. json://host/path, slack://…)")
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise DriverError(f"{where}: apprise cannot use this {scheme}:// URL (unknown "
                          "service, or a part of it is malformed)")
    private = str(plugin.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]
    return Destination(url, _label(private))


def _label(private: str) -> str:
    """How a destination is named in records and messages: the scheme and host only. A
    path can carry a token (a webhook's ``/hooks/T0K3N``, ``json://host/secret``) that
    apprise's privacy mode leaves as it is, so it is shown as ``/…``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(private)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return private.split("://", 1)[0] + "://…"
    tail = "/…" if parts.path.strip("/") else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def send_now(dest: Destination, *, title: str, body: str, timeout: float) -> None:
    """Send once (blocking); DriverError with apprise's reason, secrets masked."""
    plugin = apprise.Apprise.instantiate(dest.url, suppress_exceptions=True)
    if plugin is None:
        raise DriverError(f"{dest.label}: not an apprise URL")
    plugin.socket_connect_timeout = timeout
    plugin.socket_read_timeout = timeout
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        ok = plugin.notify(body=body, title=title)
    if not ok:
        lines = [ln for ln in captured.getvalue().splitlines() if ln.strip()]
        reason = lines[-1].split(" - ", 1)[-1] if lines else "it was not delivered"
        raise DriverError(f"{dest.label}: {_mask(reason, dest.url)}")


def _mask(text: str, url: str) -> str:
    # apprise's messages can echo a host path that holds a token: keep none of the URL
    for part in sorted(re.split(r"[/:@?&=]+", url.split("://", 1)[-1]), key=len, reverse=True):
        if len(part) >= 6:
            text = text.replace(part, "***")
    return text


class AppriseOptions(Options):
    """Options of the ``apprise`` notifier."""

    url: str = Field(description="An apprise URL; usually a secret reference.")
    timeout: float = Field(10.0, gt=0, description="Seconds before one send gives up.")


class AppriseNotifier:
    """A :class:`~releasegate.drivers.api.NotifierDriver` over apprise."""

    name: ClassVar[str] = "apprise"
    Options: ClassVar[type[AppriseOptions]] = AppriseOptions

    async def send(self, options: AppriseOptions, *, title: str, body: str) -> None:
        dest = destination(options.url)
        await asyncio.to_thread(send_now, dest, title=title, body=body, timeout=options.timeout)
