"""The user a single-sign-on proxy names in a header (oauth2-proxy's ``X-Forwarded-User``,
``X-Auth-Request-User``, …), believed only from the proxy itself.

Anyone can send the header: what makes it worth anything is that the request reached
``releasegate serve`` *from the proxy*, which strips and sets it after signing the person
in. So the header is read only when the connection's peer address is in
``identity.sso.trusted_proxies``; from any other address it is ignored, as if absent (the
request then needs an API token like any other).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from releasegate.config.models import Config
from releasegate.errors import IdentityError
from releasegate.identity.actor import Actor
from releasegate.identity.establish import actor_for

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items)


def trusted_peer(config: Config, peer: str | None) -> bool:
    """Whether ``peer`` (the connection's address, never a forwarded one) is one of the
    configured proxies."""
    sso = config.identity.sso
    if sso is None or not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:  # a Unix socket's peer, or a test client's made-up name
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in _networks(tuple(sso.trusted_proxies)))


def sso_actor(
    config: Config, headers: Mapping[str, str], peer: str | None, *, os_user: str
) -> Actor | None:
    """The actor the proxy's header names (``via="sso"``), or None when there is no
    header to believe: no ``identity.sso``, a peer that is not a trusted proxy, or no
    header on the request.

    Raises :class:`IdentityError` when a trusted proxy names someone who is not in
    ``users`` (when the config lists users): the proxy let in a person releasegate does
    not know."""
    sso = config.identity.sso
    if sso is None or not trusted_peer(config, peer):
        return None
    name = (headers.get(sso.header) or "").strip()
    if not name:
        return None
    if config.users and name not in config.users:
        raise IdentityError(
            f"the single-sign-on proxy names {name!r} in {sso.header}, who is not listed in users"
        )
    return actor_for(config, name, via="sso", os_user=os_user)
