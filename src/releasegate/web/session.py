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
from releasegate.web.state import state_of

COOKIE = "releasegate_session"


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if any."""
    return request.cookies.get(COOKIE) or None


def page_actor(request: Request) -> Actor | None:
    """The signed-in actor, or None (the page then sends the visitor to ``/login``)."""
    secret = session_token(request)
    if secret is None:
        return None
    state = state_of(request)
    try:
        return tokens.authenticate(state.workspace, secret, os_user=state.os_user)
    except IdentityError:
        return None


def csrf_token(request: Request) -> str:
    """The CSRF token for the forms of this session."""
    secret = session_token(request) or ""
    key = state_of(request).session_key
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, presented: str | None) -> None:
    """Refuse (403) a form whose CSRF token is not this session's."""
    if not presented or not hmac.compare_digest(presented, csrf_token(request)):
        raise PermissionDenied("the form's CSRF token is missing or not this session's: reload the page")
