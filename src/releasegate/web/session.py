"""The pages' session: a cookie holding the user's API token, and CSRF tokens for forms.

Signing in with a token (``/login``) sets an ``HttpOnly``, ``SameSite=Strict`` cookie with
the token itself, so a revoked or expired token ends the session at the next request, as
on the API. A form's CSRF token is an HMAC of the session's token under a key that lives
as long as the server: it cannot be read by another site nor reused with another session.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from releasegate.errors import IdentityError, PermissionDenied
from releasegate.identity import Actor
from releasegate.service import tokens
from releasegate.web.state import proxy_actor, state_of

COOKIE = "releasegate_session"


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if any."""
    return request.cookies.get(COOKIE) or None


def page_actor(request: Request) -> Actor | None:
    """The signed-in actor — the user a trusted single-sign-on proxy names, else the
    session's token — or None (the page then sends the visitor to ``/login``)."""
    state = state_of(request)
    try:
        found = proxy_actor(request)
        if found is not None:
            return found
    except IdentityError:
        return None
    secret = session_token(request)
    if secret is None:
        return None
    try:
        return tokens.authenticate(state.workspace, secret, os_user=state.os_user)
    except IdentityError:
        return None


def csrf_token(request: Request) -> str:
    """The CSRF token for the forms of this session (behind the SSO proxy, which keeps
    no cookie of ours: of the user it names)."""
    secret = session_token(request) or ""
    if not secret:
        try:
            found = proxy_actor(request)
        except IdentityError:
            found = None
        secret = f"sso:{found.name}" if found is not None else ""
    key = state_of(request).session_key
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, presented: str | None) -> None:
    """Refuse (403) a form whose CSRF token is not this session's."""
    if not presented or not hmac.compare_digest(presented, csrf_token(request)):
        raise PermissionDenied("the form's CSRF token is missing or not this session's: reload the page")
