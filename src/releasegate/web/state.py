"""What one running app holds: the workspace it serves, its counters, its background runs."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from releasegate.identity import Actor, current_os_user
from releasegate.identity.sso import sso_actor
from releasegate.service import tokens
from releasegate.service.workspace import Workspace

WorkspaceFactory = Callable[[], Workspace]


@dataclass
class WebState:
    """The app's state (on ``app.state.releasegate``; no module-level singletons).

    One workspace serves every request (its store's connection pool is shared by the
    request threads); each deployment started through the API runs in a thread of its own
    with a workspace of its own, so a long run holds nothing a request needs.
    """

    factory: WorkspaceFactory
    started: float = field(default_factory=time.time)
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    os_user: str = field(default_factory=current_os_user)
    runs: list[threading.Thread] = field(default_factory=list)
    metrics_views: dict[tuple[object, ...], object] = field(default_factory=dict)
    """The metrics pages drawn lately, by :func:`releasegate.service.dashboard.view_key`."""
    session_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs the pages' CSRF tokens (a restart asks open forms to reload)."""
    _workspace: Workspace | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def workspace(self) -> Workspace:
        with self._lock:
            if self._workspace is None:
                ws = self.factory()
                # opened here, under the lock: request threads must not race to open two
                ws.config  # noqa: B018
                ws.store  # noqa: B018
                self._workspace = ws
            return self._workspace

    @property
    def reads_inline(self) -> bool:
        """Whether a short read may run on the event loop: the workspace is open already
        (opening it loads the config and migrates the store) and its store is SQLite.
        A token's ``last_used_at`` is written at most once a minute: then, and only then,
        such a read may wait for SQLite's write lock."""
        ws = self._workspace
        return ws is not None and ws.store.dialect == "sqlite"

    def close(self, *, wait: float = 0) -> None:
        """Close the shared workspace (and wait up to ``wait`` seconds for runs)."""
        for thread in self.runs:
            thread.join(timeout=wait)
        with self._lock:
            if self._workspace is not None:
                self._workspace.close()
                self._workspace = None


def state_of(request: Request) -> WebState:
    """The app's :class:`WebState`."""
    found: WebState = request.app.state.releasegate
    return found


def bearer_actor(request: Request) -> Actor:
    """The actor of the request: the user a trusted single-sign-on proxy names, else the
    ``Authorization: Bearer`` token's (IdentityError → 401)."""
    state = state_of(request)
    found = proxy_actor(request)
    if found is not None:
        return found
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        from releasegate.errors import IdentityError

        raise IdentityError(tokens.INVALID)
    return tokens.authenticate(state.workspace, secret.strip(), os_user=state.os_user)


def proxy_actor(request: Request) -> Actor | None:
    """The user named by ``identity.sso.header`` when the request comes straight from one
    of ``identity.sso.trusted_proxies`` (its connection's address: ``serve`` runs uvicorn
    without ``--proxy-headers``, so ``X-Forwarded-For`` cannot pose as the proxy); None
    otherwise, whatever headers the request carries."""
    state = state_of(request)
    config = state.workspace.config
    if config.identity.sso is None:
        return None
    peer = request.client.host if request.client else None
    return sso_actor(config, request.headers, peer, os_user=state.os_user)
